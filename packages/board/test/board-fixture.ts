import { FakeProvider } from '@evergreen/fake-provider';
import { createRedis, RefreshQueues } from '@evergreen/queue';
import { closeDatabase, migrateDatabase, openDatabase, type Database } from '@evergreen/store';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { Sandbox } from '../../../test/support/sandbox.ts';
import { startStack, type Stack } from '../../../test/support/stack.ts';
import { buildBoard, type BuildBoardOptions } from '../src/board-server.ts';
import type { BoardAuth } from '@evergreen/config';

export const TOKEN = 'test-admin-token-0123456789abcdef';
export const USER = 'operator';
export const PASSWORD = 'correct horse battery staple';
export const AUTH: BoardAuth = { token: TOKEN, user: USER, password: PASSWORD };
export const bearer = { authorization: `Bearer ${TOKEN}` };
export const basicHeader = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

/**
 * A sandboxed Evergreen (own schema and Redis prefix, migrated) with two fake providers, `acme` and `beta`, an SDK
 * client, and what the board needs; `board(...)` builds boards on it with any auth or mode.
 */
export interface BoardFixture {
  sandbox: Sandbox;
  stack: Stack;
  acme: FakeProvider;
  beta: FakeProvider;
  db: Database;
  redis: Redis;
  queues: RefreshQueues;
  board(overrides?: Partial<BuildBoardOptions>): FastifyInstance;
  close(): Promise<void>;
}

export async function boardFixture(): Promise<BoardFixture> {
  const sandbox = new Sandbox();
  const acme = await FakeProvider.start({ accessTokenLifetimeSeconds: 3600 });
  const beta = await FakeProvider.start({ accessTokenLifetimeSeconds: 3600 });
  sandbox.useProviders([
    { id: 'acme', tokenUrl: acme.tokenUrl },
    { id: 'beta', tokenUrl: beta.tokenUrl },
  ]);
  await migrateDatabase({ url: sandbox.databaseUrl, schema: sandbox.schema });
  const stack = await startStack(sandbox); // no worker: refreshes here are forced ones, or none
  const config = sandbox.config();
  const db = openDatabase({ url: sandbox.databaseUrl, schema: sandbox.schema, max: 3 });
  const redis = createRedis(sandbox.redisUrl, 'producer', { enableOfflineQueue: true });
  redis.on('error', () => {});
  const queues = new RefreshQueues(redis, config.redisPrefix);
  const apps: FastifyInstance[] = [];
  return {
    sandbox,
    stack,
    acme,
    beta,
    db,
    redis,
    queues,
    board(overrides = {}) {
      const app = buildBoard({
        evergreen: stack.evergreen,
        db,
        queues,
        providers: config.providers,
        auth: AUTH,
        host: '127.0.0.1',
        ...overrides,
      });
      apps.push(app);
      return app;
    },
    async close() {
      await Promise.all(apps.map((a) => a.close()));
      await queues.close();
      redis.disconnect();
      await closeDatabase(db);
      await stack.close();
      await Promise.all([acme.close(), beta.close()]);
      await sandbox.cleanup();
    },
  };
}
