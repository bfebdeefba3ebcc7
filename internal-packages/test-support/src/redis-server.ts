import { spawn, spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './free-port.ts';
import { until } from './until.ts';

export interface OwnRedis {
  readonly url: string;
  /** An admin client on it, for what the test does behind Evergreen's back (FLUSHALL). */
  readonly client: Redis;
  stop(): Promise<void>;
}

/** Why a test that needs its own Redis server cannot run here, or null when `redis-server` is installed. */
export function redisServerMissing(): string | null {
  const probe = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  return probe.error ? 'redis-server is not installed (Debian: apt-get install redis-server)' : null;
}

/**
 * A throwaway Redis of this test's own on a free loopback port, no persistence: a FLUSHALL there wipes this test's
 * data and no other file's.
 */
export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
  client.on('error', () => {});
  await until(() => client.ping().then((r) => r === 'PONG'), { timeoutMs: 10_000, what: `redis-server on ${port}` });
  return {
    url,
    client,
    stop: async () => {
      client.disconnect();
      child.kill('SIGTERM');
      await exited;
    },
  };
}
