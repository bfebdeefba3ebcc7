import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { SendSlots } from '../src/send-slots.ts';
import { until } from '@evergreen/test-support/until';

describe('SendSlots', () => {
  const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
  const prefix = `evg-slots-${randomBytes(4).toString('hex')}`;
  const slots = new SendSlots(redis, prefix);

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('grants exactly max slots to many concurrent takers, and tells the others when one frees up', async () => {
    const limit = { max: 5, durationMs: 10_000 };
    const waits = await Promise.all(Array.from({ length: 40 }, () => slots.take('p1', limit)));
    expect(waits.filter((w) => w === 0)).toHaveLength(5);
    for (const w of waits.filter((w) => w > 0)) {
      expect(w).toBeGreaterThan(9_000);
      expect(w).toBeLessThanOrEqual(10_001);
    }
    // Another provider has its own window.
    expect(await slots.take('p2', limit)).toBe(0);
  });

  it('frees a slot once the oldest request leaves the window, and never more than max in any span', async () => {
    const limit = { max: 3, durationMs: 300 };
    // Each grant happened on Redis's clock somewhere between the call and its answer.
    const granted: { sent: number; answered: number }[] = [];
    const deadline = Date.now() + 5_000;
    while (granted.length < 9 && Date.now() < deadline) {
      const sent = Date.now();
      const wait = await slots.take('p3', limit);
      if (wait === 0) granted.push({ sent, answered: Date.now() });
      else expect(wait).toBeLessThanOrEqual(301);
    }
    expect(granted).toHaveLength(9);
    // Any four consecutive grants span at least the window (1 ms for the clocks' rounding).
    for (let i = 3; i < granted.length; i++) {
      expect(granted[i]!.answered - granted[i - 3]!.sent).toBeGreaterThanOrEqual(299);
    }
  });

  it('takes the window as full when Redis lost it (a flush) while one of our own slots was still in it', async () => {
    const limit = { max: 4, durationMs: 1_500 };
    expect(await slots.take('p5', limit)).toBe(0);
    await redis.del(slots.key('p5')); // what FLUSHALL, or a restart that lost its last writes, does to the log
    const wait = await slots.take('p5', limit);
    expect(wait).toBe(1_500);
    // Full for every process, including one that never took a slot here (a replacement worker).
    expect(await new SendSlots(redis, prefix).take('p5', limit)).toBeGreaterThan(1_000);
    expect(await redis.zcard(slots.key('p5'))).toBe(4);
  });

  it('does not mistake a window that simply expired for a lost one', async () => {
    const limit = { max: 2, durationMs: 200 };
    expect(await slots.take('p6', limit)).toBe(0);
    await until(async () => (await redis.exists(slots.key('p6'))) === 0, { what: 'the window expired' });
    expect(await slots.take('p6', limit)).toBe(0);
    expect(await slots.take('p6', limit)).toBe(0);
  });

  it('keeps nothing but instants and random members in Redis, and expires them', async () => {
    await slots.take('p4', { max: 2, durationMs: 60_000 });
    expect(await redis.type(slots.key('p4'))).toBe('zset');
    expect(await redis.pttl(slots.key('p4'))).toBeGreaterThan(0);
  });
});
