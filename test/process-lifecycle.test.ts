import { queueName } from '@evergreen/queue';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRoleProcess } from '@evergreen/test-support/processes';
import { redisServerMissing, startOwnRedis } from '@evergreen/test-support/redis-server';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { startProviderStack, type ProviderStack } from '@evergreen/test-support/provider-stack';
import { until } from '@evergreen/test-support/until';

describe('a role process', () => {
  const sandbox = new Sandbox();
  let f: ProviderStack;

  beforeAll(async () => {
    f = await startProviderStack(sandbox, {
      id: 'slow',
      provider: { latencyMs: 1_000, accessTokenLifetimeSeconds: 3600 },
    });
  });

  afterAll(() => f?.close());

  it('refuses to start on bad configuration, naming every bad variable and how to make a key', async () => {
    const env = sandbox.env({ EVERGREEN_WORKER_CONCURRENCY: 'lots', REDIS_URL: 'not a url' });
    delete env.EVERGREEN_ENCRYPTION_KEYS;
    const worker = startRoleProcess('worker', env);
    const { code } = await worker.exited;
    expect(code).toBe(1);
    const output = worker.output();
    for (const name of ['EVERGREEN_WORKER_CONCURRENCY', 'REDIS_URL', 'EVERGREEN_ENCRYPTION_KEYS'])
      expect(output).toContain(name);
    expect(output).toContain('pnpm keygen');
    expect(output).not.toContain('    at '); // a message for a person, not a stack trace
  });

  it('drains on SIGTERM: refreshes in flight finish, no lock is left, and it exits 0', async () => {
    // The provider takes 1 s: give the request room on a loaded machine, so what is tested is the drain, not a timeout.
    const worker = startRoleProcess(
      'worker',
      sandbox.env({
        EVERGREEN_PROCESS_NAME: 'draining-worker',
        EVERGREEN_HTTP_HEADERS_TIMEOUT_MS: '3000',
        EVERGREEN_HTTP_DEADLINE_MS: '3500',
        EVERGREEN_LOCK_TTL_MS: '6000',
      }),
    );
    await until(() => worker.output().includes('"msg":"started"'), { timeoutMs: 20_000, what: 'the worker to start' });
    const grants = Array.from({ length: 5 }, () => f.provider.issue());
    for (const [i, g] of grants.entries()) {
      await f.stack.evergreen.enqueueConnection({
        ownerId: `o${i}`,
        provider: 'slow',
        accessToken: g.accessToken,
        refreshToken: g.refreshToken,
        expiresIn: 0,
      });
    }
    // The provider answers after 1 s: wait until the requests have arrived, then ask the worker to stop.
    await until(() => f.provider.requests.length >= 5, { what: 'five requests in flight' });
    const termAt = Date.now();
    worker.child.kill('SIGTERM');
    const { code } = await worker.exited;
    expect(code).toBe(0);
    // Within the grace period (EVERGREEN_SHUTDOWN_GRACE_MS, 5 s in the tests), not by a kill after it.
    expect(Date.now() - termAt).toBeLessThan(Number(sandbox.env().EVERGREEN_SHUTDOWN_GRACE_MS));

    const events = await sandbox.sql`select outcome, process from refresh_events where process = 'draining-worker'`;
    expect(events).toHaveLength(5);
    expect(events.every((e) => e.outcome === 'success')).toBe(true);
    expect((await sandbox.redisKeys()).filter((k) => k.includes(':lock:'))).toEqual([]);
    // No job left stalled in active: each of the five waits, delayed, for its connection's next refresh.
    const queue = new Queue(queueName('slow'), { connection: sandbox.redis.duplicate(), prefix: sandbox.prefix });
    try {
      expect(await queue.getJobCounts('active', 'delayed', 'wait', 'failed')).toEqual({
        active: 0,
        delayed: 5,
        wait: 0,
        failed: 0,
      });
    } finally {
      await queue.close();
    }
    const rows = await sandbox.sql`select version from connections`;
    expect(rows.every((r) => Number(r.version) === 2)).toBe(true);
    expect(worker.output()).toContain('"msg":"stopped"');
  });

  const noRedisServer = redisServerMissing();
  it.skipIf(noRedisServer !== null)(
    `exits 0 within its grace period when SIGTERM finds its Redis gone${noRedisServer ? ` (skipped: ${noRedisServer})` : ''}`,
    async () => {
      // BullMQ's close never ends while its connection waits to reconnect: the worker once outlived its drain forever.
      const redis = await startOwnRedis();
      const graceMs = 2_000;
      const worker = startRoleProcess(
        'worker',
        sandbox.env({
          REDIS_URL: redis.url,
          EVERGREEN_PROCESS_NAME: 'orphaned-worker',
          EVERGREEN_SHUTDOWN_GRACE_MS: String(graceMs),
        }),
      );
      try {
        await until(() => worker.output().includes('"msg":"started"'), {
          timeoutMs: 20_000,
          what: 'the worker to start',
        });
        await redis.stop();
        await until(() => worker.output().includes('ECONNREFUSED'), { what: 'the worker to lose Redis' });
        const termAt = Date.now();
        worker.child.kill('SIGTERM');
        const { code } = await worker.exited;
        expect(code).toBe(0);
        // The grace period, and not the last-resort deadline (grace + 10 s) that would exit 1.
        expect(Date.now() - termAt).toBeLessThan(graceMs + 8_000);
        expect(worker.output()).toContain('not drained within the grace period');
        expect(worker.output()).toContain('"msg":"stopped"');
      } finally {
        if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
      }
    },
    40_000,
  );
});
