export { createRedis } from './redis.ts';
export { queueName, REFRESH_JOB, type RefreshJobData } from './queue-names.ts';
export { ConnectionLock, type HeldLock } from './connection-lock.ts';
export {
  FINISHED_JOB_RETENTION,
  PAUSE_ONLY_LIMITER,
  MAX_ADD_DELAY_MS,
  RefreshQueues,
  refreshJob,
  type ScheduleItem,
  type ScheduleManyResult,
  type ScheduleResult,
} from './refresh-queues.ts';
export { SchedulerKeys } from './scheduler-keys.ts';
export { SendSlots, type RateLimit } from './send-slots.ts';
export { ProviderBreakers, type BreakerAnswers, type RecordedAnswer } from './provider-breakers.ts';
export { adviseOnRedisSettings, readRedisSettings, type RedisAdvice } from './redis-settings.ts';
export { QueueLayout, shardOf, type QueueLayoutOptions } from './queue-layout.ts';
export type { RedisClient } from './redis.ts';
export { COMMAND_SCRIPTS } from './commands.ts';
