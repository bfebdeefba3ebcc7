import type { Cluster, Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

/** Requests a key may make; the next ones wait for the window's end. */
export interface KeyRateLimits {
  perMinute: number;
}

export interface KeyRateLimiter {
  /** Counts one request of `keyId`; null when it may go on, else the milliseconds until it may. */
  consume(keyId: string): Promise<number | null>;
}

/**
 * Fixed one-minute windows per key id, counted in Redis so every api process shares one budget per key
 * (rate-limiter-flexible). While Redis does not answer, each process counts in memory instead (its insurance limiter):
 * an outage then loosens the limit by the number of processes, never turns it off or fails the request.
 */
export function keyRateLimiter(limits: KeyRateLimits, redis: Redis | Cluster, prefix: string): KeyRateLimiter {
  const options = { points: limits.perMinute, duration: 60 };
  const counter = new RateLimiterRedis({
    ...options,
    storeClient: redis,
    keyPrefix: `${prefix}:api-rate`,
    insuranceLimiter: new RateLimiterMemory(options),
  });
  return {
    async consume(keyId) {
      try {
        await counter.consume(keyId);
        return null;
      } catch (refusal) {
        if (refusal instanceof RateLimiterRes) return Math.max(1, refusal.msBeforeNext);
        throw refusal;
      }
    },
  };
}
