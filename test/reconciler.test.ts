import { createLogger } from '@evergreen/log';
import { createRedis, queueName, RefreshQueues, SchedulerKeys } from '@evergreen/queue';
import { Reconciler } from '@evergreen/refresh';
import { closeDatabase, ConnectionStore, migrateDatabase, openDatabase, type Database } from '@evergreen/store';
import { Queue } from 'bullmq';
import type { RedisClient } from '@evergreen/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogCapture } from '@evergreen/test-support/log-capture';
import { startProviderStack, type ProviderStack } from '@evergreen/test-support/provider-stack';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { until } from '@evergreen/test-support/until';

describe('the reconcile, Postgres → Redis', () => {
  const sandbox = new Sandbox();
  let f: ProviderStack;
  let db: Database;
  let redis: RedisClient;
  let queue: Queue;
  const reconcilers: Reconciler[] = [];

  beforeAll(async () => {
    f = await startProviderStack(sandbox); // producer only: no worker runs the jobs we look at
    const config = sandbox.config();
    await migrateDatabase({ url: sandbox.databaseUrl, schema: sandbox.schema });
    db = openDatabase({ url: sandbox.databaseUrl, schema: sandbox.schema, max: 2 });
    redis = createRedis(sandbox.redisUrl, 'worker');
    queue = new Queue(queueName('acme'), { connection: sandbox.redis, prefix: sandbox.prefix });
    for (const name of ['replica-a', 'replica-b']) {
      const queues = new RefreshQueues(redis, sandbox.prefix);
      reconcilers.push(
        new Reconciler({
          store: new ConnectionStore(db, config.keyring, name),
          queues,
          keys: new SchedulerKeys(redis, sandbox.prefix),
          providers: new Map(config.providers.map((p) => [p.id, p])),
          intervalMs: 60_000,
          graceMs: 1_000,
          fullPassIntervalMs: 3_600_000,
          processName: name,
          log: createLogger({ level: 'silent', destination: new LogCapture() }),
          pageSize: 7,
        }),
      );
    }
  });

  afterAll(async () => {
    await queue?.close();
    redis?.disconnect();
    await closeDatabase(db);
    await f?.close();
  });

  it('lets one replica lead a tick at a time', async () => {
    // Another replica is mid-pass: it holds the lease.
    const release = await new SchedulerKeys(sandbox.redis, sandbox.prefix).lead('replica-elsewhere', 60_000);
    expect(release).not.toBeNull();
    expect(await reconcilers[0]!.tick()).toMatchObject({ led: false, scheduled: 0 });
    expect(await reconcilers[1]!.tick()).toMatchObject({ led: false, scheduled: 0 });
    await release!();
    expect(await reconcilers[0]!.tick()).toMatchObject({ led: true });
  });

  it('rebuilds every missing job in one paged full pass when the sentinel is gone', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await f.stack.evergreen.enqueueConnection({
        ownerId: `o${i}`,
        provider: 'acme',
        accessToken: 'a',
        refreshToken: 'r',
        expiresIn: 3600,
      });
      ids.push(r.connectionId);
    }
    await sandbox.dropRedisKeys();
    const report = await reconcilers[0]!.tick();
    expect(report).toMatchObject({ led: true, fullPass: true, scanned: 20, scheduled: 20 });
    const rows = await sandbox.sql<{ id: string; refresh_at: Date }[]>`select id, refresh_at from connections`;
    for (const row of rows) {
      const job = await queue.getJob(row.id);
      expect(Math.abs(job!.timestamp + job!.delay - row.refresh_at.getTime())).toBeLessThan(1_000);
    }
    // With the sentinel back, the next tick is incremental and finds nothing to do.
    expect(await reconcilers[1]!.tick()).toMatchObject({ led: true, fullPass: false, scheduled: 0 });
  });

  it('moves an overdue connection whose job sits at a wrong, later time', async () => {
    const { connectionId } = await f.stack.evergreen.enqueueConnection({
      ownerId: 'late',
      provider: 'acme',
      accessToken: 'a',
      refreshToken: 'r',
      expiresIn: 3600,
    });
    // The row says "due a minute ago" while its job waits an hour: what a reschedule racing a running job can leave.
    await sandbox.sql`update connections set refresh_at = now() - interval '1 minute' where id = ${connectionId}`;
    const report = await reconcilers[0]!.tick();
    expect(report.overdue).toBeGreaterThanOrEqual(1);
    const job = await queue.getJob(connectionId);
    expect(job!.timestamp + job!.delay).toBeLessThanOrEqual(Date.now());
  });

  it('between ticks, notices the sentinel gone within its check interval and runs the full pass at once', async () => {
    const config = sandbox.config();
    const logs = new LogCapture();
    const watcher = new Reconciler({
      store: new ConnectionStore(db, config.keyring, 'replica-watch'),
      queues: new RefreshQueues(redis, sandbox.prefix),
      keys: new SchedulerKeys(redis, sandbox.prefix),
      providers: new Map(config.providers.map((p) => [p.id, p])),
      // The periodic tick is out of the test's reach: only the loss check can run the second pass.
      intervalMs: 3_600_000,
      lossCheckIntervalMs: 100,
      graceMs: 1_000,
      fullPassIntervalMs: 3_600_000,
      processName: 'replica-watch',
      log: createLogger({ level: 'debug', destination: logs }),
    });
    const passes = () => logs.events('reconcile').filter((e) => e.led === true);
    watcher.start();
    try {
      await until(() => passes().length >= 1, { what: 'the first tick' });
      const { connectionId } = await f.stack.evergreen.enqueueConnection({
        ownerId: 'watched',
        provider: 'acme',
        accessToken: 'a',
        refreshToken: 'r',
        expiresIn: 3600,
      });
      await sandbox.dropRedisKeys();
      const lostAt = Date.now();
      const pass = await until(
        () => passes().find((e) => e.fullPass === true && Date.parse(e.time as string) > lostAt),
        { timeoutMs: 5_000, what: 'a full pass after the loss' },
      );
      expect(pass.scheduled).toBeGreaterThanOrEqual(1);
      expect(await queue.getJob(connectionId)).toBeDefined();
    } finally {
      await watcher.stop();
    }
  });

  it('leaves connections that need a person alone', async () => {
    const { connectionId } = await f.stack.evergreen.enqueueConnection({
      ownerId: 'gone',
      provider: 'acme',
      accessToken: 'a',
      refreshToken: 'r',
      expiresIn: 3600,
    });
    await queue.remove(connectionId);
    await sandbox.sql`update connections set status = 'needs_reauth', refresh_at = now() - interval '1 hour' where id = ${connectionId}`;
    await sandbox.redis.del(`${sandbox.prefix}:scheduler:sentinel`);
    await reconcilers[0]!.tick();
    expect(await queue.getJob(connectionId)).toBeUndefined();
  });
});
