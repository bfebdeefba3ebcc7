import { ConnectionCounts } from '@evergreen/store';
import { Reconciler } from '@evergreen/refresh';
import { SchedulerKeys } from '@evergreen/queue';
import { createLogger } from '@evergreen/log';
import { openEvergreen } from '@evergreen/wiring';
import type { BenchSandbox } from './bench-sandbox.ts';
import { sleep } from './stats.ts';

/** Reads of the `connections` table, from pg_stat_user_tables: rows a pass touched, by sequential or index scan. */
export interface TableReads {
  seqScans: number;
  seqRows: number;
  indexScans: number;
  indexRows: number;
}

export interface PassResult {
  ms: number;
  /** Rows of `connections` the pass read (sequential plus index fetches). */
  rowsRead: number;
  reads: TableReads;
  /** What the reconcile reported, when it was one. */
  scanned?: number;
  overdue?: number;
  scheduled?: number;
}

export interface SchedulerPasses {
  /** The full pass with every job in place: one page of rows, one pipelined EXISTS per page. */
  fullPass: PassResult;
  /** The per-minute tick: overdue rows only. */
  incremental: PassResult;
  /** The full pass after the Redis keys were dropped (a FLUSHALL): every job added back. */
  rebuild: PassResult;
  /** The metrics' gauges, read at each scrape: connections by status, tokens expiring within the gauge's windows. */
  metricsByStatus: PassResult;
  metricsExpiring: PassResult;
}

async function tableReads(sandbox: BenchSandbox): Promise<TableReads> {
  // A fresh snapshot each time: the statistics collector's view is otherwise cached per transaction.
  const [row] = await sandbox.sql<
    { seq_scan: string; seq_tup_read: string; idx_scan: string | null; idx_tup_fetch: string | null }[]
  >`
    select pg_stat_clear_snapshot(), seq_scan::text, seq_tup_read::text, idx_scan::text, idx_tup_fetch::text
    from pg_stat_user_tables where relid = ${`"${sandbox.schema}".connections`}::regclass`;
  return {
    seqScans: Number(row?.seq_scan ?? 0),
    seqRows: Number(row?.seq_tup_read ?? 0),
    indexScans: Number(row?.idx_scan ?? 0),
    indexRows: Number(row?.idx_tup_fetch ?? 0),
  };
}

/**
 * Runs `pass` on a pool of its own, closes the pool (a backend flushes its table statistics when it exits), and
 * answers the time and the rows of `connections` read, from pg_stat_user_tables. Nothing else may read the table
 * meanwhile: no workers run during these passes.
 */
async function measured<T>(
  sandbox: BenchSandbox,
  pass: (parts: ReturnType<typeof openEvergreen>) => Promise<T>,
): Promise<{ ms: number; reads: TableReads; rowsRead: number; value: T }> {
  const before = await tableReads(sandbox);
  const parts = openEvergreen(sandbox.config({ EVERGREEN_MIGRATE_ON_START: 'false' }), {
    log: createLogger({ level: 'warn' }),
  });
  const t0 = performance.now();
  let value: T;
  try {
    value = await pass(parts);
  } finally {
    await parts.close();
  }
  const ms = performance.now() - t0;
  let after = await tableReads(sandbox);
  // The exiting backends' counters land within moments; wait until they have (or 5 s: then they were zero).
  for (let i = 0; i < 50 && after.seqScans === before.seqScans && after.indexScans === before.indexScans; i++) {
    await sleep(100);
    after = await tableReads(sandbox);
  }
  const reads = {
    seqScans: after.seqScans - before.seqScans,
    seqRows: after.seqRows - before.seqRows,
    indexScans: after.indexScans - before.indexScans,
    indexRows: after.indexRows - before.indexRows,
  };
  return { ms, reads, rowsRead: reads.seqRows + reads.indexRows, value };
}

function reconciler(parts: ReturnType<typeof openEvergreen>, sandbox: BenchSandbox): Reconciler {
  return new Reconciler({
    store: parts.store,
    queues: parts.worker.queues,
    keys: new SchedulerKeys(parts.worker.redis, sandbox.prefix),
    providers: parts.providers,
    // As shipped: a minute between ticks, 15 s of grace, a full pass every six hours or on loss.
    intervalMs: 60_000,
    graceMs: 15_000,
    fullPassIntervalMs: 6 * 3_600_000,
    processName: 'bench-scheduler',
    log: createLogger({ level: 'warn' }),
  });
}

/** The scheduler's passes and the metrics' reads over the whole population, each on its own, no workers running. */
export async function measureSchedulerPasses(
  sandbox: BenchSandbox,
  progress: (line: string) => void,
): Promise<SchedulerPasses> {
  const sentinel = `${sandbox.prefix}:scheduler:sentinel`;
  const tick = async (parts: ReturnType<typeof openEvergreen>) => reconciler(parts, sandbox).tick();
  const asPass = (m: Awaited<ReturnType<typeof measured<Awaited<ReturnType<typeof tick>>>>>): PassResult => ({
    ms: Math.round(m.ms),
    rowsRead: m.rowsRead,
    reads: m.reads,
    scanned: m.value.scanned,
    overdue: m.value.overdue,
    scheduled: m.value.scheduled,
  });

  await sandbox.redis.del(sentinel);
  const full = asPass(await measured(sandbox, tick));
  progress(`  full pass: ${full.ms} ms, ${full.scanned} rows, ${full.scheduled} scheduled, ${full.rowsRead} rows read`);
  // Ten ticks on one pool, as a scheduler runs them minute after minute (a prepared statement's plan changes after
  // five); the figures are per tick.
  const ticks = 10;
  const tenTicks = await measured(sandbox, async (parts) => {
    let last = await tick(parts);
    for (let i = 1; i < ticks; i++) last = await tick(parts);
    return last;
  });
  const incremental = asPass({
    ...tenTicks,
    ms: tenTicks.ms / ticks,
    rowsRead: Math.round(tenTicks.rowsRead / ticks),
    reads: {
      seqScans: tenTicks.reads.seqScans / ticks,
      seqRows: Math.round(tenTicks.reads.seqRows / ticks),
      indexScans: tenTicks.reads.indexScans / ticks,
      indexRows: Math.round(tenTicks.reads.indexRows / ticks),
    },
  });
  progress(
    `  per-minute pass: ${incremental.ms} ms, ${incremental.overdue} overdue, ${incremental.rowsRead} rows read`,
  );
  await sandbox.dropRedisKeys();
  const rebuild = asPass(await measured(sandbox, tick));
  progress(`  rebuild after a flush: ${rebuild.ms} ms, ${rebuild.scheduled} jobs added`);

  const counts = (parts: ReturnType<typeof openEvergreen>) => new ConnectionCounts(parts.db);
  const byStatus = await measured(sandbox, (parts) => counts(parts).byStatus());
  const expiring = await measured(sandbox, (parts) => counts(parts).expiring([300, 3_600]));
  const plain = (m: { ms: number; rowsRead: number; reads: TableReads }): PassResult => ({
    ms: Math.round(m.ms),
    rowsRead: m.rowsRead,
    reads: m.reads,
  });
  progress(`  metrics: by status ${Math.round(byStatus.ms)} ms, expiring ${Math.round(expiring.ms)} ms`);
  return {
    fullPass: full,
    incremental,
    rebuild,
    metricsByStatus: plain(byStatus),
    metricsExpiring: plain(expiring),
  };
}
