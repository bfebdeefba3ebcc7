import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, inject, it, vi } from 'vitest';
import { ProviderBreakers } from '../../src/provider-breakers.ts';

describe('ProviderBreakers (commands/provider-breaker.lua)', () => {
  const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
  const prefix = `evg-breaker-${randomBytes(4).toString('hex')}`;
  const breakers = new ProviderBreakers(redis, prefix);
  const policy = { windowMs: 60_000, probeIntervalMs: 10_000 };
  const why = { failures: 3, requests: 3, windowMs: 60_000, reason: 'server_error' };
  const failure = { working: 0, failures: 1 };
  const working = { working: 1, failures: 0 };

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('counts requests and failures of the window, per provider, and says when the hash is new', async () => {
    const first = await breakers.record('p1', failure, policy);
    expect(first).toMatchObject({ state: 'closed', requests: 1, failures: 1, fresh: true });
    await breakers.record('p1', working, policy);
    const third = await breakers.record('p1', working, policy);
    expect(third).toMatchObject({ state: 'closed', requests: 3, failures: 1, fresh: false });
    expect(await breakers.record('p2', working, policy)).toMatchObject({ requests: 1, failures: 0, fresh: true });
  });

  it("counts a process's batch of working answers, with the failure that flushes it, in one call", async () => {
    expect(await breakers.record('p1b', { working: 7, failures: 0 }, policy)).toMatchObject({
      requests: 7,
      failures: 0,
      fresh: true,
    });
    expect(await breakers.record('p1b', { working: 5, failures: 1 }, policy)).toMatchObject({
      requests: 13,
      failures: 1,
      fresh: false,
    });
  });

  it('drops buckets older than the window', async () => {
    const key = breakers.key('p3');
    await redis.hset(key, 'since', 1, 'r:1', 50, 'f:1', 50);
    const answer = await breakers.record('p3', failure, policy);
    expect(answer).toMatchObject({ requests: 1, failures: 1 });
    expect(await redis.hexists(key, 'r:1')).toBe(0);
  });

  it('opens once across many concurrent callers, and only the first is told', async () => {
    const opened = await Promise.all(Array.from({ length: 10 }, () => breakers.open('p4', why, policy)));
    expect(opened.filter((at) => at !== null)).toHaveLength(1);
    const state = await breakers.state('p4');
    expect(state).toMatchObject({ kind: 'open', why });
    if (state.kind !== 'open') throw new Error('not open');
    expect(state.nextProbeAt - state.openedAt).toBe(10_000);
  });

  it('grants one probe per interval across concurrent callers, and tells the rest how long to wait', async () => {
    await breakers.open('p5', why, { probeIntervalMs: 1 });
    await new Promise((resolve) => setTimeout(resolve, 5)); // the first probe is due 1 ms after opening
    const waits = await Promise.all(Array.from({ length: 10 }, () => breakers.takeProbe('p5', policy)));
    expect(waits.filter((w) => w === 0)).toHaveLength(1);
    for (const w of waits.filter((w) => w > 0)) expect(w).toBeGreaterThan(9_000);
    // A closed breaker lets every caller send.
    expect(await breakers.takeProbe('p-closed', policy)).toBe(0);
  });

  it('closes once, clears the window, and keeps when it closed for the ramp', async () => {
    await breakers.record('p6', failure, policy);
    const openedAt = await breakers.open('p6', why, policy);
    const closes = await Promise.all([breakers.close('p6'), breakers.close('p6')]);
    const closed = closes.filter((c) => c !== null);
    expect(closed).toEqual([{ openedAt, closedAt: expect.any(Number) }]);
    const state = await breakers.state('p6');
    expect(state).toEqual({ kind: 'closed', closedAt: closed[0]!.closedAt });
    expect(await breakers.record('p6', working, policy)).toMatchObject({ requests: 1, failures: 0 });
    expect(await breakers.close('p6')).toBeNull();
  });

  it('a breaker Redis lost is closed, and reports every provider in one call', async () => {
    await breakers.open('p7', why, policy);
    await redis.del(breakers.key('p7')); // what FLUSHALL does
    const states = await breakers.states(['p7', 'p4', 'nothing']);
    expect(states.get('p7')).toEqual({ kind: 'closed', closedAt: null });
    expect(states.get('p4')?.kind).toBe('open');
    expect(states.get('nothing')).toEqual({ kind: 'closed', closedAt: null });
  });

  it('concurrent state reads of a provider share one HMGET; sequential ones each send their own', async () => {
    const client = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
    try {
      const counted = new ProviderBreakers(client, prefix);
      const hmget = vi.spyOn(client, 'hmget');
      await counted.open('p9', why, policy);

      const [a, b] = await Promise.all([counted.state('p9'), counted.state('p9')]);
      expect(hmget).toHaveBeenCalledTimes(1);
      expect(a).toMatchObject({ kind: 'open', why });
      expect(b).toBe(a);

      // Settled reads are not kept: the next caller reads again, and sees a change made meanwhile.
      await counted.close('p9');
      expect((await counted.state('p9')).kind).toBe('closed');
      expect(await counted.state('p9')).toMatchObject({ kind: 'closed' });
      expect(hmget).toHaveBeenCalledTimes(3);

      // Another provider's read is its own.
      await Promise.all([counted.state('p9'), counted.state('p-other')]);
      expect(hmget).toHaveBeenCalledTimes(5);
    } finally {
      client.disconnect();
    }
  });

  it('a failed state read fails every caller that joined it, and the next read tries again', async () => {
    const client = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
    try {
      const counted = new ProviderBreakers(client, prefix);
      const hmget = vi.spyOn(client, 'hmget').mockRejectedValueOnce(new Error('redis away'));
      const reads = await Promise.allSettled([counted.state('p10'), counted.state('p10')]);
      expect(reads.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      expect(await counted.state('p10')).toEqual({ kind: 'closed', closedAt: null });
      expect(hmget).toHaveBeenCalledTimes(2);
    } finally {
      client.disconnect();
    }
  });

  it('ramp slots: at most the allowance per second', async () => {
    const waits = await Promise.all(Array.from({ length: 12 }, (_, i) => breakers.takeRampSlot('p8', 5, `m${i}`)));
    expect(waits.filter((w) => w === 0)).toHaveLength(5);
    for (const w of waits.filter((w) => w > 0)) expect(w).toBeLessThanOrEqual(1_001);
  });
});
