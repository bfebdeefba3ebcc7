import { afterAll, describe, expect, it } from 'vitest';
import { scriptFixture } from './script-fixture.ts';

describe('take-send-slot.lua', () => {
  const f = scriptFixture();
  const { redis } = f;
  afterAll(() => f.close());

  /** Redis's clock in milliseconds, as the script reads it. */
  const redisNow = async () => {
    const [seconds, micros] = await redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  };
  const take = (key: string, max: number, durationMs: number, member: string, last?: { member: string; at: number }) =>
    redis.evergreenTakeSendSlot(key, max, durationMs, member, last?.member ?? '', last?.at ?? 0);

  it("grants up to max slots in a window, each scored at Redis's clock, and expires the log with the window", async () => {
    const key = f.key('grants');
    const before = await redisNow();
    const answers = [await take(key, 2, 10_000, 'm1'), await take(key, 2, 10_000, 'm2')];
    const after = await redisNow();
    for (const [wait, now] of answers) {
      expect(wait).toBe(0);
      expect(now).toBeGreaterThanOrEqual(before);
      expect(now).toBeLessThanOrEqual(after);
    }
    expect(await redis.zscore(key, 'm1')).toBe(String(answers[0]![1]));
    expect(await redis.zcard(key)).toBe(2);
    expect(await redis.pttl(key)).toBeGreaterThan(9_000);
  });

  it('answers a full window with the wait until its oldest slot leaves, and adds nothing', async () => {
    const key = f.key('full');
    const [, grantedAt] = await take(key, 1, 10_000, 'm1');
    const [wait, now] = await take(key, 1, 10_000, 'm2');
    expect(wait).toBe(grantedAt + 10_000 - now + 1);
    expect(await redis.zrange(key, 0, -1)).toEqual(['m1']);
  });

  it('frees the slots older than the window', async () => {
    const key = f.key('trim');
    const now = await redisNow();
    await redis.zadd(key, now - 5_000, 'old', now - 100, 'recent');
    const [wait] = await take(key, 2, 1_000, 'm1');
    expect(wait).toBe(0);
    expect((await redis.zrange(key, 0, -1)).sort()).toEqual(['m1', 'recent']);
  });

  it("takes the window as full for one duration when the caller's last slot, still inside it, is gone (the log was lost)", async () => {
    const key = f.key('lost');
    const [, grantedAt] = await take(key, 4, 2_000, 'mine');
    await redis.del(key); // what FLUSHALL, or a restart that lost its last writes, does to the log
    const [wait, now] = await take(key, 4, 2_000, 'next', { member: 'mine', at: grantedAt });
    expect(wait).toBe(2_000);
    const members = await redis.zrange(key, 0, -1, 'WITHSCORES');
    expect(members.filter((_, i) => i % 2 === 0).every((m) => m.startsWith(`lost:${now}:`))).toBe(true);
    expect(members.filter((_, i) => i % 2 === 1).every((score) => score === String(now))).toBe(true);
    expect(members).toHaveLength(8);
    expect(await redis.pttl(key)).toBeGreaterThan(1_000);
  });

  it('grants as usual when the last slot is still in the log, or already older than the window', async () => {
    const key = f.key('present');
    const [, grantedAt] = await take(key, 3, 2_000, 'mine');
    expect((await take(key, 3, 2_000, 'next', { member: 'mine', at: grantedAt }))[0]).toBe(0);
    const expired = f.key('expired');
    const [wait] = await take(expired, 3, 2_000, 'm1', { member: 'gone', at: (await redisNow()) - 2_500 });
    expect(wait).toBe(0);
    expect(await redis.zrange(expired, 0, -1)).toEqual(['m1']);
  });

  it('keeps its contract after SCRIPT FLUSH (EVALSHA falls back to EVAL)', async () => {
    const key = f.key('flushed');
    expect((await take(key, 1, 10_000, 'm1'))[0]).toBe(0);
    await f.flushScripts();
    const [wait] = await take(key, 1, 10_000, 'm2');
    expect(wait).toBeGreaterThan(9_000);
    expect(await redis.zrange(key, 0, -1)).toEqual(['m1']);
    expect(await f.loaded('evergreenTakeSendSlot')).toBe(true);
  });
});
