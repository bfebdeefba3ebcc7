import { Sandbox } from '@evergreen/test-support/sandbox';
import { until } from '@evergreen/test-support/until';
import { afterAll, describe, expect, it } from 'vitest';
import { keyRateLimiter } from '../src/key-rate-limiter.ts';

const sandbox = new Sandbox();
afterAll(() => sandbox.cleanup());

/** Consumes until the first refusal; how many went through. */
async function drainBudget(limiter: ReturnType<typeof keyRateLimiter>, keyId: string): Promise<number> {
  let allowed = 0;
  while ((await limiter.consume(keyId)) === null) allowed += 1;
  return allowed;
}

describe('keyRateLimiter across processes', () => {
  it('gives every api process one budget per key, the shared total read back from Redis', async () => {
    const first = keyRateLimiter({ perMinute: 10, flushIntervalMs: 20 }, sandbox.redis, sandbox.prefix);
    const second = keyRateLimiter({ perMinute: 10, flushIntervalMs: 20 }, sandbox.redis, sandbox.prefix);
    try {
      expect(await drainBudget(first, 'k1')).toBe(10);
      // The first process's requests reach Redis with its next report...
      await until(async () => (await sharedTotal('k1')) === 10, {
        what: "the first process's ten requests in the shared count",
      });
      // ...and a second process learns them before it lets its first request of the key through.
      expect(await second.consume('k1')).toBeGreaterThan(0);
      expect(await second.consume('other key')).toBeNull();
    } finally {
      first.close();
      second.close();
    }
  });

  it('splits one budget between processes that use it at once', async () => {
    const limiters = [1, 2, 3].map(() =>
      keyRateLimiter({ perMinute: 30, flushIntervalMs: 10 }, sandbox.redis, sandbox.prefix),
    );
    try {
      // Each process's first request is confirmed against Redis; the rest are decided locally and reported.
      let allowed = 0;
      for (let round = 0; round < 40; round++) {
        for (const limiter of limiters) if ((await limiter.consume('k2')) === null) allowed += 1;
        await new Promise((resolve) => setImmediate(resolve));
      }
      await until(async () => (await sharedTotal('k2')) >= allowed, { what: 'every allowed request reported' });
      // Exact in one process; across processes, over by at most what each may let through unreported near the end.
      expect(allowed).toBeGreaterThanOrEqual(30);
      expect(allowed).toBeLessThanOrEqual(30 + limiters.length);
    } finally {
      for (const limiter of limiters) limiter.close();
    }
  });

  it('keeps counting in memory while Redis does not answer', async () => {
    const broken = sandbox.redis.duplicate({ lazyConnect: true, enableOfflineQueue: false });
    broken.on('error', () => {});
    const limiter = keyRateLimiter({ perMinute: 3, flushIntervalMs: 10 }, broken, sandbox.prefix);
    try {
      expect(await drainBudget(limiter, 'k3')).toBe(3);
    } finally {
      limiter.close();
      broken.disconnect();
    }
  });
});

/** What Redis holds for `keyId`, over every window. */
async function sharedTotal(keyId: string): Promise<number> {
  const names = await sandbox.redis.keys(`${sandbox.prefix}:api-rate:${keyId}:*`);
  const values = names.length === 0 ? [] : await sandbox.redis.mget(...names);
  return values.reduce((sum, value) => sum + Number(value ?? 0), 0);
}
