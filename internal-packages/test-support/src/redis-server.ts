import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { until } from './until.ts';
import { missingRedisBinaries, startRedisServer } from './redis-servers.ts';

export interface OwnRedis {
  readonly url: string;
  /** An admin client on it, for what the test does behind Evergreen's back (FLUSHALL). */
  readonly client: Redis;
  stop(): Promise<void>;
}

/** Why a test that needs its own Redis server cannot run here, or null when `redis-server` is installed. */
export function redisServerMissing(): string | null {
  return missingRedisBinaries(['redis-server']);
}

/**
 * A throwaway Redis of this test's own on a free loopback port (redis-servers' `startRedisServer`), no persistence: a
 * FLUSHALL there wipes this test's data and no other file's.
 */
export async function startOwnRedis(): Promise<OwnRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'evergreen-own-redis-'));
  const node = await startRedisServer(dir);
  const url = `redis://127.0.0.1:${node.port}`;
  const client = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
  client.on('error', () => {});
  await until(() => client.ping().then((r) => r === 'PONG'), {
    timeoutMs: 10_000,
    what: `redis-server on ${node.port}`,
  });
  return {
    url,
    client,
    stop: async () => {
      client.disconnect();
      await node.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
