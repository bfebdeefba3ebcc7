import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { findServices } from '@evergreen/test-support/services';
import { describeMachine, servicePids } from './machine.ts';
import { judge, writeReports, type BenchResults } from './report.ts';
import {
  apiScenario,
  scaleOutScenario,
  scheduleScenario,
  throughputScenario,
  tokenScenario,
  type ApiPlan,
  type SchedulePlan,
  type ScaleOutPlan,
  type ThroughputPlan,
  type TokenPlan,
} from './scenarios.ts';
import { scaleScenario } from './scale.ts';
import { writeScaleReport } from './scale-report.ts';
import { REPO_ROOT } from './worker-processes.ts';

/**
 * `pnpm bench --scale N [--scale-window S] [--lateness-concurrency N]` (or `--only scale`, a million by default): the
 * scale benchmark alone (test/bench/scale.ts), written to `<out>/scale-<N>.{json,md}`; about an hour for a million.
 * `pnpm bench [--quick] [--only throughput,tokens,api,scaleout,schedule|enqueue] [--out docs/benchmarks] [--name latest]
 *   [--profile DIR] [--lateness-workers N] [--lateness-concurrency N] [--connections N] [--levels 1,4,16,64]`
 * `pnpm bench --render baseline` rewrites a stored run's markdown and charts from its JSON.
 *
 * Runs the benchmarks against the local (or DATABASE_URL / REDIS_URL) Postgres and Redis, each in its own schema and
 * Redis prefix, and writes JSON, a markdown table and SVG charts. The full run takes about 20 minutes (100,000
 * connections due over ten minutes); `--quick` about 3. `--profile DIR` runs the throughput workers with
 * `--cpu-prof` (and the api scenario's two servers) and leaves their profiles in DIR.
 */
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string' },
    profile: { type: 'string' },
    /** File names: `latest` (full) or `quick` by default; `--name baseline` keeps a run beside them. */
    name: { type: 'string' },
    'lateness-workers': { type: 'string' },
    'lateness-concurrency': { type: 'string' },
    connections: { type: 'string' },
    /** Development: only these concurrency levels of scenario 1 (`--levels 16`). */
    levels: { type: 'string' },
    /** Re-renders `<out>/<name>.md` and its charts from `<out>/<name>.json` (after a change to the report), no run. */
    render: { type: 'string' },
    /** The scale benchmark with this many connections; implies `--only scale`. */
    scale: { type: 'string' },
    /** Seconds of each steady-state window of the scale benchmark (one worker, then two): 300 unless given. */
    'scale-window': { type: 'string' },
  },
});

if (values.render) {
  const dir = values.out ?? join(REPO_ROOT, 'docs/benchmarks');
  const stored = JSON.parse(readFileSync(join(dir, `${values.render}.json`), 'utf8')) as BenchResults;
  const files = writeReports({ ...stored, ...judge(stored) }, dir, values.render);
  process.stderr.write(`re-rendered ${files.join(', ')}\n`);
  process.exit(0);
}

const quick = values.quick;
const only = new Set(
  (values.only ?? (values.scale ? 'scale' : 'throughput,tokens,api,scaleout,schedule')).split(',').map((s) => s.trim()),
);
const outDir = values.out ?? join(REPO_ROOT, 'docs/benchmarks');
const profileDir = values.profile;

const throughputPlan: ThroughputPlan = quick
  ? {
      levels: [1, 4, 16, 64],
      warmupMs: 1_500,
      windowMs: 2_500,
      durableWriteSeconds: 3,
      initialBacklog: 3_000,
    }
  : {
      levels: [1, 4, 16, 64],
      warmupMs: 3_000,
      windowMs: 8_000,
      durableWriteSeconds: 8,
      initialBacklog: 8_000,
    };
if (values.levels) throughputPlan.levels = values.levels.split(',').map(Number);
if (profileDir) throughputPlan.nodeOptions = () => ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
const tokenPlan: TokenPlan = quick
  ? { connections: 1_000, concurrencies: [1, 16], ms: 2_000 }
  : { connections: 5_000, concurrencies: [1, 16], ms: 6_000 };
const apiPlan: ApiPlan = quick
  ? { connections: 1_000, concurrencies: [1, 16, 64], ms: 2_000, warmupMs: 1_000 }
  : { connections: 5_000, concurrencies: [1, 16, 64], ms: 6_000, warmupMs: 2_000 };
if (profileDir) apiPlan.nodeOptions = ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
const scaleOutPlan: ScaleOutPlan = quick
  ? { workers: [1, 2, 4], concurrency: 16, warmupMs: 1_500, windowMs: 2_500, initialBacklog: 3_000 }
  : { workers: [1, 2, 4], concurrency: 16, warmupMs: 3_000, windowMs: 8_000, initialBacklog: 8_000 };
const connections = values.connections ? Number(values.connections) : quick ? 10_000 : 100_000;
const schedulePlan: SchedulePlan = {
  connections,
  windowMs: quick ? 40_000 : 600_000,
  refreshBufferSeconds: quick ? 20 : 60,
  batchSize: 1_000,
  workers: values['lateness-workers'] ? Number(values['lateness-workers']) : 1,
  concurrency: values['lateness-concurrency'] ? Number(values['lateness-concurrency']) : 16,
  calibration: quick ? 1_000 : 3_000,
  warmup: quick ? 1_000 : 2_000,
  lateness: !only.has('enqueue') || only.has('schedule'),
};

if (only.has('scale')) {
  if (only.size > 1) throw new Error('--only scale runs alone: it wants the machine to itself');
  const connections = Number(values.scale ?? 1_000_000);
  const found = await findServices();
  const admin = postgres(found.databaseUrl, { max: 1, onnotice: () => {}, fetch_types: false });
  const redis = new Redis(found.redisUrl, { maxRetriesPerRequest: 1 });
  const pids = await servicePids(admin, redis);
  await admin.end({ timeout: 2 });
  redis.disconnect();
  const started = Date.now();
  const progress = (line: string) =>
    process.stderr.write(`[${((Date.now() - started) / 1_000).toFixed(0).padStart(4)} s] ${line}\n`);
  const results = await scaleScenario(
    { databaseUrl: found.databaseUrl, redisUrl: found.redisUrl, pids, progress },
    {
      connections,
      windowSeconds: Number(values['scale-window'] ?? 300),
      batchSize: 1_000,
      concurrency: values['lateness-concurrency'] ? Number(values['lateness-concurrency']) : 16,
    },
    `pnpm bench ${process.argv.slice(2).join(' ')}`,
  );
  const files = await writeScaleReport(results, outDir, values.name ?? `scale-${connections}`);
  progress(`wrote ${files.join(', ')}`);
  process.exit(0);
}

const found = await findServices();
const admin = postgres(found.databaseUrl, { max: 1, onnotice: () => {}, fetch_types: false });
const redis = new Redis(found.redisUrl, { maxRetriesPerRequest: 1 });
const machine = await describeMachine(admin, redis);
const pids = await servicePids(admin, redis);
await admin.end({ timeout: 2 });
redis.disconnect();

const started = Date.now();
const progress = (line: string) =>
  process.stderr.write(`[${((Date.now() - started) / 1_000).toFixed(0).padStart(4)} s] ${line}\n`);
const services = { databaseUrl: found.databaseUrl, redisUrl: found.redisUrl, pids, progress };
progress(
  `bench (${quick ? 'quick' : 'full'}) on ${machine.cores} × ${machine.cpuModel}, load ${machine.loadAverageAtStart}`,
);

const results: Omit<BenchResults, 'targets' | 'bottleneck'> = {
  mode: quick ? 'quick' : 'full',
  machine,
  startedAt: new Date(started).toISOString(),
  finishedAt: '',
};
try {
  if (only.has('throughput')) results.throughput = await throughputScenario(services, throughputPlan);
  if (only.has('tokens')) results.tokens = await tokenScenario(services, tokenPlan);
  if (only.has('api')) results.api = await apiScenario(services, apiPlan);
  if (only.has('scaleout')) results.scaleOut = await scaleOutScenario(services, scaleOutPlan);
  if (only.has('schedule') || only.has('enqueue')) results.schedule = await scheduleScenario(services, schedulePlan);
} finally {
  results.finishedAt = new Date().toISOString();
  const verdict = judge(results);
  const files = writeReports({ ...results, ...verdict }, outDir, values.name ?? (quick ? 'quick' : 'latest'));
  for (const t of verdict.targets) {
    progress(
      `${t.met ? 'met ' : 'MISS'} ${t.scenario}: ${t.measure} = ${t.value}${t.ratio !== undefined ? ` (ratio ${t.ratio})` : ''}, target ${t.target}`,
    );
  }
  if (verdict.bottleneck) progress(`scale-out: ${verdict.bottleneck}`);
  progress(`wrote ${files.join(', ')}`);
}
process.exit(0);
