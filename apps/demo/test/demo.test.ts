import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startDemoProcess, type DemoConnection } from '../src/demo-process.ts';
import { REPO_ROOT } from '@evergreen/test-support/processes';
import { runCommand } from '@evergreen/test-support/repo-commands';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { until } from '@evergreen/test-support/until';

/** `pnpm demo` in a child process, on this run's Postgres and Redis, in a schema and prefix of its own. */
describe('pnpm demo', () => {
  const sandbox = new Sandbox();
  const schema = `${sandbox.schema}_demo`;
  const prefix = `${sandbox.prefix}-demo`;
  const env = {
    PATH: process.env.PATH ?? '',
    EVERGREEN_ENV_FILE: 'none',
    DATABASE_URL: sandbox.databaseUrl,
    REDIS_URL: sandbox.redisUrl,
  };

  afterAll(async () => {
    await sandbox.sql.unsafe(`drop schema if exists "${schema}" cascade`);
    const keys = await sandbox.redis.keys(`${prefix}:*`);
    if (keys.length > 0) await sandbox.redis.del(...keys);
    await sandbox.cleanup();
  });

  it('is the root package script `demo`, running apps/demo/src/main.ts', () => {
    const { scripts } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(scripts.demo).toBe('tsx apps/demo/src/main.ts');
  });

  it(
    'refuses a schema or prefix that could hold real data, since it wipes them at start',
    { timeout: 120_000 },
    async () => {
      for (const args of [
        ['--schema', 'evergreen'],
        ['--prefix', 'evergreen'],
      ]) {
        const run = await runCommand(['node', '--import', 'tsx', 'apps/demo/src/main.ts', ...args], env);
        expect(run.code, run.output).toBe(2);
        expect(run.output).toMatch(/must .*contain "demo"/);
      }
    },
  );

  it('refreshes every demo connection within a minute, sends the revoked grant to needs_reauth, and exits 0 on SIGTERM', async () => {
    const demo = await startDemoProcess(['--port', '0', '--schema', schema, '--prefix', prefix], env);
    let stopped = false;
    try {
      // The board is behind auth: the printed token opens it, nothing else does.
      expect((await fetch(`${demo.base}/api/connections`)).status).toBe(401);
      const first = await demo.connections();
      expect(first.map((c) => c.connectionId)).toHaveLength(8);

      // The README promises refreshes within a minute of the start.
      const settled = await until(
        async () => {
          const items = await demo.connections();
          const done = items.every(
            (c) => c.status === 'needs_reauth' || (c.lastRefreshOutcome === 'success' && c.version >= 2),
          );
          return done ? items : null;
        },
        { timeoutMs: 60_000, intervalMs: 500, what: 'every demo connection refreshed once' },
      );
      const byStatus = (status: string) => settled.filter((c: DemoConnection) => c.status === status);
      expect(byStatus('connected')).toHaveLength(7);
      expect(byStatus('needs_reauth').map((c) => [c.connectionId, c.lastRefreshReason])).toEqual([
        ['demo-globex-8', 'invalid_grant'],
      ]);
      expect(new Set(settled.map((c) => c.provider))).toEqual(new Set(['acme', 'globex']));

      // The token-health page's numbers, and Bull Board behind the same token.
      const health = await demo.api<{ byStatus: Record<string, number>; total: number }>('/api/health/tokens');
      expect(health.total).toBe(8);
      expect(health.byStatus).toMatchObject({ connected: 7, needs_reauth: 1 });
      const board = await fetch(`${demo.base}/board`, { headers: { authorization: `Bearer ${demo.adminToken}` } });
      expect(board.status).toBe(200);

      // One line per refresh, heard through LISTEN/NOTIFY.
      await until(() => /refreshed +demo-acme-1 \(acme\)/.test(demo.output()), { what: 'a refreshed line' });
      expect(demo.output()).toMatch(/needs_reauth +demo-globex-8 \(globex\) +invalid_grant/);
      // Its own schema: the rows are there, under the demo's name.
      const rows = await sandbox.sql.unsafe<{ count: number }[]>(
        `select count(*)::int as count from "${schema}".connections`,
      );
      expect(rows[0]?.count).toBe(8);

      stopped = true;
      const exit = await demo.stop();
      expect(exit, demo.output()).toEqual({ code: 0, signal: null });
    } finally {
      if (!stopped) await demo.stop();
    }
  }, 120_000);
});
