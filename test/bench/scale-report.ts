import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'prettier';
import type { PassResult } from './scale-passes.ts';
import type { ScaleResults } from './scale.ts';

const MiB = 2 ** 20;
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });

function passRow(name: string, p: PassResult): string {
  const what = [
    p.scanned !== undefined && `${fmt(p.scanned)} scanned`,
    p.overdue !== undefined && `${fmt(p.overdue)} overdue`,
    p.scheduled !== undefined && `${fmt(p.scheduled)} scheduled`,
  ]
    .filter(Boolean)
    .join(', ');
  return `| ${name} | ${fmt(p.ms)} | ${fmt(p.rowsRead)} | ${p.reads.seqScans} seq / ${p.reads.indexScans} index | ${what} |`;
}

/** The scale benchmark's markdown: every figure docs/scale.md plugs in, and the command that made it. */
export function renderScale(r: ScaleResults, at: string): string {
  const lines = [
    `# Scale benchmark: ${fmt(r.connections)} connections`,
    '',
    `Run ${at} with \`${r.command}\`. Figures per connection are what docs/scale.md multiplies out.`,
    '',
    '## Import and size',
    '',
    '| measure | value |',
    '| --- | --- |',
    `| import with enqueueConnections (batches of ${r.import.batchSize}) | ${fmt(r.import.seconds, 1)} s, ${fmt(r.import.connectionsPerSecond)} connections/s |`,
    `| import CPU (cores) | ${Object.entries(r.import.cpu.cores)
      .map(([k, v]) => `${k} ${fmt(v, 2)}`)
      .join(', ')} |`,
    `| Redis used_memory added | ${fmt(r.redis.usedMemoryBytes / MiB, 1)} MiB, ${fmt(r.redis.bytesPerConnection)} B/connection |`,
    `| Postgres schema (tables + indexes) | ${fmt(r.postgres.schemaBytes / MiB, 1)} MiB, ${fmt(r.postgres.bytesPerConnection)} B/connection |`,
    ...Object.entries(r.postgres.tables)
      .filter(([, t]) => t.tableBytes + t.indexBytes > 64 * 1024)
      .map(
        ([name, t]) =>
          `| · ${name} | table ${fmt(t.tableBytes / MiB, 1)} MiB, indexes ${fmt(t.indexBytes / MiB, 1)} MiB |`,
      ),
    '',
    `## Steady state: 1-hour tokens, ${fmt(r.connections / 3_600, 1)} refreshes/s due`,
    '',
    '| workers | due | refreshes/s | lateness p50 | p99 | max | expired | worker RSS | CPU (cores) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...r.steady.map(
      (w) =>
        `| ${w.workers} | ${fmt(w.due)} | ${fmt(w.refreshesPerSecond, 1)} | ${fmt(w.latenessMs.p50)} ms | ${fmt(w.latenessMs.p99)} ms | ${fmt(w.latenessMs.max)} ms | ${w.expired} | ${w.workerMaxRssBytes.map((b) => fmt(b / MiB)).join(' + ')} MiB | ${Object.entries(
          w.cpu.cores,
        )
          .map(([k, v]) => `${k} ${fmt(v, 2)}`)
          .join(', ')} |`,
    ),
    '',
    "Per refresh over each window (every refresh the provider answered; WAL and Redis commands are the whole servers'):",
    '',
    '| workers | refreshes | WAL B/refresh | Redis calls/refresh | Redis µs/refresh | worker core-ms/refresh | Postgres core-ms/refresh | top Redis commands per refresh |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...r.steady.map((w) => {
      const perRefreshMs = (cores: number | undefined) =>
        fmt(((cores ?? 0) * w.cpu.seconds * 1_000) / Math.max(1, w.refreshes), 2);
      return `| ${w.workers} | ${fmt(w.refreshes)} | ${fmt(w.walBytesPerRefresh)} | ${fmt(w.redisCallsPerRefresh, 1)} | ${fmt(w.redisUsecPerRefresh, 1)} | ${perRefreshMs(w.cpu.cores.workers)} | ${perRefreshMs(w.cpu.cores.postgres)} | ${Object.entries(
        w.redisTopCommands,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')} |`;
    }),
    '',
    '## Scheduler passes and metric reads (whole population, no workers running)',
    '',
    'Rows read are pg_stat_user_tables deltas on `connections` (sequential tuples read plus index fetches).',
    '',
    '| pass | ms | rows read | scans | what |',
    '| --- | --- | --- | --- | --- |',
    passRow('full pass, jobs in place', r.scheduler.fullPass),
    passRow('per-minute incremental pass', r.scheduler.incremental),
    passRow('full pass after a flush (rebuild)', r.scheduler.rebuild),
    passRow('metrics scrape: by status', r.scheduler.metricsByStatus),
    passRow('metrics scrape: expiring', r.scheduler.metricsExpiring),
    '',
  ];
  return lines.join('\n');
}

/** Writes `<name>.json` (formatted as the repository's format check wants it) and `<name>.md`. */
export async function writeScaleReport(r: ScaleResults, dir: string, name: string): Promise<string[]> {
  const at = new Date().toISOString();
  const json = join(dir, `${name}.json`);
  const md = join(dir, `${name}.md`);
  // An hour's run must not end on a missing --out folder.
  mkdirSync(dir, { recursive: true });
  writeFileSync(json, await format(JSON.stringify({ ...r, at }, null, 2), { parser: 'json' }));
  writeFileSync(md, renderScale(r, at));
  return [json, md];
}
