import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { loadConfig } from '@evergreen/config';
import { FakeProvider } from '@evergreen/fake-provider';
import { Keyring } from '@evergreen/keyring';
import { createLogger } from '@evergreen/log';
import { createEvergreen, type Evergreen } from '@evergreen/sdk';
import { seededRandom } from './chaos-plan.ts';
import { pollUntil, waitUntil } from './chaos-support.ts';
import { OwnedPostgres, OwnedRedis } from './owned-services.ts';
import { measureRateLimited, type RateLimitedFigures, type RateLimitedGrant } from './rate-limited-measure.ts';
import { ChaosProcess } from './role-processes.ts';
import { BUFFER_SECONDS } from './outage-run.ts';

/**
 * `pnpm chaos --scenario rate-limited`: one provider answers a share of its token requests 429 with Retry-After for
 * the whole run, another stays healthy; connections of both fall due faster than the limited one lets them through,
 * so a backlog builds there; workers are SIGKILLed throughout, Redis is FLUSHALLed once and Postgres restarted once
 * (servers of the run's own). Production timings (5-minute buffer, default locks and stall checks). Measures what
 * issue 19 item 2 asks: tokens lapsed per provider, grants revoked by reuse, requests sent inside an announced pause,
 * the backlog's order, lateness against the due time.
 */
export interface RateLimitedOptions {
  /** Connections in all, half on each provider. */
  connections: number;
  /** Due times spread over this long from the start (the backlog builds while they come). */
  dueSpanMs: number;
  workers: number;
  concurrency: number;
  seed: number;
  /** Share of the limited provider's token requests answered 429. */
  fraction: number;
  retryAfterSeconds: number;
  kills: number;
  outDir: string;
  progress: (line: string) => void;
}

const PROVIDER_LATENCY_MS = 40;
/** After the last due time, the chaos (kills) goes on this long while the backlog drains. */
const CHAOS_TAIL_MS = 60_000;

export interface RateLimitedResult {
  figures: RateLimitedFigures;
  reportFile: string;
  ok: boolean;
}

export async function runRateLimited(options: RateLimitedOptions): Promise<RateLimitedResult> {
  const say = options.progress;
  const startedAt = new Date();
  const runId = `rate-limited-${startedAt.toISOString().replace(/[:.]/g, '-')}`;
  const runDir = resolve(options.outDir, runId);
  const logDir = join(runDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'evergreen-ratelimited-'));
  const random = seededRandom(options.seed);
  const faultRandom = seededRandom(options.seed ^ 0x429);
  const timeline: string[] = [];
  const mark = (what: string) => {
    const line = `${((Date.now() - startedAt.getTime()) / 1000).toFixed(1)} s  ${what}`;
    timeline.push(line);
    say(`  ${line}`);
  };
  const load: number[] = [];

  const redis = await OwnedRedis.start(join(dataDir, 'redis'));
  const pg = await OwnedPostgres.start(join(dataDir, 'postgres'));
  // Rotating with a short grace, as Okta: a refresh token presented twice outside it revokes the grant.
  const fakeOptions = {
    latencyMs: PROVIDER_LATENCY_MS,
    accessTokenLifetimeSeconds: 3_600,
    rotateRefreshTokens: true,
    revokeOnReuse: true,
    reuseGraceSeconds: 30,
  };
  const limited = await FakeProvider.start(fakeOptions);
  const steady = await FakeProvider.start(fakeOptions);
  const providersFile = join(runDir, 'providers.json');
  const entry = (id: string, fake: FakeProvider) => ({
    id,
    tokenUrl: fake.tokenUrl,
    clientId: 'client-id',
    clientSecret: 'client-secret',
    refreshBufferSeconds: BUFFER_SECONDS,
  });
  writeFileSync(providersFile, JSON.stringify([entry('limited', limited), entry('steady', steady)]));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    EVERGREEN_ENV_FILE: 'none',
    DATABASE_URL: pg.url,
    REDIS_URL: redis.url,
    EVERGREEN_ENCRYPTION_KEYS: Keyring.generateEntry('ratelim1'),
    EVERGREEN_PROVIDERS: providersFile,
    EVERGREEN_OPS_PORT: '0',
    EVERGREEN_LOG_LEVEL: 'info',
    EVERGREEN_WORKER_CONCURRENCY: String(options.concurrency),
    // Tokens of 320 s and more keep the full 5-minute buffer (no short-lifetime clamp).
    EVERGREEN_SHORT_LIFETIME_FRACTION: '0.95',
  };
  const config = loadConfig(env);
  const processes: ChaosProcess[] = [];
  let workerSeq = 0;
  const spawn = (app: 'worker' | 'scheduler', name: string) => {
    const p = new ChaosProcess(app, name, env, logDir);
    processes.push(p);
    return p;
  };
  const spawnWorker = () => spawn('worker', `worker-${workerSeq++}`);
  let evergreen: Evergreen | null = null;
  const counters = { kills: 0, flushes: 0, postgresRestarts: 0 };

  try {
    say(
      `rate-limited ${runId}: ${options.connections} connections, ${Math.round(options.fraction * 100)} % of ` +
        `one provider's answers 429 Retry-After ${options.retryAfterSeconds}, ${options.workers} workers × ` +
        `${options.concurrency}, ${options.kills} kills, seed ${options.seed}`,
    );
    const scheduler = spawn('scheduler', 'scheduler');
    await waitUntil(() => scheduler.startedAt !== null, 90_000, 'the scheduler to start');
    for (let i = 0; i < options.workers; i++) spawnWorker();
    await waitUntil(() => processes.every((p) => p.startedAt !== null), 90_000, 'every worker to start');
    mark(`${processes.length} processes started`);

    limited.setFaultForAll(
      { kind: 'status', status: 429, headers: { 'retry-after': String(options.retryAfterSeconds) } },
      { fraction: options.fraction, random: faultRandom },
    );
    evergreen = createEvergreen({ config, logger: createLogger({ level: 'warn' }) });
    const enqueue = async (provider: 'limited' | 'steady', fake: FakeProvider, count: number) => {
      const grants: RateLimitedGrant[] = [];
      for (let start = 0; start < count; start += 1_000) {
        const batch = Array.from({ length: Math.min(1_000, count - start) }, (_, i) => {
          const dueIn = 2_000 + random() * options.dueSpanMs;
          const expiresIn = Math.round(BUFFER_SECONDS + dueIn / 1_000);
          return { issued: fake.issue({ expiresIn }), expiresIn, ownerId: `${provider}-${start + i}` };
        });
        const now = Date.now();
        const result = await evergreen!.enqueueConnections(
          batch.map((b) => ({
            ownerId: b.ownerId,
            provider,
            accessToken: b.issued.accessToken,
            refreshToken: b.issued.refreshToken,
            expiresIn: b.expiresIn,
          })),
        );
        for (const item of result.results) {
          if (!item.ok) throw new Error(`rate-limited: enqueue failed: ${item.error.message}`);
          const b = batch[item.index]!;
          const expiresAt = now + b.expiresIn * 1_000;
          grants.push({ grantId: b.issued.grantId, expiresAt, dueAt: expiresAt - BUFFER_SECONDS * 1_000 });
        }
      }
      return grants;
    };
    const half = Math.round(options.connections / 2);
    const [limitedGrants, steadyGrants] = await Promise.all([
      enqueue('limited', limited, half),
      enqueue('steady', steady, options.connections - half),
    ]);
    const chaosStart = Date.now();
    mark(`${limitedGrants.length} + ${steadyGrants.length} connections enqueued; 429s on`);
    await evergreen.close();
    evergreen = null;

    // The plan: kills evenly spread with a random offset each, the flush at a third and the restart at two thirds.
    const chaosMs = options.dueSpanMs + CHAOS_TAIL_MS;
    const actions: { at: number; kind: 'kill' | 'flush' | 'pg-restart' }[] = [
      ...Array.from({ length: options.kills }, (_, i) => ({
        at: ((i + 0.2 + random() * 0.6) / options.kills) * chaosMs,
        kind: 'kill' as const,
      })),
      { at: chaosMs * 0.35, kind: 'flush' as const },
      { at: chaosMs * 0.65, kind: 'pg-restart' as const },
    ].sort((a, b) => a.at - b.at);
    writeFileSync(join(runDir, 'plan.json'), JSON.stringify(actions, null, 2));
    const loadTimer = setInterval(() => load.push(loadavg()[0]!), 10_000);
    try {
      for (const action of actions) {
        const wait = chaosStart + action.at - Date.now();
        if (wait > 0) await delay(wait);
        if (action.kind === 'kill') {
          const live = processes.filter((p) => p.app === 'worker' && p.alive && !p.stopping);
          const victim = live[Math.floor(random() * live.length)];
          if (!victim) continue;
          victim.kill();
          counters.kills += 1;
          spawnWorker();
          mark(`SIGKILL ${victim.name}, replacement started`);
        } else if (action.kind === 'flush') {
          await redis.flushAll();
          counters.flushes += 1;
          mark('Redis FLUSHALL');
        } else {
          await pg.crash();
          mark('Postgres stopped (immediate)');
          await delay(3_000);
          await pg.up();
          counters.postgresRestarts += 1;
          mark('Postgres back (recovered from its WAL)');
        }
      }
      const rest = chaosStart + chaosMs - Date.now();
      if (rest > 0) await delay(rest);
      mark('chaos over; waiting for every connection to be refreshed once (or to lapse)');

      const all = [
        ...limitedGrants.map((g) => ({ g, fake: limited })),
        ...steadyGrants.map((g) => ({ g, fake: steady })),
      ];
      const lastExpiry = Math.max(...all.map(({ g }) => g.expiresAt));
      const decided = await pollUntil(
        async () => {
          const refreshed = new Set(
            [...limited.requests, ...steady.requests].filter((r) => r.outcome === 'ok').map((r) => r.grantId),
          );
          return all.every(({ g }) => refreshed.has(g.grantId) || g.expiresAt < Date.now());
        },
        lastExpiry - Date.now() + 30_000,
      );
      mark(decided ? 'every connection refreshed or lapsed' : 'some connections neither refreshed nor lapsed');
    } finally {
      clearInterval(loadTimer);
    }

    const endedAt = Date.now();
    const revokedByReuse = (fake: FakeProvider, grants: readonly RateLimitedGrant[]) =>
      grants.filter((g) => fake.grant(g.grantId)?.revokedBecause === 'reuse').length;
    const figures = measureRateLimited({
      limited: {
        grants: limitedGrants,
        requests: limited.requests,
        revokedByReuse: revokedByReuse(limited, limitedGrants),
      },
      steady: { grants: steadyGrants, requests: steady.requests, revokedByReuse: revokedByReuse(steady, steadyGrants) },
      retryAfterMs: options.retryAfterSeconds * 1_000,
      inFlightAllowanceMs: 1_000,
      providerLatencyMs: PROVIDER_LATENCY_MS,
      endedAt,
      backlogAfterMs: 10_000,
    });
    const ok =
      figures.limited.lapsed + figures.steady.lapsed === 0 &&
      figures.limited.revokedByReuse + figures.steady.revokedByReuse === 0;
    const reportFile = join(runDir, 'report.md');
    writeFileSync(reportFile, report(options, figures, counters, timeline, startedAt, load, ok));
    writeFileSync(
      join(runDir, 'figures.json'),
      JSON.stringify({ options: { ...options, progress: undefined }, counters, load, figures, ok }, null, 2),
    );
    return { figures, reportFile, ok };
  } finally {
    for (const p of processes) if (p.alive) p.terminate();
    await Promise.race([Promise.all(processes.map((p) => p.exited)), delay(20_000)]);
    for (const p of processes) if (p.alive) p.kill();
    await evergreen?.close().catch(() => {});
    await Promise.all([limited.close(), steady.close()]);
    await pg.stop().catch(() => {});
    await redis.stop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function report(
  options: RateLimitedOptions,
  f: RateLimitedFigures,
  counters: { kills: number; flushes: number; postgresRestarts: number },
  timeline: string[],
  startedAt: Date,
  load: number[],
  ok: boolean,
): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const row = (name: string, p: RateLimitedFigures['limited']) =>
    `| ${name} | ${p.connections} | ${p.refreshed} | ${p.lapsed}${p.lapsed > 0 ? ` (by up to ${s(p.maxLapseMs)})` : ''} | ` +
    `${p.revokedByReuse} | ${s(p.lateness.p50)} / ${s(p.lateness.p99)} / ${s(p.lateness.max)} | ${p.requests} | ${p.answered429} |`;
  return [
    `# Rate-limited provider (${ok ? 'passed' : 'FAILED'})`,
    '',
    `${startedAt.toISOString()}, ${cpus().length} cores, load average ${load.length ? `${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)}` : 'n/a'}: ` +
      `${options.connections} connections over two providers, ${Math.round(options.fraction * 100)} % of the limited ` +
      `one's token requests answered 429 with Retry-After ${options.retryAfterSeconds}; due times spread over ` +
      `${s(options.dueSpanMs)}, 5-minute buffer; ${options.workers} workers × ${options.concurrency}; ` +
      `${counters.kills} SIGKILLs, ${counters.flushes} FLUSHALL, ${counters.postgresRestarts} Postgres restart; seed ${options.seed}.`,
    '',
    '| provider | connections | refreshed | lapsed (target 0) | revoked by reuse (target 0) | lateness vs due p50 / p99 / max | requests | 429s |',
    '| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |',
    row('limited', f.limited),
    row('steady', f.steady),
    '',
    '| limited provider | value |',
    '| --- | --- |',
    `| requests arriving inside an announced Retry-After pause | ${f.sentDuringPause} |`,
    `| of those, more than 1 s after the 429 that opened it (not in flight) | ${f.sentDuringPauseBeyondInFlight} |`,
    `| backlog (refreshed 10 s or more after due) | ${f.backlog} |`,
    `| backlog order (pairs refreshed in expiry order) | ${f.backlogOrderConcordance} |`,
    '',
    '## Timeline',
    '',
    ...timeline.map((t) => `- ${t}`),
    '',
  ].join('\n');
}
