import { afterAll, describe, expect, it } from 'vitest';
import { scriptFixture } from './script-fixture.ts';

describe('extend-lock.lua', () => {
  const f = scriptFixture();
  const { redis } = f;
  afterAll(() => f.close());

  it("gives the lock a new TTL for its owner's token", async () => {
    const key = f.key('owned');
    await redis.set(key, 'owner-a', 'PX', 1_000);
    expect(await redis.evergreenExtendLock(key, 'owner-a', 60_000)).toBe(1);
    expect(await redis.pttl(key)).toBeGreaterThan(59_000);
    expect(await redis.get(key)).toBe('owner-a');
  });

  it("refuses another owner's token and leaves the TTL as it was", async () => {
    const key = f.key('theirs');
    await redis.set(key, 'owner-b', 'PX', 5_000);
    expect(await redis.evergreenExtendLock(key, 'owner-a', 60_000)).toBe(0);
    expect(await redis.pttl(key)).toBeLessThanOrEqual(5_000);
    expect(await redis.get(key)).toBe('owner-b');
  });

  it('answers 0 for a lock that lapsed, and does not bring it back', async () => {
    const key = f.key('lapsed');
    expect(await redis.evergreenExtendLock(key, 'owner-a', 60_000)).toBe(0);
    expect(await redis.exists(key)).toBe(0);
  });

  it('keeps its contract after SCRIPT FLUSH (EVALSHA falls back to EVAL)', async () => {
    const key = f.key('flushed');
    await redis.set(key, 'owner-b', 'PX', 5_000);
    expect(await redis.evergreenExtendLock(key, 'owner-b', 6_000)).toBe(1);
    await f.flushScripts();
    expect(await redis.evergreenExtendLock(key, 'owner-a', 60_000)).toBe(0);
    expect(await redis.pttl(key)).toBeLessThanOrEqual(6_000);
    expect(await redis.evergreenExtendLock(key, 'owner-b', 60_000)).toBe(1);
    expect(await redis.pttl(key)).toBeGreaterThan(59_000);
    expect(await f.loaded('evergreenExtendLock')).toBe(true);
  });
});
