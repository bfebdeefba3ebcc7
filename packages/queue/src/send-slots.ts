import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A sliding-window log per provider: the instants of the requests sent in the last `durationMs`, kept in a sorted
 * set, trimmed and counted in one script, on Redis's clock so every worker agrees. Taken right before a request
 * leaves, so the provider's declared rate holds at the provider, in any span, for scheduled and on-demand refreshes
 * alike. BullMQ's limiter counts job starts in fixed windows instead: a chaos run measured 26 requests in a second
 * against a declared 25, as starts delayed by a slow lock or read bunched up into one burst of requests.
 *
 * Redis can lose the log (a FLUSHALL, a restart that drops its last second of writes), and the requests it held still
 * count at the provider: a chaos run measured 18 requests in 707 ms against 13 per second right after a flush. Each
 * process remembers its own last slot; when that slot is missing from the log while still inside the window, the log
 * was lost, and the window is taken as full for one duration.
 */
const TAKE = `
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local max = tonumber(ARGV[1])
local duration = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', nowMs - duration)
if ARGV[4] ~= '' and tonumber(ARGV[5]) > nowMs - duration and not redis.call('ZSCORE', KEYS[1], ARGV[4]) then
  local card = redis.call('ZCARD', KEYS[1])
  for i = card + 1, max do
    redis.call('ZADD', KEYS[1], nowMs, 'lost:' .. nowMs .. ':' .. i)
  end
  redis.call('PEXPIRE', KEYS[1], duration)
  return {duration, nowMs}
end
if redis.call('ZCARD', KEYS[1]) < max then
  redis.call('ZADD', KEYS[1], nowMs, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], duration)
  return {0, nowMs}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {math.max(1, tonumber(oldest[2]) + duration - nowMs + 1), nowMs}
`;

export interface RateLimit {
  max: number;
  durationMs: number;
}

export class SendSlots {
  readonly #redis: Redis;
  readonly #prefix: string;
  /** Per provider, this process's last slot: its member and when Redis granted it (Redis's clock). */
  readonly #last = new Map<string, { member: string; at: number }>();

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#redis.defineCommand('evergreenTakeSlot', { numberOfKeys: 1, lua: TAKE });
  }

  key(providerId: string): string {
    return `${this.#prefix}:rate:${providerId}`;
  }

  /** Takes a slot for one request now (0), or says in how many milliseconds one frees up. */
  async take(providerId: string, limit: RateLimit): Promise<number> {
    const member = randomBytes(8).toString('base64url');
    // defineCommand adds the method at run time; ioredis's types cannot know it.
    const call = (this.#redis as unknown as Record<string, (...args: unknown[]) => Promise<[number, number]>>)
      .evergreenTakeSlot!;
    const last = this.#last.get(providerId);
    const [wait, now] = await call.call(
      this.#redis,
      this.key(providerId),
      limit.max,
      limit.durationMs,
      member,
      last?.member ?? '',
      last?.at ?? 0,
    );
    if (Number(wait) === 0) this.#last.set(providerId, { member, at: Number(now) });
    return Number(wait);
  }
}
