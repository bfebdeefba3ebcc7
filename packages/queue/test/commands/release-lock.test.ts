import { afterAll, describe, expect, it } from 'vitest';
import { scriptFixture } from './script-fixture.ts';

describe('release-lock.lua', () => {
  const f = scriptFixture();
  const { redis } = f;
  afterAll(() => f.close());

  it("deletes the lock for its owner's token", async () => {
    const key = f.key('owned');
    await redis.set(key, 'owner-a', 'PX', 10_000);
    expect(await redis.evergreenReleaseLock(key, 'owner-a')).toBe(1);
    expect(await redis.exists(key)).toBe(0);
  });

  it("refuses another owner's token and leaves the lock and its TTL as they were", async () => {
    const key = f.key('theirs');
    await redis.set(key, 'owner-b', 'PX', 10_000);
    expect(await redis.evergreenReleaseLock(key, 'owner-a')).toBe(0);
    expect(await redis.get(key)).toBe('owner-b');
    expect(await redis.pttl(key)).toBeGreaterThan(9_000);
  });

  it('answers 0 for a lock that lapsed', async () => {
    expect(await redis.evergreenReleaseLock(f.key('lapsed'), 'owner-a')).toBe(0);
  });

  it('keeps its contract after SCRIPT FLUSH (EVALSHA falls back to EVAL)', async () => {
    const key = f.key('flushed');
    await redis.set(key, 'owner-b', 'PX', 10_000);
    expect(await redis.evergreenReleaseLock(key, 'owner-a')).toBe(0);
    await f.flushScripts();
    expect(await redis.evergreenReleaseLock(key, 'owner-a')).toBe(0);
    expect(await redis.get(key)).toBe('owner-b');
    expect(await redis.evergreenReleaseLock(key, 'owner-b')).toBe(1);
    expect(await redis.exists(key)).toBe(0);
    expect(await f.loaded('evergreenReleaseLock')).toBe(true);
  });
});
