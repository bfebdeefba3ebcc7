import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseRedisEndpoints } from '@evergreen/core';
import { loadConfig } from '../src/index.ts';

const minimal = { EVERGREEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}` };

function issues(env: Record<string, string>): { field: string; reason: string }[] {
  try {
    loadConfig({ ...minimal, ...env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues.map((i) => ({ field: i.field, reason: i.reason }));
  }
  throw new Error('expected loadConfig to throw');
}

describe('the Redis connection settings', () => {
  it('default to the standalone REDIS_URL', () => {
    expect(loadConfig({ ...minimal, REDIS_URL: 'redis://cache:6380/2' }).redis).toEqual({
      kind: 'standalone',
      url: 'redis://cache:6380/2',
      auth: { username: null, password: null },
    });
  });

  it('read a Sentinel set: the sentinels, the primary name and both passwords', () => {
    const config = loadConfig({
      ...minimal,
      REDIS_SENTINELS: 'sentinel-0:26379, 10.0.0.7:26380,[::1]:26381',
      REDIS_SENTINEL_NAME: 'evergreen',
      REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
      REDIS_PASSWORD: 'data-secret',
      REDIS_USERNAME: 'evergreen',
    });
    expect(config.redis).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 'sentinel-0', port: 26379 },
        { host: '10.0.0.7', port: 26380 },
        { host: '::1', port: 26381 },
      ],
      name: 'evergreen',
      sentinelPassword: 'sentinel-secret',
      auth: { username: 'evergreen', password: 'data-secret' },
    });
  });

  it('read a cluster and the queue shards', () => {
    const config = loadConfig({ ...minimal, REDIS_CLUSTER_NODES: 'a:7000,b:7001', EVERGREEN_QUEUE_SHARDS: '4' });
    expect(config.redis).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 7001 },
      ],
      auth: { username: null, password: null },
    });
    expect(config.queueShards).toBe(4);
  });

  it('name the variable and the reason for each inconsistency, never a password', () => {
    expect(issues({ REDIS_SENTINELS: 's:26379' })).toEqual([
      { field: 'REDIS_SENTINEL_NAME', reason: expect.stringMatching(/is required with REDIS_SENTINELS/) },
    ]);
    expect(issues({ REDIS_SENTINEL_NAME: 'x', REDIS_SENTINEL_PASSWORD: 'hunter2-secret' })).toEqual([
      { field: 'REDIS_SENTINEL_NAME', reason: 'is only used with REDIS_SENTINELS' },
      { field: 'REDIS_SENTINEL_PASSWORD', reason: 'is only used with REDIS_SENTINELS' },
    ]);
    const both = issues({ REDIS_SENTINELS: 's:1', REDIS_SENTINEL_NAME: 'x', REDIS_CLUSTER_NODES: 'n:2' });
    expect(both.map((i) => i.field)).toEqual(['REDIS_CLUSTER_NODES']);
    expect(issues({ REDIS_CLUSTER_NODES: 'n:7000', EVERGREEN_REDIS_PREFIX: '{evg}' }).map((i) => i.field)).toEqual([
      'EVERGREEN_REDIS_PREFIX',
    ]);
    expect(issues({ EVERGREEN_QUEUE_SHARDS: '0' })).toEqual([
      { field: 'EVERGREEN_QUEUE_SHARDS', reason: 'must be at least 1' },
    ]);
    const all = JSON.stringify(issues({ REDIS_SENTINELS: 'bad', REDIS_SENTINEL_PASSWORD: 'hunter2-secret' }));
    expect(all).not.toContain('hunter2');
  });
});

describe('parseRedisEndpoints', () => {
  it('reads host:port lists, IPv6 in brackets', () => {
    expect(parseRedisEndpoints('h:1,[fe80::1]:65535', 'F')).toEqual({
      endpoints: [
        { host: 'h', port: 1 },
        { host: 'fe80::1', port: 65535 },
      ],
      issues: [],
    });
  });

  it.each([
    ['', 'must list at least one host:port'],
    [' , ', 'must list at least one host:port'],
    ['h:1,,h:2', 'entry 2 is empty (a stray comma?)'],
    ['h', 'entry 1 ("h") must be host:port'],
    [':26379', 'entry 1 (":26379") must be host:port'],
    ['::1:26379', 'entry 1 ("::1:26379") must be host:port'],
    ['h:0', 'entry 1 ("h:0") needs a port from 1 to 65535'],
    ['h:65536', 'entry 1 ("h:65536") needs a port from 1 to 65535'],
    ['h:port', 'entry 1 ("h:port") needs a port from 1 to 65535'],
    ['h_x:1', 'entry 1 ("h_x:1") must be host:port'],
    ['h:1,h:1', 'entry 2 ("h:1") is listed twice'],
  ])('%j: %s', (text, reason) => {
    const parsed = parseRedisEndpoints(text, 'REDIS_SENTINELS');
    expect(parsed.endpoints).toEqual([]);
    expect(parsed.issues).toContainEqual({ field: 'REDIS_SENTINELS', reason });
  });
});
