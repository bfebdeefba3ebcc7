import { FakeProvider } from '@evergreen/fake-provider';
import { createLogger } from '@evergreen/log';
import { createEvergreen, type Evergreen } from '@evergreen/sdk';
import { ApiKeyStore, closeDatabase, openDatabase } from '@evergreen/store';
import { ApiServers, httpLoad, type ApiReadResult } from './api-reads.ts';
import { BenchSandbox } from './bench-sandbox.ts';
import {
  memoryPerConnection,
  rawAddBulk,
  redisUsedMemory,
  timedEnqueue,
  type EnqueueResult,
  type MemoryResult,
  type RawAddBulkResult,
} from './bulk-enqueue.ts';
import type { ServicePids } from './cpu-sampler.ts';
import { DurableWrite, type DurableWriteResult } from './durable-write.ts';
import { measureLateness, type LatenessResult } from './lateness.ts';
import { noopQueueThroughput, type NoopQueueResult } from './noop-queue.ts';
import { skeletonRefreshThroughput, type SkeletonRefreshResult } from './skeleton-refresh.ts';
import { BENCH_PROVIDER, inputFor, issueGrants, seedDueBacklog } from './population.ts';
import { refreshThroughput, type RefreshThroughputResult } from './refresh-throughput.ts';
import { tokenExchangeThroughput, type TokenExchangeResult } from './token-exchange.ts';
import { tokenReads, type TokenReadResult } from './token-read.ts';

export interface Services {
  databaseUrl: string;
  redisUrl: string;
  pids: ServicePids;
  progress: (line: string) => void;
}

/** A sandbox with the fast fake provider registered and a producer client: what every scenario starts from. */
async function setUp(
  services: Pick<Services, 'databaseUrl' | 'redisUrl'>,
  options: {
    refreshBufferSeconds?: number;
    env?: Record<string, string>;
    provider?: { accessTokenLifetimeSeconds?: number };
  } = {},
): Promise<{ sandbox: BenchSandbox; provider: FakeProvider; evergreen: Evergreen; close: () => Promise<void> }> {
  const sandbox = await BenchSandbox.create(services.databaseUrl, services.redisUrl);
  const provider = await FakeProvider.start({ latencyMs: 0, ...options.provider });
  sandbox.useProviders([
    { id: BENCH_PROVIDER, tokenUrl: provider.tokenUrl, refreshBufferSeconds: options.refreshBufferSeconds ?? 300 },
  ]);
  const evergreen = createEvergreen({
    config: sandbox.config(options.env),
    logger: createLogger({ level: 'warn' }),
  });
  return {
    sandbox,
    provider,
    evergreen,
    close: async () => {
      await evergreen.close();
      await provider.close();
      await sandbox.cleanup();
    },
  };
}

async function dueCount(sandbox: BenchSandbox): Promise<number> {
  const [row] = await sandbox.sql<{ n: number }[]>`
    select count(*)::int as n from connections where refresh_at < now() + interval '2 seconds' and status = 'connected'`;
  return row?.n ?? 0;
}

/** Keeps the due backlog large enough for the next window at (up to twice) the last rate seen. */
async function topUp(
  sandbox: BenchSandbox,
  evergreen: Evergreen,
  provider: FakeProvider,
  needed: number,
  progress: (line: string) => void,
): Promise<void> {
  const have = await dueCount(sandbox);
  if (have >= needed) return;
  const add = Math.ceil((needed - have) / 1_000) * 1_000;
  progress(`  seeding ${add} due connections (${have} left)`);
  await seedDueBacklog(evergreen, provider, add);
}

export interface ThroughputLevel {
  concurrency: number;
  refresh: RefreshThroughputResult;
  durableWrite: DurableWriteResult;
  noopQueue: NoopQueueResult;
  /** Absent in runs stored before issue 21 measured it. */
  tokenExchange?: TokenExchangeResult;
  /** The three parts composed in one process, nothing of Evergreen's own (absent in runs before it existed). */
  skeleton?: SkeletonRefreshResult;
}

export interface ThroughputPlan {
  levels: number[];
  warmupMs: number;
  windowMs: number;
  durableWriteSeconds: number;
  initialBacklog: number;
  nodeOptions?: (concurrency: number) => readonly string[];
}

/** Scenario 1: one worker process at each concurrency, beside the durable-write limit and BullMQ's no-op ceiling. */
export async function throughputScenario(services: Services, plan: ThroughputPlan): Promise<ThroughputLevel[]> {
  const { sandbox, provider, evergreen, close } = await setUp(services);
  try {
    const durable = new DurableWrite(sandbox);
    const levels: ThroughputLevel[] = [];
    let lastRate = plan.initialBacklog / ((plan.warmupMs + plan.windowMs) / 1_000 + 6);
    for (const concurrency of plan.levels) {
      services.progress(`throughput: concurrency ${concurrency}`);
      const durableWrite = await durable.measure(concurrency, plan.durableWriteSeconds);
      services.progress(`  durable write: ${durableWrite.updatesPerSecond.toFixed(0)} UPDATE/s (${durableWrite.tool})`);
      const partWindow = { warmupMs: 1_000, windowMs: Math.max(2_000, plan.windowMs / 2) };
      const noopQueue = await noopQueueThroughput(sandbox, concurrency, partWindow);
      services.progress(
        `  no-op BullMQ: ${noopQueue.jobsPerSecond.toFixed(0)} jobs/s (backlog ${noopQueue.backlog}, ${noopQueue.backlogLeft} left)`,
      );
      if (noopQueue.backlogLeft === 0) services.progress('  warning: the no-op backlog ran dry inside the window');
      const tokenExchange = await tokenExchangeThroughput(provider, concurrency, partWindow);
      services.progress(
        `  token exchange: ${tokenExchange.requestsPerSecond.toFixed(0)} requests/s (${tokenExchange.failed} failed)`,
      );
      const skeleton = await skeletonRefreshThroughput(sandbox, provider, concurrency, {
        ...partWindow,
        ceiling: tokenExchange.requestsPerSecond,
        ...(plan.nodeOptions && { nodeOptions: plan.nodeOptions(concurrency) }),
      });
      services.progress(
        `  skeleton refresh: ${skeleton.refreshesPerSecond.toFixed(0)}/s, ${skeleton.cpuMsPerRefresh.toFixed(2)} ms of CPU each`,
      );
      const needed = Math.ceil(Math.max(lastRate * 2, 200) * ((plan.warmupMs + plan.windowMs) / 1_000 + 8));
      await topUp(sandbox, evergreen, provider, needed, services.progress);
      const refresh = await refreshThroughput(sandbox, {
        workers: 1,
        concurrency,
        warmupMs: plan.warmupMs,
        windowMs: plan.windowMs,
        services: services.pids,
        label: `throughput-c${concurrency}`,
        ...(plan.nodeOptions && { nodeOptions: plan.nodeOptions(concurrency) }),
      });
      lastRate = refresh.refreshesPerSecond;
      services.progress(
        `  refresh: ${refresh.refreshesPerSecond.toFixed(0)}/s, rss ${(refresh.workerMaxRssBytes / 2 ** 20).toFixed(0)} MiB, cpu ${JSON.stringify(refresh.cpu.cores)}`,
      );
      if (refresh.backlogLeft === 0) services.progress('  warning: the backlog ran dry inside the window');
      levels.push({ concurrency, refresh, durableWrite, noopQueue, tokenExchange, skeleton });
    }
    return levels;
  } finally {
    await close();
  }
}

export interface ScaleOutPlan {
  workers: number[];
  concurrency: number;
  warmupMs: number;
  windowMs: number;
  initialBacklog: number;
}

/** Scenario 6: 1, 2, 4 worker processes at the same concurrency each, with where the CPU went. */
export async function scaleOutScenario(services: Services, plan: ScaleOutPlan): Promise<RefreshThroughputResult[]> {
  const { sandbox, provider, evergreen, close } = await setUp(services);
  try {
    const results: RefreshThroughputResult[] = [];
    let lastRate = plan.initialBacklog / ((plan.warmupMs + plan.windowMs) / 1_000 + 6);
    for (const workers of plan.workers) {
      services.progress(`scale-out: ${workers} worker process(es) × concurrency ${plan.concurrency}`);
      const needed = Math.ceil(Math.max(lastRate * 2, 200) * ((plan.warmupMs + plan.windowMs) / 1_000 + 10));
      await topUp(sandbox, evergreen, provider, needed, services.progress);
      const result = await refreshThroughput(sandbox, {
        workers,
        concurrency: plan.concurrency,
        warmupMs: plan.warmupMs,
        windowMs: plan.windowMs,
        services: services.pids,
        label: `scaleout-w${workers}`,
      });
      lastRate = result.refreshesPerSecond;
      services.progress(
        `  refresh: ${result.refreshesPerSecond.toFixed(0)}/s, cpu ${JSON.stringify(result.cpu.cores)} of ${result.cpu.machineTotal}`,
      );
      results.push(result);
    }
    return results;
  } finally {
    await close();
  }
}

export interface TokenPlan {
  connections: number;
  concurrencies: number[];
  ms: number;
}

/** Scenario 5: getValidAccessToken on fresh tokens beside a plain primary-key SELECT. */
export async function tokenScenario(services: Services, plan: TokenPlan): Promise<TokenReadResult[]> {
  const { sandbox, provider, evergreen, close } = await setUp(services);
  try {
    const grants = issueGrants(provider, plan.connections);
    const enq = await evergreen.enqueueConnections(grants.map((g) => inputFor(g, undefined, 3_600)));
    if (enq.failed > 0) throw new Error(`token scenario: ${enq.failed} connections failed to enqueue`);
    const ids = grants.map((g) => g.connectionId);
    const results: TokenReadResult[] = [];
    for (const concurrency of plan.concurrencies) {
      services.progress(`tokens: concurrency ${concurrency}`);
      const r = await tokenReads(sandbox, evergreen, ids, {
        concurrency,
        ms: plan.ms,
        poolSize: sandbox.config().dbPoolSize,
      });
      services.progress(
        `  getValidAccessToken ${r.getValidAccessToken.perSecond}/s p99 ${r.getValidAccessToken.p99Ms} ms; SELECT ${r.primaryKeySelect.perSecond}/s p99 ${r.primaryKeySelect.p99Ms} ms`,
      );
      results.push(r);
    }
    return results;
  } finally {
    await close();
  }
}

export interface ApiPlan {
  connections: number;
  concurrencies: number[];
  ms: number;
  /** Each server's unmeasured run before each measured one (connections opened, statements prepared, code warm). */
  warmupMs: number;
  /** Node options of both server processes (`--profile DIR`: their CPU profiles). */
  nodeOptions?: readonly string[];
}

/**
 * Scenario 7: `GET /v1/connections/{id}/token` on fresh tokens, through the api role in its own process, beside a
 * minimal Fastify route in a process of the same kind doing the same primary-key SELECT; keep-alive load from
 * autocannon rotating over the connection ids. The key's rate limit is set out of reach but left on, so each request
 * still pays its Redis round trip as in production.
 */
export async function apiScenario(services: Services, plan: ApiPlan): Promise<ApiReadResult[]> {
  const { sandbox, provider, evergreen, close } = await setUp(services);
  let servers: ApiServers | null = null;
  try {
    const grants = issueGrants(provider, plan.connections);
    const enq = await evergreen.enqueueConnections(grants.map((g) => inputFor(g, undefined, 3_600)));
    if (enq.failed > 0) throw new Error(`api scenario: ${enq.failed} connections failed to enqueue`);
    const ids = grants.map((g) => g.connectionId);
    const poolSize = sandbox.config().dbPoolSize;
    const db = openDatabase({ url: sandbox.databaseUrl, schema: sandbox.schema, max: 1 });
    const key = await new ApiKeyStore(db)
      .create({ name: 'bench', scopes: ['tokens:read'], providers: null })
      .finally(() => closeDatabase(db));
    servers = await ApiServers.start(
      sandbox,
      sandbox.env({
        EVERGREEN_API_PORT: '0',
        EVERGREEN_API_RATE_LIMIT_PER_MINUTE: '10000000',
        EVERGREEN_DB_POOL_SIZE: String(poolSize),
      }),
      plan.nodeOptions,
    );
    let next = 0;
    const path = () => `/v1/connections/${ids[next++ % ids.length]}/token`;
    const headers = { authorization: `Bearer ${key.key}` };
    const results: ApiReadResult[] = [];
    for (const concurrency of plan.concurrencies) {
      services.progress(`api: concurrency ${concurrency}`);
      const load = (url: string, ms: number) =>
        httpLoad(url, { concurrency, ms, path, ...(url === servers!.apiUrl && { headers }) });
      await load(servers.apiUrl, plan.warmupMs);
      const api = await load(servers.apiUrl, plan.ms);
      await load(servers.selectUrl, plan.warmupMs);
      const primaryKeySelect = await load(servers.selectUrl, plan.ms);
      services.progress(
        `  api ${api.perSecond}/s p50 ${api.p50Ms} ms p99 ${api.p99Ms} ms (non-2xx ${api.non2xx}); ` +
          `SELECT route ${primaryKeySelect.perSecond}/s p50 ${primaryKeySelect.p50Ms} ms p99 ${primaryKeySelect.p99Ms} ms`,
      );
      if (api.non2xx + api.errors + primaryKeySelect.non2xx + primaryKeySelect.errors > 0) {
        services.progress('  warning: some requests failed; BENCH_KEEP_LOGS=1 keeps the server logs');
      }
      results.push({ api, primaryKeySelect });
    }
    return results;
  } finally {
    await servers?.stop();
    await close();
  }
}

export interface SchedulePlan {
  connections: number;
  /** Due times spread uniformly over this window. */
  windowMs: number;
  refreshBufferSeconds: number;
  batchSize: number;
  workers: number;
  concurrency: number;
  calibration: number;
  /** Connections due at once when the workers start, not measured: they warm the workers up. */
  warmup: number;
  /** false: stop after the enqueue and memory figures (`--only enqueue`, for profiling the enqueue). */
  lateness: boolean;
}

export interface ScheduleResults {
  rawAddBulk: RawAddBulkResult;
  enqueue: Omit<EnqueueResult, 'results'>;
  memory: MemoryResult;
  lateness: LatenessResult | null;
}

/**
 * Scenarios 3, 4 and 2 on one population: raw addBulk of the delayed jobs, then enqueueConnections of the same number
 * of connections (due over the window, which starts once the enqueue is done), the memory they take, then the
 * lateness of their refreshes.
 */
export async function scheduleScenario(services: Services, plan: SchedulePlan): Promise<ScheduleResults> {
  const jitterMs = 5_000;
  const env = { EVERGREEN_REFRESH_JITTER_MS: String(jitterMs) };
  const { sandbox, provider, evergreen, close } = await setUp(services, {
    refreshBufferSeconds: plan.refreshBufferSeconds,
    env,
    provider: { accessTokenLifetimeSeconds: 3_600 },
  });
  try {
    services.progress(`enqueue: issuing ${plan.connections} grants`);
    const grants = issueGrants(provider, plan.connections);
    const later = Date.now() + 3_600_000;
    services.progress(`enqueue: raw BullMQ addBulk of ${plan.connections} delayed jobs`);
    const raw = await rawAddBulk(
      sandbox,
      grants.map((g, i) => ({ connectionId: g.connectionId, runAt: later + i })),
      plan.batchSize,
      services.pids,
    );
    services.progress(`  raw addBulk: ${raw.jobsPerSecond.toFixed(0)} jobs/s, cpu ${JSON.stringify(raw.cpu.cores)}`);

    // A small enqueue first, to know how long the big one takes, so the due window starts after it (far-future rows).
    const calibration = issueGrants(provider, plan.calibration);
    const t0 = performance.now();
    await evergreen.enqueueConnections(
      calibration.map((g) => inputFor(g, undefined, 86_400)),
      {
        batchSize: plan.batchSize,
      },
    );
    const calibratedRate = plan.calibration / ((performance.now() - t0) / 1_000);
    const enqueueEstimateMs = (plan.connections / calibratedRate) * 1_000;
    const windowStart = Date.now() + enqueueEstimateMs * 1.5 + 20_000;
    services.progress(
      `enqueue: calibrated ${calibratedRate.toFixed(0)}/s; due window starts in ${((windowStart - Date.now()) / 1_000).toFixed(0)} s`,
    );

    const usedBefore = await redisUsedMemory(sandbox);
    const [pgBefore] = await sandbox.sql<{ conn: string; events: string }[]>`
      select pg_total_relation_size('connections')::text as conn, pg_total_relation_size('connection_events')::text as events`;
    const buffer = plan.refreshBufferSeconds * 1_000;
    const inputs = grants.map((g) => inputFor(g, new Date(windowStart + Math.random() * plan.windowMs + buffer)));
    const enqueue = await timedEnqueue(evergreen, inputs, plan.batchSize, services.pids);
    services.progress(
      `  enqueueConnections: ${enqueue.connectionsPerSecond.toFixed(0)} connections/s, cpu ${JSON.stringify(enqueue.cpu.cores)}`,
    );
    const usedAfter = await redisUsedMemory(sandbox);
    const memory = await memoryPerConnection(sandbox, plan.connections, usedBefore, usedAfter, {
      connectionsTable: Number(pgBefore?.conn ?? 0),
      connectionEvents: Number(pgBefore?.events ?? 0),
    });
    services.progress(
      `  memory: Redis ${memory.redisBytesPerConnection.toFixed(0)} B/connection (sampled ${memory.redisSampledBytesPerConnection.toFixed(0)}), Postgres ${memory.postgresBytesPerConnection.toFixed(0)} B/connection`,
    );
    if (Date.now() > windowStart - 10_000) services.progress('  warning: the enqueue ran into the due window');

    const { results: _results, ...enqueueFigures } = enqueue;
    if (!plan.lateness) return { rawAddBulk: raw, enqueue: enqueueFigures, memory, lateness: null };
    // Workers in production run warm; a fresh process compiles its hot paths during its first refreshes. A backlog
    // due at once (not counted) warms the workers up before the measured window opens.
    await seedDueBacklog(evergreen, provider, plan.warmup);
    services.progress(
      `lateness: ${plan.connections} connections due over ${plan.windowMs / 1_000} s, ${plan.workers} worker(s) × concurrency ${plan.concurrency}`,
    );
    const lateness = await measureLateness(sandbox, provider, grants, enqueue.results, {
      workers: plan.workers,
      concurrency: plan.concurrency,
      services: services.pids,
      env,
    });
    services.progress(
      `  lateness p50 ${lateness.latenessMs.p50} ms, p99 ${lateness.latenessMs.p99} ms, max ${lateness.latenessMs.max} ms; expired ${lateness.expired}`,
    );
    return { rawAddBulk: raw, enqueue: enqueueFigures, memory, lateness };
  } finally {
    await close();
  }
}
