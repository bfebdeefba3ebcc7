import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { loadConfig } from '@evergreen/config';
import type { Fault } from '@evergreen/fake-provider';
import { FakeProvider } from '@evergreen/fake-provider';
import { Keyring } from '@evergreen/keyring';
import { createLogger } from '@evergreen/log';
import { createEvergreen } from '@evergreen/sdk';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { seededRandom } from './chaos-plan.ts';
import { pollUntil, waitUntil } from './chaos-support.ts';
import { measureOutage, type OutageFigures, type OutageGrant } from './outage-measure.ts';
import { ChaosProcess } from './role-processes.ts';

/**
 * `pnpm chaos --scenario provider-outage`: one provider's token endpoint down for minutes while thousands of its
 * connections fall due, another provider beside it, several worker processes, production timings (retries, cooldown,
 * breaker). Measures what issue 19 asks: requests sent while down, tokens lapsed after the recovery, the order of the
 * refreshes after it, and the other provider. `--no-breaker` runs the same with the breaker unable to open: the
 * behaviour before it existed, for the before/after figures.
 */
export interface OutageOptions {
  /** Connections of the provider that goes down (the other provider gets a tenth, at least 50). */
  connections: number;
  outageMs: number;
  workers: number;
  concurrency: number;
  seed: number;
  /** false: EVERGREEN_BREAKER_MIN_REQUESTS set out of reach, so the breaker never opens (today's behaviour). */
  breaker: boolean;
  /** What the provider does while down: 503s by default. */
  fault: Fault;
  /** Declare a rate limit (requests per second) on the provider that goes down: the recovery is paced by it. */
  rateLimitPerSecond: number | null;
  databaseUrl: string;
  redisUrl: string;
  outDir: string;
  progress: (line: string) => void;
}

/** Production's refresh buffer: a connection is due five minutes before its token expires. */
export const BUFFER_SECONDS = 300;
/** Before the outage, so the first refreshes run normally. */
const WARMUP_MS = 30_000;
/** After the recovery: the backlog drains and the connections due then run on time. */
const TAIL_MS = 90_000;
/** The issue's run counted the connections refreshed 50 s after the provider came back. */
const REFRESHED_WITHIN_MS = 50_000;

export interface OutageResult {
  figures: OutageFigures;
  reportFile: string;
}

export async function runOutage(options: OutageOptions): Promise<OutageResult> {
  const say = options.progress;
  const startedAt = new Date();
  const runId = `outage-${options.breaker ? 'breaker' : 'no-breaker'}-${startedAt.toISOString().replace(/[:.]/g, '-')}`;
  const runDir = resolve(options.outDir, runId);
  const logDir = join(runDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const random = seededRandom(options.seed);
  const id = `o${Date.now().toString(36)}`;
  const schema = `evg_outage_${id}`;
  const prefix = `evg-outage-${id}`;

  const down = await FakeProvider.start({ latencyMs: 40, accessTokenLifetimeSeconds: 3_600 });
  const steady = await FakeProvider.start({ latencyMs: 40, accessTokenLifetimeSeconds: 3_600 });
  const providersFile = join(runDir, 'providers.json');
  const entry = (providerId: string, fake: FakeProvider) => ({
    id: providerId,
    tokenUrl: fake.tokenUrl,
    clientId: 'client-id',
    clientSecret: 'client-secret',
    refreshBufferSeconds: BUFFER_SECONDS,
  });
  writeFileSync(
    providersFile,
    JSON.stringify([
      {
        ...entry('down', down),
        ...(options.rateLimitPerSecond !== null && {
          rateLimit: { max: options.rateLimitPerSecond, durationMs: 1_000 },
        }),
      },
      entry('steady', steady),
    ]),
  );
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    EVERGREEN_ENV_FILE: 'none',
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: options.redisUrl,
    EVERGREEN_DB_SCHEMA: schema,
    EVERGREEN_REDIS_PREFIX: prefix,
    EVERGREEN_ENCRYPTION_KEYS: Keyring.generateEntry('outage1'),
    EVERGREEN_PROVIDERS: providersFile,
    EVERGREEN_OPS_PORT: '0',
    EVERGREEN_LOG_LEVEL: 'info',
    EVERGREEN_WORKER_CONCURRENCY: String(options.concurrency),
    // Tokens of 320 s and more keep the full 5-minute buffer (no short-lifetime clamp).
    EVERGREEN_SHORT_LIFETIME_FRACTION: '0.95',
    ...(options.breaker ? {} : { EVERGREEN_BREAKER_MIN_REQUESTS: '1000000' }),
  };
  const config = loadConfig(env);
  const processes: ChaosProcess[] = [];
  const spawn = (app: 'worker' | 'scheduler', name: string) => {
    const p = new ChaosProcess(app, name, env, logDir);
    processes.push(p);
    return p;
  };
  const evergreen = createEvergreen({ config, logger: createLogger({ level: 'warn' }) });
  const timeline: string[] = [];
  const mark = (what: string) => {
    const line = `${((Date.now() - startedAt.getTime()) / 1000).toFixed(1)} s  ${what}`;
    timeline.push(line);
    say(`  ${line}`);
  };

  try {
    say(
      `outage ${runId}: ${options.connections} connections down for ${options.outageMs / 1000} s, breaker ${options.breaker ? 'on' : 'off'}`,
    );
    const scheduler = spawn('scheduler', 'scheduler');
    await waitUntil(() => scheduler.startedAt !== null, 90_000, 'the scheduler to start');
    for (let i = 0; i < options.workers; i++) spawn('worker', `worker-${i}`);
    await waitUntil(() => processes.every((p) => p.startedAt !== null), 90_000, 'every worker to start');
    mark(`${processes.length} processes started`);

    // Due times spread evenly from a few seconds in to the end of the tail: some before the outage, most during it
    // (the backlog), some after. A token is due BUFFER_SECONDS before it expires, so each outlives a shorter outage.
    const span = WARMUP_MS + options.outageMs + TAIL_MS;
    const enqueue = async (provider: 'down' | 'steady', fake: FakeProvider, count: number) => {
      const grants: OutageGrant[] = [];
      for (let start = 0; start < count; start += 1_000) {
        const batch = Array.from({ length: Math.min(1_000, count - start) }, (_, i) => {
          const dueIn = 5_000 + random() * (span - 5_000);
          const expiresIn = Math.round(BUFFER_SECONDS + dueIn / 1_000);
          const issued = fake.issue({ expiresIn });
          return { issued, expiresIn, input: { ownerId: `${provider}-${start + i}`, provider } };
        });
        const now = Date.now();
        const result = await evergreen.enqueueConnections(
          batch.map((b) => ({
            ...b.input,
            accessToken: b.issued.accessToken,
            refreshToken: b.issued.refreshToken,
            expiresIn: b.expiresIn,
          })),
        );
        for (const item of result.results) {
          if (!item.ok) throw new Error(`outage: enqueue failed: ${item.error.message}`);
          const b = batch[item.index]!;
          grants.push({ grantId: b.issued.grantId, expiresAt: now + b.expiresIn * 1_000 });
        }
      }
      return grants;
    };
    const downGrants = await enqueue('down', down, options.connections);
    const steadyGrants = await enqueue('steady', steady, Math.max(50, Math.round(options.connections / 10)));
    const enqueuedAt = Date.now();
    mark(`${downGrants.length} + ${steadyGrants.length} connections enqueued`);

    await delay(Math.max(0, enqueuedAt + WARMUP_MS - Date.now()));
    down.setFaultForAll(options.fault);
    const downAt = Date.now();
    mark(`down: ${options.fault.kind}`);
    await delay(options.outageMs);
    down.setFaultForAll(null);
    const upAt = Date.now();
    mark('up again');

    // Until every connection of the provider has been refreshed once, or its token has expired (a lapse, decided):
    // without the breaker, connections in a 5-minute cooldown take that long.
    const decided = await pollUntil(
      async () => {
        const refreshed = new Set(down.requests.filter((r) => r.outcome === 'ok').map((r) => r.grantId));
        return downGrants.every((g) => refreshed.has(g.grantId) || g.expiresAt < Date.now());
      },
      BUFFER_SECONDS * 1_000 + TAIL_MS + 30_000,
    );
    mark(decided ? 'every connection refreshed or lapsed' : 'some connections neither refreshed nor lapsed at the end');

    const figures = measureOutage({
      downAt,
      upAt,
      bufferMs: BUFFER_SECONDS * 1_000,
      refreshedWithinMs: REFRESHED_WITHIN_MS,
      endedAt: Date.now(),
      down: { grants: downGrants, requests: down.requests },
      steady: { grants: steadyGrants, requests: steady.requests },
    });
    const events = await outageEvents(options.databaseUrl, schema);
    const reportFile = join(runDir, 'report.md');
    writeFileSync(reportFile, report(options, figures, events, timeline, startedAt));
    writeFileSync(join(runDir, 'figures.json'), JSON.stringify(figures, null, 2));
    return { figures, reportFile };
  } finally {
    for (const p of processes) if (p.alive) p.terminate();
    await Promise.race([Promise.all(processes.map((p) => p.exited)), delay(20_000)]);
    for (const p of processes) if (p.alive) p.kill();
    await evergreen.close().catch(() => {});
    await Promise.all([down.close(), steady.close()]);
    await dropEverything(options, schema, prefix);
  }
}

async function outageEvents(url: string, schema: string): Promise<{ kind: string; payload: unknown }[]> {
  const sql = postgres(url, { max: 1, connection: { search_path: schema }, onnotice: () => {} });
  try {
    return [
      ...(await sql<{ kind: string; payload: unknown }[]>`
        select kind, payload from connection_events where kind like 'provider.%' order by id`),
    ];
  } finally {
    await sql.end({ timeout: 2 });
  }
}

async function dropEverything(options: OutageOptions, schema: string, prefix: string): Promise<void> {
  const sql = postgres(options.databaseUrl, { max: 1, onnotice: () => {} });
  await sql.unsafe(`drop schema if exists "${schema}" cascade`).catch(() => {});
  await sql.end({ timeout: 2 });
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1_000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

function report(
  options: OutageOptions,
  f: OutageFigures,
  events: { kind: string; payload: unknown }[],
  timeline: string[],
  startedAt: Date,
): string {
  const s = (ms: number | null) => (ms === null ? 'not all' : `${(ms / 1000).toFixed(1)} s`);
  return [
    `# Provider outage (${options.breaker ? 'breaker on' : 'breaker off: before'})`,
    '',
    `${startedAt.toISOString()}, ${cpus().length} cores: ${options.connections} connections of the provider that goes down, ` +
      `${f.steady.grants} of the one that stays up, ${options.workers} workers × ${options.concurrency}, ` +
      `down ${s(f.downForMs)} (${options.fault.kind}), seed ${options.seed}` +
      (options.rateLimitPerSecond === null ? '' : `, declared rate limit ${options.rateLimitPerSecond}/s`),
    '',
    '| figure | value |',
    '| --- | --- |',
    `| requests sent while down | ${f.sentWhileDown} (${f.sentPerMinuteWhileDown} a minute) |`,
    `| connections due and waiting at the recovery | ${f.waitingAtRecovery} |`,
    `| of those refreshed within 50 s of it | ${f.refreshedWithin} |`,
    `| last of them refreshed after | ${s(f.lastRefreshedAfterMs)} |`,
    `| tokens that outlived the outage but lapsed (target 0) | ${f.expiredAfterRecovery}${f.expiredAfterRecovery > 0 ? `, by up to ${s(f.maxLapseMs)}` : ''} |`,
    `| never refreshed, token still valid at the end (not judged) | ${f.notRefreshedByEnd} |`,
    `| tokens that lapsed during the outage itself | ${f.expiredDuringOutage} |`,
    `| refresh order after the recovery (pairs in expiry order) | ${f.expiryOrderConcordance} |`,
    `| requests per second in the first 20 s after it | ${f.perSecondAfterRecovery.slice(0, 20).join(' ')} |`,
    `| other provider: connections refreshed while the first was down | ${f.steady.refreshedWhileDown} of ${f.steady.grants}, ${f.steady.lapsed} lapsed |`,
    '',
    '## Outage events',
    '',
    ...events.map((e) => `- ${e.kind} ${JSON.stringify(e.payload)}`),
    '',
    '## Timeline',
    '',
    ...timeline.map((t) => `- ${t}`),
    '',
  ].join('\n');
}
