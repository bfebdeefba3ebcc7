import { ConfigError } from '@evergreen/core';
import { loadConfig, type EvergreenConfig } from '@evergreen/config';
import { createLogger, safeError, type DestinationStream, type Logger } from '@evergreen/log';
import { TokenClient } from '@evergreen/oauth';
import { retryWhileUnreachable } from './retry-while-unreachable.ts';
import {
  adviseOnRedisSettings,
  ConnectionLock,
  createRedis,
  readRedisSettings,
  RefreshQueues,
  SchedulerKeys,
  SendSlots,
} from '@evergreen/queue';
import { engineFromConfig, Reconciler, RefreshWorkers, type RefreshEngine } from '@evergreen/refresh';
import {
  createRegistry,
  readinessChecks,
  RefreshMetrics,
  registerStateCollectors,
  startOpsServer,
} from '@evergreen/metrics';
import { WebhookDispatcher } from '@evergreen/webhooks';
import { startTracing } from './tracing.ts';
import { closeDatabase, ConnectionStore, eventsChannel, migrateDatabase, openDatabase } from '@evergreen/store';

export type Role = 'worker' | 'scheduler';

export interface StartOptions {
  env?: Readonly<Record<string, string | undefined>>;
  /** Tests capture log lines here to scan them for secrets. */
  logDestination?: DestinationStream;
}

export interface RunningRoles {
  config: EvergreenConfig;
  log: Logger;
  engine: RefreshEngine;
  reconciler: Reconciler | null;
  /** The port serving /metrics, /healthz and /readyz. */
  opsPort: number;
  /** Drains and closes everything, in the order that loses nothing: stop taking work, finish it, then disconnect. */
  close(): Promise<void>;
}

/** Boots the roles of one process from the environment alone. */
export async function startRoles(roles: readonly Role[], options: StartOptions = {}): Promise<RunningRoles> {
  const config = loadConfig(options.env ?? process.env);
  const log = createLogger({
    level: config.logLevel,
    base: { service: 'evergreen', roles: roles.join('+'), process: config.processName },
    ...(options.logDestination && { destination: options.logDestination }),
  });
  if (config.providers.length === 0) {
    log.warn('no providers configured: set EVERGREEN_PROVIDERS to a providers file; nothing will be refreshed');
  }
  if (config.migrateOnStart) {
    await retryWhileUnreachable(
      'Postgres',
      () => migrateDatabase({ url: config.databaseUrl, schema: config.dbSchema }),
      {
        log,
      },
    );
  }

  const db = openDatabase({ url: config.databaseUrl, schema: config.dbSchema, max: config.dbPoolSize });
  const redis = createRedis(config.redisUrl, 'worker');
  redis.on('error', (error) => log.warn({ err: safeError(error) }, 'redis connection problem'));
  // Said, not enforced: a managed Redis may not let us change it, and the cost is memory or a reconcile's delay.
  void readRedisSettings(redis).then(
    (settings) => {
      for (const advice of adviseOnRedisSettings(settings)) log.warn(advice, 'redis setting to change');
    },
    () => {},
  );
  const store = new ConnectionStore(db, config.keyring, config.processName, eventsChannel(config.dbSchema));
  const queues = new RefreshQueues(redis, config.redisPrefix);
  const tokens = new TokenClient(config.http);
  const providers = new Map(config.providers.map((p) => [p.id, p]));
  const stopTracing = startTracing(config.otelExporterUrl);
  const registry = createRegistry();
  const engine = engineFromConfig(config, {
    observer: new RefreshMetrics(registry),
    store,
    lock: new ConnectionLock(redis, config.redisPrefix),
    sendSlots: new SendSlots(redis, config.redisPrefix),
    tokens,
    log: log.child({ component: 'refresh' }),
  });

  let workers: RefreshWorkers | null = null;
  if (roles.includes('worker')) {
    workers = new RefreshWorkers({
      redisUrl: config.redisUrl,
      prefix: config.redisPrefix,
      providers: config.providers,
      engine,
      queues,
      concurrency: config.worker.concurrency,
      jobLockMs: config.worker.jobLockMs,
      stalledIntervalMs: config.worker.stalledIntervalMs,
      log,
    });
    workers.start();
  }
  let reconciler: Reconciler | null = null;
  if (roles.includes('scheduler')) {
    reconciler = new Reconciler({
      store,
      queues,
      keys: new SchedulerKeys(redis, config.redisPrefix),
      providers,
      intervalMs: config.scheduler.intervalMs,
      graceMs: config.scheduler.graceMs,
      fullPassIntervalMs: config.scheduler.fullPassIntervalMs,
      processName: config.processName,
      log: log.child({ component: 'scheduler' }),
    });
    reconciler.start();
  }
  if (roles.includes('scheduler')) {
    // Gauges read from Postgres and Redis at scrape time: one role exposing them is enough.
    registerStateCollectors({ registry, db, queues, providers: config.providers.map((p) => p.id), log });
  }
  const ops = await startOpsServer({
    port: config.ops.port,
    host: config.ops.host,
    registry,
    readiness: readinessChecks({ db, redis }),
    log,
  });

  // The scheduler role also delivers the outbox to webhooks: one more loop of the same kind, cheap when idle.
  let webhooks: WebhookDispatcher | null = null;
  if (roles.includes('scheduler') && config.webhooks.length > 0) {
    webhooks = new WebhookDispatcher({ db, endpoints: config.webhooks, log });
    webhooks.start();
  }
  log.info(
    {
      providers: config.providers.map((p) => p.id),
      concurrency: config.worker.concurrency,
      webhooks: config.webhooks.map((w) => w.id),
      opsPort: ops.port,
    },
    'started',
  );

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await reconciler?.stop();
      await webhooks?.stop();
      await ops.close();
      await stopTracing?.();
      await workers?.close(config.worker.shutdownGraceMs);
      await queues.close();
      await tokens.close();
      redis.disconnect();
      await closeDatabase(db);
      log.info('stopped');
    })());
  return { config, log, engine, reconciler, opsPort: ops.port, close };
}

/**
 * Starts something from the environment, or exits 1 printing a configuration error's message (which names every bad
 * variable and how to fix it) without a stack trace.
 */
async function startOrExit<T>(start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

/**
 * Drains on SIGTERM/SIGINT (invariant 9): `close` finishes the work in flight, then the process exits 0; a second
 * signal means the operator wants out now.
 */
function drainOnSignals(close: () => Promise<void>, logger: () => Logger | undefined): void {
  let signals = 0;
  const stop = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) process.exit(1);
    logger()?.info({ signal }, 'draining');
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger()?.error({ err: safeError(error) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/**
 * Starts something (as startOrExit) and drains it on SIGTERM/SIGINT, listening from before the start. A process is
 * often stopped the moment it announces itself (an orchestrator's probe, a test waiting for a line); a signal that
 * arrived before the listeners would kill it by the signal's default action, mid-start, with nothing drained. Here a
 * signal during the start waits for the start to finish, then drains as usual.
 */
export async function startAndDrainOnSignals<T extends { close: () => Promise<void> }>(
  start: () => Promise<T>,
  logOf: (started: T) => Logger | undefined = () => undefined,
): Promise<T> {
  let started: T | undefined;
  // Listening first: `start` runs synchronously up to its first await, and may announce itself before that.
  drainOnSignals(
    async () => (await starting).close(),
    () => (started === undefined ? undefined : logOf(started)),
  );
  const starting = startOrExit(start).then((value) => (started = value));
  return starting;
}

/** The body of every role app's main: start, then drain on signals. */
export async function runRolesMain(roles: readonly Role[]): Promise<void> {
  await startAndDrainOnSignals(
    () => startRoles(roles),
    (running) => running.log,
  );
}
