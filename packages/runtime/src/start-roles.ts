import { startApi, TokenReadMetrics, type RunningApi } from '@evergreen/api';
import { assertCanStart, startBoard, type RunningBoard } from '@evergreen/board';
import { loadConfig, type EvergreenConfig } from '@evergreen/config';
import { createLogger, type DestinationStream, type Logger } from '@evergreen/log';
import {
  createRegistry,
  readinessChecks,
  RefreshMetrics,
  registerStateCollectors,
  startOpsServer,
} from '@evergreen/metrics';
import { adviseOnRedisSettings, readRedisSettings, SchedulerKeys } from '@evergreen/queue';
import { BacklogOrder, Reconciler, RefreshWorkers, WaitOrder } from '@evergreen/refresh';
import { WebhookDispatcher } from '@evergreen/webhooks';
import { openEvergreen, type EvergreenParts } from '@evergreen/wiring';
import { DEFAULT_API_KEY_VERIFIER, type ApiKeyVerifierFactory } from './api-key-verifier.ts';
import { startAndDrainOnSignals } from './drain-on-signals.ts';
import { startTracing } from './tracing.ts';

export type Role = 'worker' | 'scheduler' | 'board' | 'api';

/** Every role in one process, over one set of parts: what apps/evergreen (and `pnpm start`) runs. */
export const ALL_ROLES: readonly Role[] = ['worker', 'scheduler', 'board', 'api'];

export interface StartOptions {
  env?: Readonly<Record<string, string | undefined>>;
  /** Tests capture log lines here to scan them for secrets. */
  logDestination?: DestinationStream;
  /** Verifies the api role's keys; by default the stored keys (`DEFAULT_API_KEY_VERIFIER`). */
  apiKeys?: ApiKeyVerifierFactory;
}

export interface RunningRoles {
  config: EvergreenConfig;
  log: Logger;
  /** The process's shared parts: an SDK client built over them (`createEvergreen({ parts })`) opens nothing more. */
  parts: EvergreenParts;
  reconciler: Reconciler | null;
  board: RunningBoard | null;
  api: RunningApi | null;
  /** The port serving /metrics, /healthz and /readyz. */
  opsPort: number;
  /** Drains and closes everything, in the order that loses nothing: stop taking work, finish it, then disconnect. */
  close(): Promise<void>;
}

/** Boots the roles of one process from the environment alone, over one set of parts (`openEvergreen`). */
export async function startRoles(roles: readonly Role[], options: StartOptions = {}): Promise<RunningRoles> {
  const runsBoard = roles.includes('board');
  const background = roles.includes('worker') || roles.includes('scheduler');
  const config = loadConfig(options.env ?? process.env, { board: runsBoard });
  // Before anything connects anywhere: a board anyone could use does not start, nor an api no key could pass.
  if (runsBoard) assertCanStart(config.board.auth, config.board.host, config.board.dev);
  const log = createLogger({
    level: config.logLevel,
    base: { service: 'evergreen', roles: roles.join('+'), process: config.processName },
    ...(options.logDestination && { destination: options.logDestination }),
  });
  if (background && config.providers.length === 0) {
    log.warn('no providers configured: set EVERGREEN_PROVIDERS to a providers file; nothing will be refreshed');
  }
  const registry = createRegistry();
  const parts = openEvergreen(config, { log, ...(background && { observer: new RefreshMetrics(registry) }) });
  try {
    await parts.prepare();
  } catch (error) {
    await parts.close();
    throw error;
  }

  if (background) {
    // Said, not enforced: a managed Redis may not let us change it, and the cost is memory or a reconcile's delay.
    void readRedisSettings(parts.worker.redis).then(
      (settings) => {
        for (const advice of adviseOnRedisSettings(settings)) log.warn(advice, 'redis setting to change');
      },
      () => {},
    );
  }
  const stopTracing = startTracing(config.otelExporterUrl);

  let workers: RefreshWorkers | null = null;
  if (roles.includes('worker')) {
    workers = new RefreshWorkers({
      redis: config.redis,
      prefix: config.redisPrefix,
      providers: config.providers,
      engine: parts.worker.engine,
      queues: parts.worker.queues,
      concurrency: config.worker.concurrency,
      jobLockMs: config.worker.jobLockMs,
      stalledIntervalMs: config.worker.stalledIntervalMs,
      log,
    });
    workers.start();
  }
  let reconciler: Reconciler | null = null;
  let backlogOrder: BacklogOrder | null = null;
  if (roles.includes('scheduler')) {
    reconciler = new Reconciler({
      store: parts.store,
      queues: parts.worker.queues,
      keys: new SchedulerKeys(parts.worker.redis, config.redisPrefix),
      providers: parts.providers,
      intervalMs: config.scheduler.intervalMs,
      lossCheckIntervalMs: config.scheduler.lossCheckIntervalMs,
      graceMs: config.scheduler.graceMs,
      fullPassIntervalMs: config.scheduler.fullPassIntervalMs,
      processName: config.processName,
      log: log.child({ component: 'scheduler' }),
    });
    reconciler.start();
    backlogOrder = new BacklogOrder({
      order: new WaitOrder(parts.store, parts.worker.queues),
      queues: parts.worker.queues,
      providers: config.providers.filter((p) => p.grant !== 'none').map((p) => p.id),
      intervalMs: config.scheduler.backlogOrderIntervalMs,
      log: log.child({ component: 'scheduler' }),
    });
    backlogOrder.start();
    // Gauges read from Postgres and Redis at scrape time: one role exposing them is enough.
    registerStateCollectors({
      registry,
      db: parts.db,
      queues: parts.worker.queues,
      breakers: parts.worker.breakers,
      providers: config.providers.map((p) => p.id),
      log,
    });
  }
  const ops = await startOpsServer({
    port: config.ops.port,
    host: config.ops.host,
    registry,
    // The client the process already has: a board alone opens no background one.
    readiness: readinessChecks({ db: parts.db, redis: (background ? parts.worker : parts.producer).redis }),
    log,
  });

  // The scheduler role also delivers the outbox to webhooks: one more loop of the same kind, cheap when idle.
  let webhooks: WebhookDispatcher | null = null;
  if (roles.includes('scheduler') && config.webhooks.length > 0) {
    webhooks = new WebhookDispatcher({ db: parts.db, endpoints: config.webhooks, log });
    webhooks.start();
  }

  let board: RunningBoard | null = null;
  let api: RunningApi | null = null;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await api?.close();
      await board?.close();
      await reconciler?.stop();
      await backlogOrder?.stop();
      await webhooks?.stop();
      await ops.close();
      await stopTracing?.();
      await workers?.close(config.worker.shutdownGraceMs);
      await parts.close();
      log.info('stopped');
    })());
  try {
    if (runsBoard) board = await startBoard(parts);
    if (roles.includes('api')) {
      const verifier = (options.apiKeys ?? DEFAULT_API_KEY_VERIFIER)(parts);
      api = await startApi(parts, { verifier, tokenReads: new TokenReadMetrics(registry) });
    }
  } catch (error) {
    await close();
    throw error;
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
  return { config, log, parts, reconciler, board, api, opsPort: ops.port, close };
}

/** Past the workers' grace period, what the rest of a shutdown may take (servers, clients) before the process exits. */
const SHUTDOWN_MARGIN_MS = 10_000;

/** The body of every role app's main: start, then drain on signals. */
export async function runRolesMain(roles: readonly Role[]): Promise<void> {
  await startAndDrainOnSignals(
    () => startRoles(roles),
    (running) => running.log,
    (running) => running.config.worker.shutdownGraceMs + SHUTDOWN_MARGIN_MS,
  );
}
