import type { FakeProvider } from '@evergreen/fake-provider';
import { startTwoProviderStack } from '@evergreen/test-support/provider-stack';
import type { RefreshQueues } from '@evergreen/queue';
import type { EvergreenParts } from '@evergreen/wiring';
import type { FastifyInstance } from 'fastify';
import type { RedisClient } from '@evergreen/queue';
import { Sandbox } from '@evergreen/test-support/sandbox';
import type { GrantConnection, Stack } from '@evergreen/test-support/stack';
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
  db: EvergreenParts['db'];
  redis: RedisClient;
  queues: RefreshQueues;
  /** A connection to `acme` or `beta` holding a new grant of theirs, enqueued through the SDK. */
  connect(input: GrantConnection & { provider: 'acme' | 'beta' }): ReturnType<Stack['connect']>;
  board(overrides?: Partial<BuildBoardOptions>): FastifyInstance;
  close(): Promise<void>;
}

export async function boardFixture(): Promise<BoardFixture> {
  // No worker: refreshes here are forced ones, or none.
  const base = await startTwoProviderStack(new Sandbox());
  const { sandbox, stack, acme, beta } = base;
  const { config, db } = stack.parts;
  // The board's side of the process's parts, as startBoard uses it.
  const { redis, queues } = stack.parts.producer;
  const apps: FastifyInstance[] = [];
  return {
    sandbox,
    stack,
    acme,
    beta,
    db,
    redis,
    queues,
    connect: (input) => stack.connect(input.provider === 'acme' ? acme : beta, input),
    board(overrides = {}) {
      const app = buildBoard({
        evergreen: stack.evergreen,
        db,
        queues,
        breakers: stack.parts.producer.breakers,
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
      await base.close();
    },
  };
}
