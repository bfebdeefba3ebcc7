import { Redis, type RedisOptions } from 'ioredis';

/**
 * Two kinds of Redis client (DESIGN.md, BullMQ facts): workers block and must ride out an outage, so their commands
 * wait for the connection forever; producers must fail fast, so a Redis outage turns into "scheduling pending"
 * instead of a hung enqueueConnection().
 */
export function createRedis(url: string, role: 'worker' | 'producer', extra: RedisOptions = {}): Redis {
  const base: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000, commandTimeout: 5_000 };
  return new Redis(url, {
    ...base,
    // Reconnect forever, backing off to 2 s: an outage costs a delay, never the process.
    retryStrategy: (times) => Math.min(times * 100, 2_000),
    ...extra,
  });
}
