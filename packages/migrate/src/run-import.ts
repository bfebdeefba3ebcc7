import type { Checkpoint, CheckpointState } from './checkpoint.ts';
import type { ErrorReport, ReportEntry } from './error-report.ts';
import type { ImportRecord, ImportSource, RecordIssue } from './import-record.ts';

/** What the bulk path answered for one input. */
export type WriteResult =
  { ok: true; created: boolean; unchanged?: boolean } | { ok: false; issues: readonly RecordIssue[] };

/** Writes one batch (enqueueConnections, or a validation alone for --dry-run); one result per input, in order. */
export type WriteBatch = (inputs: Record<string, unknown>[]) => Promise<WriteResult[]>;

export interface ImportCounts {
  /** Records read from the source in this run (after the checkpoint). */
  records: number;
  created: number;
  updated: number;
  /** Already in Evergreen with these exact tokens: left alone. */
  unchanged: number;
  /** Left out on purpose (a disconnected connection): in the report as `skipped`. */
  skipped: number;
  /** Could not be imported: in the report as `error`. */
  failed: number;
}

export interface ImportSummary extends ImportCounts {
  /** The checkpoint this run resumed after, if any. */
  resumedAfterLine: number | null;
  /** True when a stop signal ended it before the source did (the checkpoint says where). */
  stopped: boolean;
}

export interface RunImportOptions {
  source: ImportSource;
  write: WriteBatch;
  batchSize: number;
  report: ErrorReport;
  /** Null for a dry run or standard input: nothing to resume from. */
  checkpoint: Checkpoint | null;
  resumeFrom: CheckpointState | null;
  onProgress?: (counts: ImportCounts, read: { done: number; total: number } | null, final: boolean) => void;
  /** Aborted (Ctrl-C): the batch in flight is finished and checkpointed, then the import stops. */
  signal?: AbortSignal;
}

/**
 * Streams a source through the bulk path in batches: batch k is written while batch k+1 is read and parsed (two
 * batches in memory at most); once batch k is committed, its report entries are appended and the checkpoint moves
 * past it. A crash between the commit and the checkpoint replays at most one batch, which the bulk path's
 * `keepCurrent` turns into no-ops.
 */
export async function runImport(options: RunImportOptions): Promise<ImportSummary> {
  const { source, write, batchSize, report, checkpoint, resumeFrom, signal } = options;
  const counts: ImportCounts = { records: 0, created: 0, updated: 0, unchanged: 0, skipped: 0, failed: 0 };
  report.start(resumeFrom?.line ?? null);
  const iterator = source.records()[Symbol.asyncIterator]();
  let exhausted = false;

  const readBatch = async (): Promise<ImportRecord[]> => {
    const batch: ImportRecord[] = [];
    while (batch.length < batchSize && !exhausted) {
      const next = await iterator.next();
      if (next.done) exhausted = true;
      else batch.push(next.value);
    }
    return batch;
  };

  let batch = await readBatch();
  let stopped = false;
  try {
    while (batch.length > 0) {
      const inputs = batch.filter((r) => r.outcome.kind === 'input');
      const writing =
        inputs.length > 0
          ? write(inputs.map((r) => (r.outcome as { input: Record<string, unknown> }).input))
          : Promise.resolve([]);
      writing.catch(() => {}); // awaited below; never unhandled while the next batch is read
      const next = signal?.aborted ? [] : await readBatch();
      const results = await writing;
      report.add(entriesOf(batch, inputs, results, counts));
      const last = batch[batch.length - 1]!;
      checkpoint?.save({ source: source.name, line: last.line, ...(last.id !== undefined && { id: last.id }) });
      options.onProgress?.(counts, source.progress(), false);
      if (signal?.aborted) {
        stopped = !exhausted || next.length > 0;
        break;
      }
      batch = next;
    }
  } finally {
    await iterator.return?.();
  }
  options.onProgress?.(counts, source.progress(), true);
  return { ...counts, resumedAfterLine: resumeFrom?.line ?? null, stopped };
}

function entriesOf(
  batch: readonly ImportRecord[],
  inputs: readonly ImportRecord[],
  results: readonly WriteResult[],
  counts: ImportCounts,
): ReportEntry[] {
  const entries: ReportEntry[] = [];
  const where = (r: ImportRecord) => ({ line: r.line, ...(r.id !== undefined && { id: r.id }) });
  const resultOf = new Map(inputs.map((r, i) => [r, results[i]]));
  for (const record of batch) {
    counts.records++;
    const { outcome } = record;
    if (outcome.kind === 'skipped') {
      counts.skipped++;
      entries.push({ ...where(record), kind: 'skipped', field: outcome.field, reason: outcome.reason });
      continue;
    }
    if (outcome.kind === 'invalid') {
      counts.failed++;
      for (const issue of outcome.issues) entries.push({ ...where(record), kind: 'error', ...issue });
      continue;
    }
    const result = resultOf.get(record);
    if (result === undefined) {
      counts.failed++;
      entries.push({ ...where(record), kind: 'error', field: '(record)', reason: 'the bulk path gave no result' });
    } else if (!result.ok) {
      counts.failed++;
      for (const issue of result.issues) entries.push({ ...where(record), kind: 'error', ...issue });
    } else if (result.unchanged) counts.unchanged++;
    else if (result.created) counts.created++;
    else counts.updated++;
  }
  return entries;
}
