import { randomBytes, randomUUID } from 'node:crypto';
import { FakeProvider } from '@evergreen/fake-provider';
import { createLogger } from '@evergreen/log';
import { createEvergreen, type EnqueueConnectionResult } from '@evergreen/sdk';
import { BenchSandbox } from './bench-sandbox.ts';
import { redisUsedMemory } from './bulk-enqueue.ts';
import { CpuSampler, type CpuShare, type ServicePids } from './cpu-sampler.ts';
import { commandStats } from './redis-stats.ts';
import { BENCH_PROVIDER, inputFor, issueGrants, type Grant } from './population.ts';
import { measureSchedulerPasses, type SchedulerPasses } from './scale-passes.ts';
import { sleep, summary } from './stats.ts';
import { startWorkers, type WorkerProcess } from './worker-processes.ts';

export interface ScalePlan {
  connections: number;
  /** Each measured steady-state window (one worker, then two), in seconds. */
  windowSeconds: number;
  /** enqueueConnections' batch size. */
  batchSize: number;
  /** Per worker process. */
  concurrency: number;
}

export interface SteadyWindow {
  workers: number;
  /** Connections due inside the window (its first 15 s, while a new worker starts, not counted). */
  due: number;
  refreshesPerSecond: number;
  latenessMs: { n: number; p50: number; p99: number; max: number };
  /** Refreshes that reached the provider after the access token had expired, or never did. */
  expired: number;
  workerMaxRssBytes: number[];
  cpu: CpuShare;
  /** Every refresh the provider answered during the window, measured or not: the divisor of the per-refresh costs. */
  refreshes: number;
  /** WAL written during the window (the whole server's: run on a quiet machine), and per refresh. */
  walBytes: number;
  walBytesPerRefresh: number;
  /** Redis commands during the window (the whole server's), per refresh, and the busiest commands. */
  redisCallsPerRefresh: number;
  redisUsecPerRefresh: number;
  redisTopCommands: Record<string, number>;
}

export interface ScaleResults {
  connections: number;
  command: string;
  import: { seconds: number; connectionsPerSecond: number; batchSize: number; cpu: CpuShare };
  redis: { usedMemoryBytes: number; bytesPerConnection: number; jobs: number };
  postgres: {
    schemaBytes: number;
    bytesPerConnection: number;
    tables: Record<string, { tableBytes: number; indexBytes: number }>;
  };
  steady: SteadyWindow[];
  scheduler: SchedulerPasses;
}

const HOUR_MS = 3_600_000;
/** The production default buffer: a 1-hour token is refreshed 5 minutes before it lapses. */
const BUFFER_S = 300;
/** A worker that starts mid-run warms up; refreshes due in its first seconds are not counted. */
const SETTLE_MS = 15_000;

/**
 * A million connections on one machine (or `connections`): import them with enqueueConnections, weigh Redis and
 * Postgres, then hold a steady state where tokens live one hour, so refreshes fall due at connections/3600 per second
 * (about 280/s for a million), first with one worker process and then with two, measuring lateness at the provider;
 * then the scheduler's passes over the whole population. Its own schema and Redis prefix, dropped at the end.
 *
 * Refresh times are spread uniformly over the hour after the import. Only connections due inside the two measured
 * windows hold real grants at the fake provider (a million grants would be the benchmark's own memory, not
 * Evergreen's); the others are never due while workers run.
 */
export async function scaleScenario(
  services: { databaseUrl: string; redisUrl: string; pids: ServicePids; progress: (line: string) => void },
  plan: ScalePlan,
  command: string,
): Promise<ScaleResults> {
  const { progress } = services;
  const sandbox = await BenchSandbox.create(services.databaseUrl, services.redisUrl);
  const provider = await FakeProvider.start({ latencyMs: 0, accessTokenLifetimeSeconds: 3_600 });
  sandbox.useProviders([{ id: BENCH_PROVIDER, tokenUrl: provider.tokenUrl, refreshBufferSeconds: BUFFER_S }]);
  const evergreen = createEvergreen({ config: sandbox.config(), logger: createLogger({ level: 'warn' }) });
  const workers: WorkerProcess[] = [];
  try {
    // A small import first gives the rate, so the hour of due times starts once the big one is done.
    const calibration = Math.min(5_000, Math.max(500, Math.round(plan.connections / 100)));
    const t0 = performance.now();
    await evergreen.enqueueConnections(
      Array.from({ length: calibration }, () => inputFor(fakeGrant(), undefined, 86_400)),
      { batchSize: plan.batchSize },
    );
    const rate = calibration / ((performance.now() - t0) / 1_000);
    // Every token must have a lifetime of at least twice the buffer when enqueued, or the short-lifetime clamp moves
    // its refresh later (timing.ts): the first due time is a buffer's length past the estimated end of the import.
    const windowStart = Date.now() + (plan.connections / rate) * 1_000 * 1.5 + BUFFER_S * 1_000 + 30_000;
    const windowMs = plan.windowSeconds * 1_000;
    const measuredEnd = windowStart + 2 * windowMs;
    progress(
      `scale: ${plan.connections} connections; import at ~${rate.toFixed(0)}/s; first due in ${((windowStart - Date.now()) / 1_000).toFixed(0)} s`,
    );

    // Due uniformly over the hour from windowStart; those due before the measured windows end get real grants.
    const dueAt = Array.from({ length: plan.connections }, () => windowStart + Math.random() * HOUR_MS);
    const grants = dueAt.map((due) => (due < measuredEnd + 60_000 ? issueGrants(provider, 1)[0]! : fakeGrant()));
    const usedBefore = await redisUsedMemory(sandbox);
    const stopCpu = new CpuSampler(services.pids).start();
    const i0 = performance.now();
    const result = await evergreen.enqueueConnections(
      grants.map((g, i) => inputFor(g, new Date(dueAt[i]! + BUFFER_S * 1_000))),
      { batchSize: plan.batchSize },
    );
    const importSeconds = (performance.now() - i0) / 1_000;
    const importCpu = stopCpu();
    if (result.failed > 0) throw new Error(`scale: ${result.failed} connections failed to enqueue`);
    const scheduled = result.results as (EnqueueConnectionResult & { ok: true })[];
    progress(`  import: ${importSeconds.toFixed(1)} s, ${(plan.connections / importSeconds).toFixed(0)}/s`);
    if (Date.now() > windowStart - 10_000) progress('  warning: the import ran into the due window');

    const usedAfter = await redisUsedMemory(sandbox);
    const redis = {
      usedMemoryBytes: usedAfter - usedBefore,
      bytesPerConnection: (usedAfter - usedBefore) / plan.connections,
      jobs: plan.connections,
    };
    const postgres = await postgresSize(sandbox, plan.connections + calibration);
    progress(
      `  Redis ${redis.bytesPerConnection.toFixed(0)} B/connection; Postgres ${postgres.bytesPerConnection.toFixed(0)} B/connection`,
    );

    // Steady state: one worker from before the first due time, a second one from the start of the second window.
    const env = sandbox.env({ EVERGREEN_WORKER_CONCURRENCY: String(plan.concurrency) });
    workers.push(...(await startWorkers(1, env, sandbox.dir, 'scale-a')));
    const requestsBefore = provider.requests.length;
    await sleep(Math.max(0, windowStart - Date.now()));
    const steady: SteadyWindow[] = [];
    const measureWindow = async (count: number) => {
      const from = windowStart + (count - 1) * windowMs;
      for (const w of workers) w.resetMaxRss();
      const walBefore = await walLsn(sandbox);
      const stopRedis = await commandStats(sandbox.redis);
      const requestsAtStart = provider.requests.length;
      const stopWindowCpu = new CpuSampler(services.pids, { workers: workers.map((w) => w.pid) }).start();
      await sleep(Math.max(0, from + windowMs - Date.now()));
      const cpu = stopWindowCpu();
      const redisStats = await stopRedis();
      const [wal] = await sandbox.sql<{ bytes: string }[]>`
        select pg_wal_lsn_diff(pg_current_wal_lsn(), ${walBefore}::pg_lsn)::text as bytes`;
      const walBytes = Number(wal?.bytes ?? 0);
      const refreshes = provider.requests.slice(requestsAtStart).filter((r) => r.outcome === 'ok').length;
      const perRefresh = (n: number) => Math.round((n / Math.max(1, refreshes)) * 10) / 10;
      const costs = {
        refreshes,
        walBytes,
        walBytesPerRefresh: perRefresh(walBytes),
        redisCallsPerRefresh: perRefresh(redisStats.totalCalls),
        redisUsecPerRefresh: perRefresh(redisStats.totalUsec),
        redisTopCommands: Object.fromEntries(
          Object.entries(redisStats.commands)
            .slice(0, 8)
            .map(([name, c]) => [name, perRefresh(c.calls)]),
        ),
      };
      const rss = workers.map((w) => w.maxRssBytes);
      // The second worker joins as the first window closes; what falls due while it starts is not counted.
      if (count === 1) workers.push(...(await startWorkers(1, env, sandbox.dir, 'scale-b')));
      const measuredFrom = count === 2 ? from + SETTLE_MS : from;
      const window: SteadyWindow = {
        workers: count,
        ...(await windowLateness(provider, grants, scheduled, requestsBefore, measuredFrom, from + windowMs)),
        workerMaxRssBytes: rss,
        cpu,
        ...costs,
      };
      steady.push(window);
      progress(
        `  ${count} worker(s): ${window.due} due, ${window.refreshesPerSecond}/s, lateness p50 ${window.latenessMs.p50} ms p99 ${window.latenessMs.p99} ms max ${window.latenessMs.max} ms, expired ${window.expired}, rss ${rss.map((b) => (b / 2 ** 20).toFixed(0)).join('+')} MiB`,
      );
    };
    await measureWindow(1);
    await measureWindow(2);
    await Promise.all(workers.splice(0).map((w) => w.stop()));

    progress('scale: scheduler passes over the whole population (no workers running)');
    const scheduler = await measureSchedulerPasses(sandbox, progress);
    return {
      connections: plan.connections,
      command,
      import: {
        seconds: importSeconds,
        connectionsPerSecond: plan.connections / importSeconds,
        batchSize: plan.batchSize,
        cpu: importCpu,
      },
      redis,
      postgres,
      steady,
      scheduler,
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await evergreen.close();
    await provider.close();
    await sandbox.cleanup();
  }
}

async function walLsn(sandbox: BenchSandbox): Promise<string> {
  const [row] = await sandbox.sql<{ lsn: string }[]>`select pg_current_wal_lsn()::text as lsn`;
  return row!.lsn;
}

/** Tokens the provider never issued: for connections not due while the workers run. */
function fakeGrant(): Grant {
  return {
    connectionId: randomUUID(),
    grantId: '',
    accessToken: randomBytes(24).toString('base64url'),
    refreshToken: randomBytes(24).toString('base64url'),
  };
}

/** Lateness at the provider of the connections due in [from, to): first refresh after the run began, against the due time. */
async function windowLateness(
  provider: FakeProvider,
  grants: readonly Grant[],
  scheduled: readonly EnqueueConnectionResult[],
  requestsBefore: number,
  from: number,
  to: number,
): Promise<Pick<SteadyWindow, 'due' | 'refreshesPerSecond' | 'latenessMs' | 'expired'>> {
  const due = new Map<string, { refreshAt: number; expiresAt: number }>();
  grants.forEach((g, i) => {
    const s = scheduled[i]!;
    const refreshAt = s.refreshAt!.getTime();
    if (g.grantId !== '' && refreshAt >= from && refreshAt < to) {
      due.set(g.grantId, { refreshAt, expiresAt: s.expiresAt!.getTime() });
    }
  });
  // Give the last ones due a moment to be refreshed (they are late then, which is what is measured).
  const deadline = Date.now() + 30_000;
  const first = new Map<string, number>();
  let scanned = requestsBefore;
  for (;;) {
    const requests = provider.requests;
    for (; scanned < requests.length; scanned++) {
      const r = requests[scanned]!;
      if (r.outcome === 'ok' && r.grantId !== null && due.has(r.grantId) && !first.has(r.grantId))
        first.set(r.grantId, r.at);
    }
    if (first.size >= due.size || Date.now() > deadline) break;
    await sleep(250);
  }
  const lateness: number[] = [];
  let expired = 0;
  for (const [grantId, plan] of due) {
    const at = first.get(grantId);
    if (at === undefined || at > plan.expiresAt) expired += 1;
    if (at !== undefined) lateness.push(at - plan.refreshAt);
  }
  return {
    due: due.size,
    refreshesPerSecond: Math.round((first.size / ((to - from) / 1_000)) * 10) / 10,
    latenessMs: summary(lateness),
    expired,
  };
}

async function postgresSize(sandbox: BenchSandbox, rows: number): Promise<ScaleResults['postgres']> {
  const list = await sandbox.sql<{ name: string; table_bytes: string; index_bytes: string }[]>`
    select c.relname as name, pg_table_size(c.oid)::text as table_bytes, pg_indexes_size(c.oid)::text as index_bytes
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${sandbox.schema} and c.relkind = 'r'`;
  const tables: Record<string, { tableBytes: number; indexBytes: number }> = {};
  let schemaBytes = 0;
  for (const t of list) {
    tables[t.name] = { tableBytes: Number(t.table_bytes), indexBytes: Number(t.index_bytes) };
    schemaBytes += Number(t.table_bytes) + Number(t.index_bytes);
  }
  return { schemaBytes, bytesPerConnection: schemaBytes / rows, tables };
}
