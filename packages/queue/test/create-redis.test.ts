import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingRedisBinaries, startRedisServer, type RedisNode } from '@evergreen/test-support/redis-servers';
import { createRedis } from '../src/index.ts';

const missing = missingRedisBinaries(['redis-server']);
if (missing) console.warn(`skipped: createRedis against a password-protected Redis: ${missing}`);

// Characters a URL would have to escape: REDIS_PASSWORD is taken as written.
const PASSWORD = 'p@ss:w/rd%#?';

describe.skipIf(missing !== null)('createRedis on a standalone Redis with REDIS_PASSWORD', () => {
  const dir = mkdtempSync(join(tmpdir(), 'evergreen-create-redis-'));
  let node: RedisNode;

  beforeAll(async () => {
    node = await startRedisServer(dir, PASSWORD);
  });

  afterAll(async () => {
    await node?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  const ping = async (url: string, password: string | null) => {
    const redis = createRedis({ kind: 'standalone', url, auth: { username: null, password } }, 'producer', {
      enableOfflineQueue: true,
      retryStrategy: () => null,
    });
    redis.on('error', () => {});
    try {
      return await redis.ping();
    } finally {
      redis.disconnect();
    }
  };

  it('authenticates with REDIS_PASSWORD, which wins over a password in the URL', async () => {
    expect(await ping(`redis://127.0.0.1:${node.port}`, PASSWORD)).toBe('PONG');
    expect(await ping(`redis://:stale@127.0.0.1:${node.port}/0`, PASSWORD)).toBe('PONG');
    await expect(ping(`redis://127.0.0.1:${node.port}`, null)).rejects.toThrow(/NOAUTH|Authentication/);
  });
});
