import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { adviseOnRedisSettings, CHECKED_REDIS_SETTINGS, readRedisSettings } from '../src/redis-settings.ts';

describe('adviseOnRedisSettings', () => {
  it('says nothing for noeviction and a listpack value that fits a job hash', () => {
    expect(adviseOnRedisSettings({ 'maxmemory-policy': 'noeviction', 'hash-max-listpack-value': '64' })).toEqual([]);
  });

  it('says nothing of settings it could not read', () => {
    expect(adviseOnRedisSettings({})).toEqual([]);
  });

  it('names an evicting policy and what to set instead', () => {
    expect(adviseOnRedisSettings({ 'maxmemory-policy': 'volatile-lru' })).toEqual([
      expect.objectContaining({ setting: 'maxmemory-policy', found: 'volatile-lru', want: 'noeviction' }),
    ]);
  });

  it("names a listpack threshold lowered below Redis's default, under either of its names", () => {
    for (const name of ['hash-max-listpack-value', 'hash-max-ziplist-value']) {
      expect(adviseOnRedisSettings({ [name]: '32' })).toEqual([
        expect.objectContaining({ setting: 'hash-max-listpack-value', found: '32', want: '64' }),
      ]);
    }
  });
});

describe('readRedisSettings (real Redis)', () => {
  const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
  afterAll(() => redis.disconnect());

  it('reads what CONFIG GET answers', async () => {
    const settings = await readRedisSettings(redis);
    const [, policy] = (await redis.call('CONFIG', 'GET', 'maxmemory-policy')) as string[];
    expect(settings['maxmemory-policy']).toBe(policy);
    expect(Object.keys(settings).every((k) => (CHECKED_REDIS_SETTINGS as readonly string[]).includes(k))).toBe(true);
  });

  it('reads nothing, without throwing, from a Redis that refuses CONFIG', async () => {
    const refusing = new Redis(inject('redisUrl'), { lazyConnect: true });
    // A client whose CONFIG fails the way a managed service's does: an error reply.
    refusing.call = async () => {
      throw new Error("ERR unknown command 'CONFIG'");
    };
    await expect(readRedisSettings(refusing)).resolves.toEqual({});
    refusing.disconnect();
  });
});
