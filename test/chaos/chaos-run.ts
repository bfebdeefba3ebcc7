import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { loadConfig } from '@evergreen/config';
import { Keyring } from '@evergreen/keyring';
import { createLogger } from '@evergreen/log';
import { createEvergreen, type Evergreen } from '@evergreen/sdk';
import { planChaos, seededRandom, type ChaosAction } from './chaos-plan.ts';
import { startChaosProviders } from './chaos-providers.ts';
import {
  checkStoredTokens,
  numbersFromWorkerLogs,
  enqueueAll,
  ExpirySampler,
  pollUntil,
  readStoreFacts,
  waitUntil,
  type EndState,
  type MutableGrant,
} from './chaos-support.ts';
import { collectSecretScan } from './evidence.ts';
import { OwnedPostgres, OwnedRedis } from './owned-services.ts';
import { writeReport } from './report.ts';
import { ChaosProcess, type RoleApp } from './role-processes.ts';
import { judge, percentiles, type ProviderRequest, type Verdict } from './verdict.ts';

export interface ChaosOptions {
  /** How long faults are injected; a settle phase without faults follows. */
  durationMs: number;
  connections: number;
  workers: number;
  /** Refreshes in flight per provider queue in one worker. */
  concurrency: number;
  seed: number;
  /** Reports and logs go to `<outDir>/<run id>/`. */
  outDir: string;
  /** Adds a strictly single-use provider without a grace period, to measure what the crash window costs it. */
  strictProvider: boolean;
  /** Progress lines on stderr. */
  progress: (line: string) => void;
}

export interface ChaosResult {
  verdict: Verdict;
  runDir: string;
  reportFile: string;
}

/**
 * Production timings, compressed about sixfold like the token lifetimes (1-2 minutes instead of an hour), so that the
 * ratios that matter hold: a killed worker's recovery (job lock + stall check, then the refresh lock's TTL) stays a
 * small part of the refresh buffer, and so does the longest retry backoff.
 */
export const CHAOS_TIMINGS: Record<string, string> = {
  EVERGREEN_LOG_LEVEL: 'info',
  EVERGREEN_OPS_PORT: '0',
  EVERGREEN_JOB_LOCK_MS: '4000',
  EVERGREEN_STALLED_INTERVAL_MS: '2000',
  EVERGREEN_LOCK_TTL_MS: '8000',
  EVERGREEN_HTTP_CONNECT_TIMEOUT_MS: '2000',
  EVERGREEN_HTTP_HEADERS_TIMEOUT_MS: '3000',
  EVERGREEN_HTTP_BODY_TIMEOUT_MS: '3000',
  EVERGREEN_HTTP_DEADLINE_MS: '4000',
  EVERGREEN_RETRY_BASE_MS: '500',
  EVERGREEN_RETRY_CAP_MS: '4000',
  EVERGREEN_RETRY_COOLDOWN_MS: '10000',
  EVERGREEN_RATE_LIMIT_DEFAULT_MS: '5000',
  EVERGREEN_RATE_LIMIT_MAX_MS: '20000',
  EVERGREEN_MIN_REFRESH_INTERVAL_MS: '5000',
  EVERGREEN_REFRESH_JITTER_MS: '3000',
  EVERGREEN_RECONCILE_INTERVAL_MS: '5000',
  EVERGREEN_RECONCILE_GRACE_MS: '5000',
  EVERGREEN_SHUTDOWN_GRACE_MS: '8000',
  // The breaker opens on the fault windows too; at production's 15 s probe interval and minute-long ramp it held a
  // provider for a quarter of a 2-minute token's buffer, and two tokens lapsed in CI.
  EVERGREEN_BREAKER_WINDOW_MS: '10000',
  EVERGREEN_BREAKER_PROBE_INTERVAL_MS: '2500',
  EVERGREEN_BREAKER_RAMP_MS: '10000',
};

const ADMIN_TOKEN = 'chaos-admin-token-not-a-secret';

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const startedAt = new Date();
  const runId = `chaos-${startedAt.toISOString().replace(/[:.]/g, '-')}`;
  const runDir = resolve(options.outDir, runId);
  // The servers' data lives apart from the report: big, disposable, and socket paths must stay short.
  const dataDir = mkdtempSync(join(tmpdir(), 'evergreen-chaos-'));
  const logDir = join(runDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const say = options.progress;
  const random = seededRandom(options.seed ^ 0x5eed);
  const timeline: { at: number; what: string }[] = [];
  const mark = (what: string) => {
    timeline.push({ at: Date.now(), what });
    say(`  ${((Date.now() - startedAt.getTime()) / 1000).toFixed(1)} s  ${what}`);
  };

  say(`chaos ${runId}: seed ${options.seed}, ${options.connections} connections, ${options.workers} workers`);
  const redis = await OwnedRedis.start(join(dataDir, 'redis'));
  const pg = await OwnedPostgres.start(join(dataDir, 'postgres'));
  const providers = await startChaosProviders({
    connections: options.connections,
    strictProvider: options.strictProvider,
  });
  const providersFile = join(runDir, 'providers.json');
  writeFileSync(
    providersFile,
    JSON.stringify(
      providers.map((p) => p.entry),
      null,
      2,
    ),
  );
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    EVERGREEN_ENV_FILE: 'none',
    DATABASE_URL: pg.url,
    REDIS_URL: redis.url,
    EVERGREEN_ENCRYPTION_KEYS: Keyring.generateEntry('chaos1'),
    EVERGREEN_PROVIDERS: providersFile,
    EVERGREEN_ADMIN_TOKEN: ADMIN_TOKEN,
    EVERGREEN_BOARD_PORT: '0',
    EVERGREEN_WORKER_CONCURRENCY: String(options.concurrency),
    ...CHAOS_TIMINGS,
  };
  const config = loadConfig(env);

  const processes: ChaosProcess[] = [];
  let workerSeq = 0;
  const spawnRole = (app: RoleApp, name: string) => {
    const p = new ChaosProcess(app, name, env, logDir);
    processes.push(p);
    return p;
  };
  const spawnWorker = () => spawnRole('worker', `worker-${workerSeq++}`);
  const liveWorkers = () => processes.filter((p) => p.app === 'worker' && p.alive && !p.stopping);
  const counters: Record<string, number> = {
    workersKilled: 0,
    workersDrained: 0,
    redisCrashes: 0,
    redisFlushes: 0,
    postgresCuts: 0,
    postgresCrashes: 0,
    providerFaultWindows: 0,
    grantsRevokedOnPurpose: 0,
  };
  const control = new Set<string>();
  let grants: MutableGrant[] = [];
  let evergreen: Evergreen | null = null;
  const sampler = new ExpirySampler(pg.url, config.dbSchema);
  const faultTimers = new Set<NodeJS.Timeout>();
  // The providers live in this process: how late their event loop ran is how late their clock of record can be.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();

  const perform = async (action: ChaosAction): Promise<void> => {
    switch (action.kind) {
      case 'kill-worker':
      case 'term-worker': {
        // A drain is only a drain once the worker runs; a kill may land at any moment, boot included.
        const live = liveWorkers().filter((p) => action.kind === 'kill-worker' || p.startedAt !== null);
        if (live.length === 0) break;
        const victim = live[Math.floor(random() * live.length)]!;
        if (action.kind === 'kill-worker') {
          victim.kill();
          counters.workersKilled! += 1;
        } else {
          victim.terminate();
          counters.workersDrained! += 1;
          void victim.exited.then(({ code }) => mark(`${victim.name} drained, exit code ${code}`));
        }
        spawnWorker();
        mark(`${action.kind === 'kill-worker' ? 'SIGKILL' : 'SIGTERM'} ${victim.name}, replacement started`);
        break;
      }
      case 'redis-crash':
        await redis.crash();
        counters.redisCrashes! += 1;
        mark(`Redis killed, down for ${action.downMs} ms`);
        await delay(action.downMs);
        await redis.up();
        mark('Redis back (AOF replayed)');
        break;
      case 'redis-flushall':
        await redis.flushAll();
        counters.redisFlushes! += 1;
        mark('Redis FLUSHALL');
        break;
      case 'pg-cut':
        counters.postgresCuts! += 1;
        mark(`Postgres: ${await pg.cutConnections()} client connections terminated`);
        break;
      case 'pg-crash':
        await pg.crash();
        counters.postgresCrashes! += 1;
        mark(`Postgres crashed (immediate stop), down for ${action.downMs} ms`);
        await delay(action.downMs);
        await pg.up();
        mark('Postgres back (recovered from its WAL)');
        break;
      case 'provider-fault': {
        const provider = providers.find((p) => p.id === action.provider)!;
        provider.fake.setFaultForAll(action.fault);
        counters.providerFaultWindows! += 1;
        mark(`${provider.id}: ${action.label} for ${action.durationMs} ms`);
        const timer = setTimeout(() => {
          faultTimers.delete(timer);
          provider.fake.setFaultForAll(null);
        }, action.durationMs);
        faultTimers.add(timer);
        break;
      }
      case 'revoke': {
        const candidates = grants.filter((g) => !control.has(g.connectionId));
        for (let i = 0; i < action.count && candidates.length > 0; i++) {
          const g = candidates.splice(Math.floor(random() * candidates.length), 1)[0]!;
          control.add(g.connectionId);
          providers.find((p) => p.id === g.provider)!.fake.revoke(g.grantId);
          counters.grantsRevokedOnPurpose! += 1;
        }
        sampler.exclude(control);
        mark(`revoked ${action.count} grants at their provider (the control group)`);
        break;
      }
    }
  };

  try {
    // The scheduler migrates the schema at start; the workers and the board then find it ready.
    const scheduler = spawnRole('scheduler', 'scheduler');
    await waitUntil(() => scheduler.startedAt !== null, 90_000, 'the scheduler to start');
    for (let i = 0; i < options.workers; i++) spawnWorker();
    const board = spawnRole('board', 'board');
    await waitUntil(() => processes.every((p) => p.startedAt !== null), 90_000, 'every role process to start');
    mark(`${processes.length} processes started`);

    evergreen = createEvergreen({ config, logger: createLogger({ level: 'warn' }) });
    grants = await enqueueAll(evergreen, providers, options.connections, random);
    mark(`${grants.length} connections enqueued`);
    sampler.start();

    const plan = planChaos({
      seed: options.seed,
      durationMs: options.durationMs,
      providers,
      revocations: Math.max(2, Math.round(options.connections * 0.01)),
    });
    writeFileSync(join(runDir, 'plan.json'), JSON.stringify(plan, null, 2));
    const chaosStart = Date.now();
    for (const action of plan) {
      const wait = chaosStart + action.at - Date.now();
      if (wait > 0) await delay(wait);
      await perform(action);
    }
    const rest = chaosStart + options.durationMs - Date.now();
    if (rest > 0) await delay(rest);
    for (const timer of faultTimers) clearTimeout(timer);
    for (const p of providers) p.fake.setFaultForAll(null);
    const chaosEnd = Date.now();
    mark('chaos over: no more faults; settling');

    // Settled: every live connection connected, none overdue, and what the store holds is what its provider would
    // accept now (so no rotation lost to a fault is left pending); every revoked one found out and marked.
    const longest = Math.max(...providers.map((p) => p.lifetimeMs));
    const settled = await pollUntil(
      async () =>
        (await sampler.settled(control)) && (await checkStoredTokens(config, grants, providers, control)).stale === 0,
      longest + 30_000,
    );
    mark(settled ? 'settled' : 'did not settle within one lifetime and a half minute');

    const ended: { state: EndState | null } = { state: null };
    const scan = await collectSecretScan({
      providers,
      redisUrl: redis.url,
      processes,
      boardPort: board.boardPort!,
      adminToken: ADMIN_TOKEN,
      queueNames: providers.map((p) => `refresh-${p.id}`),
      logDir,
      stopProcesses: async () => {
        // Drained first, so no refresh is in flight while the stored tokens are compared with the providers'.
        for (const p of processes) if (p.alive) p.terminate();
        await Promise.all(processes.map((p) => p.exited));
        await sampler.stop();
        const state = await checkStoredTokens(config, grants, providers, control);
        ended.state = state;
        mark(`stored tokens checked: ${state.stale} of ${state.checked} not accepted by their provider`);
      },
    });
    const endState = ended.state;
    if (endState === null) throw new Error('chaos: the stored tokens were not checked');
    const scannedChars = [...scan.scanned.values()].reduce((a, b) => a + b, 0);
    mark(`secret scan: ${scan.hits.length} hits in ${scannedChars} characters`);

    const store = await readStoreFacts(pg.url, config.dbSchema);
    const requests = new Map<string, ProviderRequest[]>();
    for (const p of providers) {
      for (const r of p.fake.requests) {
        if (r.grantId === null) continue;
        let list = requests.get(r.grantId);
        if (!list) requests.set(r.grantId, (list = []));
        list.push({ at: r.at, grantId: r.grantId, status: r.status, outcome: r.outcome });
      }
    }
    for (const g of grants) {
      g.revokedBecause = providers.find((p) => p.id === g.provider)!.fake.grant(g.grantId)!.revokedBecause;
      g.control = control.has(g.connectionId);
    }
    const verdict = judge({
      grants,
      requests,
      rows: store.rows,
      commits: store.commits,
      expiredSightings: sampler.sightings,
      rateLimits: providers.flatMap((p) => (p.rateLimit ? [{ provider: p.id, ...p.rateLimit }] : [])),
      retry: { attempts: config.refresh.backoff.attempts, cooldownMs: config.refresh.backoff.cooldownMs },
      arrivalJitterMs: Math.ceil(loopDelay.max / 1e6),
      runEndedAt: endState.checkedAt,
      unexpectedExits: processes.filter((p) => p.crashed || p.drainFailed).length,
      secretHits: scan.hits.length,
      staleStoredTokens: endState.stale,
    });
    const reportFile = writeReport({
      runDir,
      options,
      startedAt,
      finishedAt: new Date(),
      chaosMs: chaosEnd - chaosStart,
      verdict,
      counters,
      timeline,
      plan,
      providers: providers.map((p) => ({
        id: p.id,
        lifetimeMs: p.lifetimeMs,
        rateLimit: p.rateLimit,
        strict: p.strict,
        requests: p.fake.requests.length,
        graceReplays: p.fake.graceReuseCount(),
        faultAnswers: p.fake.requests.filter((r) => r.outcome === 'fault').length,
      })),
      scan,
      endState,
      settled,
      store: { attempts: store.attempts },
      answerToCommitMs: percentiles(numbersFromWorkerLogs(logDir, 'commitMs')),
      breakerOutagesMs: numbersFromWorkerLogs(logDir, 'outageMs'),
      sampler: { samples: sampler.samples, failedSamples: sampler.failedSamples },
      processes: processes.map((p) => ({
        name: p.name,
        killedOnPurpose: p.killedOnPurpose,
        crashed: p.crashed,
        drainFailed: p.drainFailed,
      })),
    });
    return { verdict, runDir, reportFile };
  } finally {
    loopDelay.disable();
    for (const timer of faultTimers) clearTimeout(timer);
    await sampler.stop();
    for (const p of processes) if (p.alive) p.kill();
    await Promise.all(processes.map((p) => p.exited));
    await evergreen?.close().catch(() => {});
    await Promise.all(providers.map((p) => p.fake.close()));
    await pg.stop().catch(() => {});
    await redis.stop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
}
