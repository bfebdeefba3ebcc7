import type { BenchSandbox } from './bench-sandbox.ts';
import { CpuSampler, type CpuShare, type ServicePids } from './cpu-sampler.ts';
import { sampleWaits, type WaitProfile } from './pg-waits.ts';
import { redisCensus, type RedisCensus } from './redis-census.ts';
import { commandStats, type CommandStats } from './redis-stats.ts';
import { sleep } from './stats.ts';
import { startWorkers } from './worker-processes.ts';

export interface RefreshThroughputResult {
  workers: number;
  concurrency: number;
  refreshesPerSecond: number;
  /** Highest resident set size of any worker process during the run. */
  workerMaxRssBytes: number;
  cpu: CpuShare;
  pgWaits: WaitProfile;
  redis: { commandsPerRefresh: number; usecPerRefresh: number; top: Record<string, number> };
  /** Postgres transactions committed per refresh (`pg_stat_database.xact_commit`, the whole database's). */
  pgCommitsPerRefresh?: number;
  /** Where the Redis commands of a refresh come from (MONITOR, in a short window after the measured one). */
  redisCensus?: RedisCensus;
  /** Connections still due when the window closed: must be > 0, or the backlog ran dry and the figure is low. */
  backlogLeft: number;
}

export interface ThroughputOptions {
  workers: number;
  concurrency: number;
  warmupMs: number;
  windowMs: number;
  services: ServicePids;
  /** Extra node flags for the worker processes (`--cpu-prof`, ...). */
  nodeOptions?: readonly string[];
  label: string;
}

async function refreshed(sandbox: BenchSandbox): Promise<number> {
  const [row] = await sandbox.sql<
    { n: number }[]
  >`select count(*)::int as n from refresh_events where outcome = 'success'`;
  return row?.n ?? 0;
}

/** Committed transactions so far; backends report theirs at most a second late, which a window of seconds absorbs. */
async function commits(sandbox: BenchSandbox): Promise<number> {
  const [row] = await sandbox.sql<{ n: string }[]>`
    select xact_commit::text as n from pg_stat_database where datname = current_database()`;
  return Number(row?.n ?? 0);
}

async function due(sandbox: BenchSandbox): Promise<number> {
  const [row] = await sandbox.sql<{ n: number }[]>`
    select count(*)::int as n from connections where refresh_at < now() and status = 'connected'`;
  return row?.n ?? 0;
}

/**
 * Refreshes per second of `workers` worker processes at `concurrency` each, over a backlog of due connections (the
 * sandbox must hold one large enough): successes committed to refresh_events, counted over a window after a warm-up,
 * while the CPU, Postgres waits and Redis commands are recorded to name the bottleneck.
 */
export async function refreshThroughput(
  sandbox: BenchSandbox,
  options: ThroughputOptions,
): Promise<RefreshThroughputResult> {
  const env = sandbox.env({ EVERGREEN_WORKER_CONCURRENCY: String(options.concurrency) });
  const workers = await startWorkers(options.workers, env, sandbox.dir, options.label, options.nodeOptions);
  try {
    await sleep(options.warmupMs);
    for (const w of workers) w.resetMaxRss();
    const sampler = new CpuSampler(options.services, { workers: workers.map((w) => w.pid) });
    const waits = sampleWaits(sandbox.sql);
    const redisStats = await commandStats(sandbox.redis);
    const commitsBefore = await commits(sandbox);
    const before = await refreshed(sandbox);
    const stopCpu = sampler.start();
    const t0 = performance.now();
    await sleep(options.windowMs);
    const after = await refreshed(sandbox);
    const commitsAfter = await commits(sandbox);
    const seconds = (performance.now() - t0) / 1_000;
    const cpu = stopCpu();
    const commands = await redisStats();
    const pgWaits = await waits();
    const count = after - before;
    const census = await redisCensus(sandbox.redisUrl, 1_500, () => refreshed(sandbox), sandbox.prefix);
    return {
      workers: options.workers,
      concurrency: options.concurrency,
      refreshesPerSecond: count / seconds,
      workerMaxRssBytes: Math.max(...workers.map((w) => w.maxRssBytes)),
      cpu,
      pgWaits,
      redis: perRefresh(commands, count),
      pgCommitsPerRefresh: Math.round(((commitsAfter - commitsBefore) / Math.max(1, count)) * 100) / 100,
      redisCensus: census,
      backlogLeft: await due(sandbox),
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

function perRefresh(stats: CommandStats, refreshes: number): RefreshThroughputResult['redis'] {
  const n = Math.max(1, refreshes);
  const top = Object.fromEntries(
    Object.entries(stats.commands)
      .slice(0, 8)
      .map(([name, s]) => [name, Math.round((s.calls / n) * 100) / 100]),
  );
  return {
    commandsPerRefresh: Math.round((stats.totalCalls / n) * 100) / 100,
    usecPerRefresh: Math.round((stats.totalUsec / n) * 10) / 10,
    top,
  };
}
