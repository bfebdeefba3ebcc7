import { loadConfig } from '@evergreen/config';
import { FakeProvider } from '@evergreen/fake-provider';
import { createLogger } from '@evergreen/log';
import { openDatabase, closeDatabase, SearchPathError } from '@evergreen/store';
import { openEvergreen } from '@evergreen/wiring';
import type { ConnectionEvent } from '@evergreen/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogCapture } from '@evergreen/test-support/log-capture';
import { pgbouncerMissing, startPgBouncer, type PgBouncer } from '@evergreen/test-support/pgbouncer';
import { refreshTimes } from '@evergreen/test-support/provider-records';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { startStack, type Stack } from '@evergreen/test-support/stack';
import { until } from '@evergreen/test-support/until';

const missing = pgbouncerMissing();

describe.skipIf(missing !== null)(
  `Evergreen behind PgBouncer in transaction pooling${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    const sandbox = new Sandbox();
    let bouncer: PgBouncer;
    let provider: FakeProvider;
    let stack: Stack;
    let pooledEnv: Record<string, string>;

    beforeAll(async () => {
      bouncer = await startPgBouncer(sandbox.databaseUrl, { searchPath: sandbox.schema });
      provider = await FakeProvider.start({ accessTokenLifetimeSeconds: 4 });
      sandbox.useProviders([{ id: 'acme', tokenUrl: provider.tokenUrl }]);
      pooledEnv = {
        DATABASE_URL: bouncer.url,
        EVERGREEN_DATABASE_POOL_MODE: 'transaction',
        EVERGREEN_DATABASE_DIRECT_URL: sandbox.databaseUrl,
      };
      // Starting migrates (over the direct URL: its advisory lock needs a session) and checks the pooler's schema.
      stack = await startStack(sandbox, { roles: ['worker', 'scheduler'], env: pooledEnv });
    });

    afterAll(async () => {
      await stack?.close();
      await provider?.close();
      await bouncer?.stop();
      await sandbox.cleanup();
    });

    it("refuses Evergreen's default connections: the reason for EVERGREEN_DATABASE_POOL_MODE", async () => {
      const db = openDatabase({ url: bouncer.url, schema: sandbox.schema, max: 1 });
      try {
        await expect(db.$client`select 1`).rejects.toThrow(/search_path/);
      } finally {
        await closeDatabase(db);
      }
    });

    it('enqueues one and many, and keeps refreshing, every query through the pooler', async () => {
      // PgBouncer 1.18 keeps no prepared statement across transactions: postgres.js's retry hides the misses, at a cost.
      expect(stack.parts.db.$client.options.prepare).toBe(false);
      const before = await bouncer.transactions();
      const ids: string[] = [];
      const grants: string[] = [];
      for (let i = 0; i < 10; i++) {
        const r = await stack.connect(provider, { ownerId: `one-${i}`, provider: 'acme', expiresIn: 4 });
        ids.push(r.connectionId);
        grants.push(r.grant.grantId);
      }
      const batch = Array.from({ length: 10 }, (_, i) => ({ i, grant: provider.issue({ expiresIn: 4 }) }));
      const results = await stack.evergreen.enqueueConnections(
        batch.map(({ i, grant }) => ({
          ownerId: `many-${i}`,
          provider: 'acme',
          accessToken: grant.accessToken,
          refreshToken: grant.refreshToken,
          expiresIn: 4,
        })),
      );
      expect(results.failed).toBe(0);
      grants.push(...batch.map((b) => b.grant.grantId));

      await until(() => grants.every((g) => refreshTimes(provider, g).length >= 2), {
        timeoutMs: 30_000,
        intervalMs: 200,
        what: 'two refreshes of each connection',
      });
      expect(provider.reuseCount()).toBe(0);
      const rows = await sandbox.sql<{ status: string }[]>`select status from connections`;
      expect(rows.length).toBeGreaterThanOrEqual(20);
      expect(rows.every((r) => r.status === 'connected')).toBe(true);
      // Reads and fenced writes of the refresh path went through PgBouncer, not around it.
      expect((await bouncer.transactions()) - before).toBeGreaterThan(100);
      expect(await stack.evergreen.getValidAccessToken(ids[0]!)).toEqual(expect.any(String));
    });

    it('delivers events to subscribe: LISTEN over the direct URL, NOTIFY through the pooler', async () => {
      const heard: ConnectionEvent[] = [];
      const unsubscribe = await stack.evergreen.subscribe((event) => void heard.push(event));
      try {
        const { connectionId } = await stack.connect(provider, { ownerId: 'listener', provider: 'acme', expiresIn: 4 });
        await until(
          () =>
            heard.some(
              (e) =>
                'connectionId' in e.data && e.data.connectionId === connectionId && e.kind === 'connection.refreshed',
            ),
          { timeoutMs: 15_000, what: 'a refreshed event of the new connection' },
        );
        expect(
          heard.some(
            (e) =>
              'connectionId' in e.data && e.data.connectionId === connectionId && e.kind === 'connection.connected',
          ),
        ).toBe(true);
      } finally {
        await unsubscribe();
      }
    });

    it("takes the scheduler's turn and rebuilds lost jobs with a full pass read through the pooler", async () => {
      const startedAt = Date.now();
      await sandbox.dropRedisKeys();
      await until(
        () =>
          stack.logs
            .events('reconcile')
            .some(
              (e) => e.fullPass === true && (e.scheduled as number) > 0 && Date.parse(e.time as string) > startedAt,
            ),
        { timeoutMs: 15_000, what: 'a full reconcile pass after the loss' },
      );
      const rows = await sandbox.sql<{ id: string }[]>`select id from connections where status = 'connected'`;
      const jobKeys = await sandbox.redisKeys();
      for (const row of rows) expect(jobKeys.some((k) => k.endsWith(`:${row.id}`))).toBe(true);
    });

    it('fails at start, naming EVERGREEN_DB_SCHEMA, when the pooler puts its connections in another schema', async () => {
      const env = sandbox.env({
        ...pooledEnv,
        EVERGREEN_DB_SCHEMA: `${sandbox.schema}_other`,
        EVERGREEN_MIGRATE_ON_START: 'false',
      });
      const parts = openEvergreen(loadConfig(env), {
        log: createLogger({ level: 'silent', destination: new LogCapture() }),
      });
      try {
        const error = await parts.prepare({ waitForPostgresMs: 0 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SearchPathError);
        expect(error).toMatchObject({ code: 'ERR_SEARCH_PATH', field: 'EVERGREEN_DB_SCHEMA', found: sandbox.schema });
        expect((error as Error).message).toContain('connect_query');
      } finally {
        await parts.close();
      }
    });
  },
);
