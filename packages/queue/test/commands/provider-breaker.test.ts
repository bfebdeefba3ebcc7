import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ProviderBreakers } from '../../src/provider-breakers.ts';

describe('ProviderBreakers (commands/provider-breaker.lua)', () => {
  const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
  const prefix = `evg-breaker-${randomBytes(4).toString('hex')}`;
  const breakers = new ProviderBreakers(redis, prefix);
  const policy = { windowMs: 60_000, probeIntervalMs: 10_000 };
  const why = { failures: 3, requests: 3, windowMs: 60_000, reason: 'server_error' };

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('counts requests and failures of the window, per provider, and says when the hash is new', async () => {
    const first = await breakers.record('p1', 'failure', policy);
    expect(first).toMatchObject({ state: 'closed', requests: 1, failures: 1, fresh: true });
    await breakers.record('p1', 'answered', policy);
    const third = await breakers.record('p1', 'success', policy);
    expect(third).toMatchObject({ state: 'closed', requests: 3, failures: 1, fresh: false });
    expect(await breakers.record('p2', 'success', policy)).toMatchObject({ requests: 1, failures: 0, fresh: true });
  });

  it('drops buckets older than the window', async () => {
    const key = breakers.key('p3');
    await redis.hset(key, 'since', 1, 'r:1', 50, 'f:1', 50);
    const answer = await breakers.record('p3', 'failure', policy);
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
    await breakers.record('p6', 'failure', policy);
    const openedAt = await breakers.open('p6', why, policy);
    const closes = await Promise.all([breakers.close('p6'), breakers.close('p6')]);
    const closed = closes.filter((c) => c !== null);
    expect(closed).toEqual([{ openedAt, closedAt: expect.any(Number) }]);
    const state = await breakers.state('p6');
    expect(state).toEqual({ kind: 'closed', closedAt: closed[0]!.closedAt });
    expect(await breakers.record('p6', 'success', policy)).toMatchObject({ requests: 1, failures: 0 });
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

  it('ramp slots: at most the allowance per second', async () => {
    const waits = await Promise.all(Array.from({ length: 12 }, (_, i) => breakers.takeRampSlot('p8', 5, `m${i}`)));
    expect(waits.filter((w) => w === 0)).toHaveLength(5);
    for (const w of waits.filter((w) => w > 0)) expect(w).toBeLessThanOrEqual(1_001);
  });
});
