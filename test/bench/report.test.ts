import { describe, expect, it } from 'vitest';
import type { ApiReadResult } from './api-reads.ts';
import type { CpuShare } from './cpu-sampler.ts';
import type { LatenessResult } from './lateness.ts';
import type { Machine } from './machine.ts';
import type { RefreshThroughputResult } from './refresh-throughput.ts';
import { judge, markdown, refreshFloor, type BenchResults, type Target } from './report.ts';
import type { ScheduleResults, ThroughputLevel } from './scenarios.ts';
import type { TokenReadResult } from './token-read.ts';

type Input = Parameters<typeof judge>[0];

const cpu = (cores: Record<string, number> = { workers: 0.5 }, machineCores = 1, machineTotal = 2): CpuShare => ({
  cores,
  machineCores,
  machineTotal,
  seconds: 8,
});

const machine: Machine = {
  date: '2026-01-01T00:00:00.000Z',
  cores: 2,
  cpuModel: 'Test CPU',
  memoryBytes: 8 * 2 ** 30,
  node: 'v20.19.0',
  postgres: '16.0',
  postgresSettings: { fsync: 'on', shared_preload_libraries: '' },
  redis: '7.2.0',
  pgbench: null,
  loadAverageAtStart: 0.5,
};

function refresh(workers: number, refreshesPerSecond: number, cores?: Record<string, number>): RefreshThroughputResult {
  return {
    workers,
    concurrency: 16,
    refreshesPerSecond,
    workerMaxRssBytes: 150 * 2 ** 20,
    cpu: cpu(cores),
    pgWaits: { samples: 80, backends: { 'active:CPU': 1.5, 'active:IO/WALSync': 0.5 } },
    redis: { commandsPerRefresh: 27, usecPerRefresh: 120, top: { evalsha: 3, hset: 2 } },
    backlogLeft: 1_000,
  };
}

/** A level whose refreshes/s ÷ the floor is `ratio`: 3,000 jobs, UPDATEs and requests a second make a floor of 1,000. */
function level(concurrency: number, ratio: number): ThroughputLevel {
  return {
    concurrency,
    refresh: { ...refresh(1, ratio * 1_000), concurrency },
    durableWrite: { concurrency, updatesPerSecond: 3_000, tool: 'pgbench' },
    noopQueue: { concurrency, jobsPerSecond: 3_000, backlog: 100_000, backlogLeft: 40_000 },
    tokenExchange: { concurrency, requestsPerSecond: 3_000, failed: 0 },
  };
}

function tokens(concurrency: number, ratio: number): TokenReadResult {
  return {
    getValidAccessToken: { concurrency, perSecond: ratio * 2_000, p50Ms: 1.2, p99Ms: 4.5 },
    primaryKeySelect: { concurrency, perSecond: 2_000, p50Ms: 0.5, p99Ms: 2 },
  };
}

/** The api at `ratio` of the SELECT route's 4,000 reads/s, with `failed` failed api requests. */
function apiReads(concurrency: number, ratio: number, failed = 0): ApiReadResult {
  return {
    api: { concurrency, perSecond: ratio * 4_000, p50Ms: 1.5, p99Ms: 6.25, non2xx: failed, errors: 0 },
    primaryKeySelect: { concurrency, perSecond: 4_000, p50Ms: 0.4, p99Ms: 2.5, non2xx: 0, errors: 0 },
  };
}

function lateness(p99: number, max: number, expired: number): LatenessResult {
  return {
    connections: 10_000,
    workers: 1,
    concurrency: 16,
    spreadSeconds: 40,
    latenessMs: { n: 10_000, p50: 20, p99, max },
    expired,
    notRefreshed: 0,
    extraRefreshes: 0,
    workerMaxRssBytes: 160 * 2 ** 20,
    cpu: cpu(),
    timeline: [
      { at: 0, due: 5_000, p99: 50, max: 90 },
      { at: 10, due: 5_000, p99: 60, max: 120 },
    ],
  };
}

function schedule(
  options: Partial<ScheduleResults> & { enqueueRatio?: number; redisBytes?: number } = {},
): ScheduleResults {
  const { enqueueRatio = 0.6, redisBytes = 550, ...rest } = options;
  const memory = {
    redisBytesPerConnection: redisBytes,
    redisSampledBytesPerConnection: redisBytes - 10,
    redisSample: { jobHash: 400, delayedZsetShare: 100, otherKeysShare: 40, jobEncoding: 'listpack' },
    postgresBytesPerConnection: 900,
    postgres: { connectionsTable: 700, connectionEvents: 200 },
  };
  return {
    rawAddBulk: { jobs: 10_000, batchSize: 1_000, jobsPerSecond: 10_000, cpu: cpu() },
    enqueue: {
      connections: 10_000,
      batchSize: 1_000,
      connectionsPerSecond: enqueueRatio * 10_000,
      seconds: 10_000 / (enqueueRatio * 10_000),
      cpu: cpu(),
    },
    memory,
    lateness: lateness(500, 2_000, 0),
    ...rest,
  };
}

const base: Input = {
  mode: 'full',
  machine,
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: '2026-01-01T00:20:00.000Z',
};

const only = (targets: Target[], scenario: string) => targets.filter((t) => t.scenario === scenario);

describe('judge', () => {
  it('gives no targets and no bottleneck when no scenario ran', () => {
    expect(judge(base)).toEqual({ targets: [] });
  });

  it('wants 0.35 of the floor below concurrency 16 and 0.5 from 16 up', () => {
    const { targets } = judge({
      ...base,
      throughput: [level(1, 0.34), level(4, 0.35), level(16, 0.49), level(64, 0.5)],
    });
    const floor = targets.filter((t) => t.measure.includes('floor'));
    expect(floor.map((t) => [t.measure, t.target, t.met, t.ratio, t.value])).toEqual([
      ['concurrency 1: refreshes/s ÷ floor of one refresh', '≥ 0.35 × floor', false, 0.34, 340],
      ['concurrency 4: refreshes/s ÷ floor of one refresh', '≥ 0.35 × floor', true, 0.35, 350],
      ['concurrency 16: refreshes/s ÷ floor of one refresh', '≥ 0.5 × floor', false, 0.49, 490],
      ['concurrency 64: refreshes/s ÷ floor of one refresh', '≥ 0.5 × floor', true, 0.5, 500],
    ]);
    expect(targets.every((t) => t.scenario === '1. refresh throughput')).toBe(true);
  });

  it('judges a run stored before the HTTP exchange was measured on the job and the UPDATE alone, and says so', () => {
    const { tokenExchange: _omitted, ...older } = level(16, 0.5);
    const { targets } = judge({ ...base, throughput: [older] });
    expect(targets[0]!.measure).toContain('no HTTP figure');
    expect(targets[0]!.ratio).toBe(0.33); // 500 of a 1,500/s two-part floor
  });

  it('marks getValidAccessToken ÷ SELECT at 0.5 as met and 0.49 as not met', () => {
    const { targets } = judge({ ...base, tokens: [tokens(1, 0.49), tokens(16, 0.5)] });
    expect(targets.map((t) => [t.scenario, t.met, t.ratio])).toEqual([
      ['5. getValidAccessToken', false, 0.49],
      ['5. getValidAccessToken', true, 0.5],
    ]);
  });

  it('marks the api token read ÷ SELECT route at 0.5 as met and 0.49 as not met, per concurrency', () => {
    const { targets } = judge({ ...base, api: [apiReads(1, 0.49), apiReads(16, 0.5), apiReads(64, 1.2)] });
    expect(targets.map((t) => [t.scenario, t.value, t.ratio, t.met])).toEqual([
      ['7. api token read', 1_960, 0.49, false],
      ['7. api token read', 2_000, 0.5, true],
      ['7. api token read', 4_800, 1.2, true],
    ]);
    expect(targets[1]!.measure).toBe(
      'concurrency 16: GET /v1/connections/{id}/token/s ÷ minimal Fastify SELECT route/s',
    );
  });

  it('never meets the api target when requests failed, whatever the rate, and says so', () => {
    const [failedApi] = judge({ ...base, api: [apiReads(16, 0.9, 3)] }).targets;
    expect(failedApi).toMatchObject({ met: false, ratio: 0.9 });
    expect(failedApi!.measure).toContain('(requests failed)');
    const select = apiReads(16, 0.9);
    select.primaryKeySelect.errors = 1;
    expect(judge({ ...base, api: [select] }).targets[0]!.met).toBe(false);
  });

  it('gives the api a ratio of 0 instead of dividing by a SELECT route that answered nothing', () => {
    const none = apiReads(1, 0.5);
    none.primaryKeySelect.perSecond = 0;
    expect(judge({ ...base, api: [none] }).targets[0]).toMatchObject({ ratio: 0, met: false });
  });

  it('judges lateness p99 ≤ 1 s, max ≤ 5 s and no expired token, limits included', () => {
    const met = only(
      judge({ ...base, schedule: schedule({ lateness: lateness(1_000, 5_000, 0) }) }).targets,
      '2. lateness',
    );
    expect(met.map((t) => [t.measure, t.value, t.met])).toEqual([
      ['p99 (ms)', 1_000, true],
      ['max (ms)', 5_000, true],
      ['tokens expired', 0, true],
    ]);
    const missed = only(
      judge({ ...base, schedule: schedule({ lateness: lateness(1_001, 5_001, 1) }) }).targets,
      '2. lateness',
    );
    expect(missed.map((t) => t.met)).toEqual([false, false, false]);
  });

  it('counts an unmeasured lateness (no refresh seen: NaN) as missed', () => {
    const targets = only(
      judge({ ...base, schedule: schedule({ lateness: lateness(NaN, NaN, 10_000) }) }).targets,
      '2. lateness',
    );
    expect(targets.map((t) => t.met)).toEqual([false, false, false]);
  });

  it('gives no lateness target when the schedule ran without the lateness part', () => {
    const { targets } = judge({ ...base, schedule: schedule({ lateness: null }) });
    expect(only(targets, '2. lateness')).toEqual([]);
    expect(targets.map((t) => t.scenario)).toEqual(['4. memory']);
  });

  it('judges Redis memory at 600 B per connection, and the bulk enqueue no more (issue 21)', () => {
    const at = (enqueueRatio: number, redisBytes: number) =>
      judge({ ...base, schedule: schedule({ enqueueRatio, redisBytes, lateness: null }) }).targets.map((t) => [
        t.scenario,
        t.met,
      ]);
    expect(at(0.5, 600)).toEqual([['4. memory', true]]);
    expect(at(0.49, 601)).toEqual([['4. memory', false]]);
  });

  it('judges Redis commands per refresh at 12 and Postgres statements at 3, per level', () => {
    const at = (commands: number, statements: number | undefined) => {
      const l = level(16, 0.5);
      l.refresh.redis.commandsPerRefresh = commands;
      if (statements === undefined) delete l.refresh.pgCommitsPerRefresh;
      else l.refresh.pgCommitsPerRefresh = statements;
      return judge({ ...base, throughput: [l] })
        .targets.filter((t) => !t.measure.includes('floor'))
        .map((t) => [t.target, t.value, t.met]);
    };
    expect(at(12, 3)).toEqual([
      ['≤ 12', 12, true],
      ['≤ 3', 3, true],
    ]);
    expect(at(12.01, 3.01)).toEqual([
      ['≤ 12', 12.01, false],
      ['≤ 3', 3.01, false],
    ]);
    // A run stored before statements were counted is judged on Redis alone.
    expect(at(41, undefined)).toEqual([['≤ 12', 41, false]]);
  });

  it('judges scale-out by refreshes per worker CPU-second, two processes within 20 % of one', () => {
    const run = (workers: number, perSecond: number, workerCores: number) =>
      refresh(workers, perSecond, { workers: workerCores });
    const scaleOut = (two: number) =>
      only(judge({ ...base, scaleOut: [run(1, 500, 1), run(2, two, 2)] }).targets, '6. scale-out');
    // One process: 500 refreshes per CPU-second. Two at 2 cores: 800/s is 400 per CPU-second, 0.8 of it.
    expect(scaleOut(800)).toMatchObject([{ ratio: 0.8, met: true }]);
    expect(scaleOut(790)).toMatchObject([{ ratio: 0.79, met: false }]);
    expect(only(judge({ ...base, scaleOut: [run(1, 500, 1)] }).targets, '6. scale-out')).toEqual([]);
  });

  describe('bottleneck', () => {
    it('is absent without a scale-out, and for a scale-out with no runs (instead of throwing)', () => {
      expect(judge(base)).not.toHaveProperty('bottleneck');
      expect(judge({ ...base, scaleOut: [] })).not.toHaveProperty('bottleneck');
    });

    it('stops at the first step adding less than 30 % and names a saturated machine', () => {
      const runs = [
        refresh(1, 400),
        { ...refresh(2, 440), cpu: cpu({ workers: 1, postgres: 0.7 }, 1.98, 2) },
        refresh(4, 900),
      ];
      const { bottleneck } = judge({ ...base, scaleOut: runs });
      expect(bottleneck).toContain('1→400/s, 2→440/s, 4→900/s');
      expect(bottleneck).toContain('Stops at 2 worker(s)');
      expect(bottleneck).toContain("CPU: the machine's 2 cores were 99 % busy");
      expect(bottleneck).toContain('workers 1.00, postgres 0.70');
    });

    it('falls back to the last run when every step scales, and to Postgres waits when no CPU is saturated', () => {
      const { bottleneck } = judge({ ...base, scaleOut: [refresh(1, 100), refresh(2, 200), refresh(4, 400)] });
      expect(bottleneck).toContain('Stops at 4 worker(s)');
      expect(bottleneck).toContain('not CPU (machine 50 % busy): Postgres waits');
    });

    it('names a saturated Redis', () => {
      const { bottleneck } = judge({
        ...base,
        scaleOut: [refresh(1, 100, { redis: 0.95 }), refresh(2, 110, { redis: 0.97 })],
      });
      expect(bottleneck).toContain('Stops at 2 worker(s): Redis (single-threaded, one core)');
    });
  });
});

/** The markdown tables as arrays of rows of cells (header and separator included). */
function tables(md: string): string[][][] {
  const result: string[][][] = [];
  let current: string[][] | null = null;
  for (const line of md.split('\n')) {
    if (line.startsWith('|')) {
      expect(line.endsWith('|'), `table row not closed: ${line}`).toBe(true);
      const cells = line
        .slice(1, -1)
        .split('|')
        .map((c) => c.trim());
      if (!current) result.push((current = []));
      current.push(cells);
    } else current = null;
  }
  return result;
}

function tableAfter(md: string, heading: string): string[][] {
  const at = md.indexOf(heading);
  expect(at, `no "${heading}"`).toBeGreaterThan(-1);
  return tables(md.slice(at))[0]!;
}

function fullResults(): BenchResults {
  const input: Input = {
    ...base,
    throughput: [level(1, 0.3), level(16, 0.6), level(64, 0.55)],
    tokens: [tokens(1, 0.4), tokens(16, 0.7)],
    api: [apiReads(1, 0.3), apiReads(16, 0.6), apiReads(64, 0.8, 2)],
    scaleOut: [refresh(1, 400), refresh(2, 700), refresh(4, 750)],
    schedule: schedule(),
  };
  return { ...input, ...judge(input) };
}

describe('refreshFloor', () => {
  it('adds the costs: three equal rates make a third, free parts leave the other, a zero gives 0', () => {
    expect(refreshFloor(3_000, 3_000, 3_000)).toBeCloseTo(1_000, 6);
    expect(refreshFloor(1_000, 1_000)).toBe(500);
    expect(refreshFloor(4_000, 1e12, 1e12)).toBeCloseTo(4_000, 3);
    expect(refreshFloor(0, 5_000, 5_000)).toBe(0);
    expect(refreshFloor(5_000, 5_000, 0)).toBe(0);
  });
});

describe('markdown', () => {
  const charts = ['latest-throughput.svg', 'latest-lateness.svg'];

  it('gives every table row as many cells as its header, with a separator row second', () => {
    const all = tables(markdown(fullResults(), charts));
    expect(all.length).toBeGreaterThanOrEqual(8);
    for (const table of all) {
      const [header, separator, ...rows] = table;
      expect(
        separator!.every((c) => /^-{3}:?$/.test(c)),
        `separator of ${header!.join(' | ')}`,
      ).toBe(true);
      expect(separator).toHaveLength(header!.length);
      expect(rows.length, `rows of ${header!.join(' | ')}`).toBeGreaterThan(0);
      for (const row of rows) expect(row, `row of ${header!.join(' | ')}`).toHaveLength(header!.length);
    }
  });

  it('lists one targets row per target, met or **no**', () => {
    const results = fullResults();
    const [, , ...rows] = tableAfter(markdown(results, charts), '## Targets');
    expect(rows).toHaveLength(results.targets.length);
    // 3 throughput levels × (floor, Redis commands) + 3 lateness + 1 memory + 2 tokens + 3 api; the scale-out runs
    // hold one process and two: one more.
    expect(rows).toHaveLength(6 + 3 + 1 + 2 + 3 + 1);
    expect(rows.map((r) => r[5])).toEqual(results.targets.map((t) => (t.met ? 'yes' : '**no**')));
    expect(rows[0]).toEqual([
      '1. refresh throughput',
      'concurrency 1: refreshes/s ÷ floor of one refresh',
      '300',
      '≥ 0.35 × floor',
      '0.3',
      '**no**',
    ]);
  });

  it('gives one row per throughput level, token concurrency and scale-out run', () => {
    const md = markdown(fullResults(), charts);
    expect(tableAfter(md, '## 1. Refresh throughput')).toHaveLength(2 + 3);
    expect(tableAfter(md, '## 5. getValidAccessToken')).toHaveLength(2 + 2);
    expect(tableAfter(md, '## 6. Scale-out')).toHaveLength(2 + 3);
    expect(tableAfter(md, '## 7. The api')).toHaveLength(2 + 3);
    expect(tableAfter(md, '## 2. Scheduling lateness')).toHaveLength(2 + 1);
    expect(tableAfter(md, '## 3. Bulk enqueue')).toHaveLength(2 + 2);
    // Memory: Redis INFO, sampled, two Postgres rows, worker RSS.
    expect(tableAfter(md, '## 4. Memory')).toHaveLength(2 + 5);
  });

  it('renders figures as the tables promise', () => {
    const md = markdown(fullResults(), charts);
    const [, , first] = tableAfter(md, '## 1. Refresh throughput');
    // Floor: 1 ÷ (3 × 1/3,000) = 1,000 a second; 300 refreshes are 0.3 of it.
    expect(first!.slice(0, 9)).toEqual(['1', '300', '3000', '3000', '3000', '1000', '0.3', '—', '150 MiB']);
    expect(tableAfter(md, '## 2. Scheduling lateness')[2]!.slice(0, 4)).toEqual(['20 ms', '500 ms', '2000 ms', '0']);
    expect(tableAfter(md, '## 7. The api')[4]).toEqual([
      '64',
      '3200',
      '1.5 ms',
      '6.25 ms',
      '4000',
      '0.4 ms',
      '2.5 ms',
      '0.8',
      '2 / 0',
    ]);
    expect(md.indexOf('## 6. Scale-out')).toBeLessThan(md.indexOf('## 7. The api'));
    expect(md).toContain('| pgbench | not installed (postgres.js loop) |');
    expect(md).toContain("shared_preload_libraries=''");
    expect(md).toContain('| memory | 8.0 GiB |');
    expect(md).toContain(`Bottleneck: ${fullResults().bottleneck}`);
  });

  it('links each chart, and names the quick run and its command', () => {
    const md = markdown({ ...fullResults(), mode: 'quick' }, charts);
    expect(md).toContain('# Evergreen benchmarks (quick run)');
    expect(md).toContain('`pnpm bench --quick`');
    for (const c of charts) expect(md).toContain(`![${c}](${c})`);
  });

  it('leaves out the sections of scenarios that did not run', () => {
    const md = markdown({ ...base, targets: [] }, []);
    for (const heading of ['## 1.', '## 2.', '## 3.', '## 4.', '## 5.', '## 6.', '## 7.', '## Charts', 'Bottleneck']) {
      expect(md).not.toContain(heading);
    }
    const [, , ...targetRows] = tableAfter(md, '## Targets');
    expect(targetRows).toEqual([]);
    expect(md).toContain('`pnpm bench`');
  });

  it('leaves out the lateness section and its targets when only the enqueue ran', () => {
    const input: Input = { ...base, schedule: schedule({ lateness: null }) };
    const md = markdown({ ...input, ...judge(input) }, []);
    expect(md).not.toContain('## 2. Scheduling lateness');
    expect(md).toContain('## 3. Bulk enqueue');
    expect(tableAfter(md, '## Targets')).toHaveLength(2 + 1);
    // No throughput level at concurrency 64: no worker RSS row.
    expect(tableAfter(md, '## 4. Memory')).toHaveLength(2 + 4);
  });
});
