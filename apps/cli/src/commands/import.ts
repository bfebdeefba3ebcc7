import { basename, dirname, join } from 'node:path';
import type { ImportSource, WriteBatch, WriteResult } from '@evergreen/migrate';
import type { BulkItemResult } from '@evergreen/sdk';
import { integerOption, stringOption, UsageError, type Command, type OptionValues } from '../command.ts';
import { openCliEvergreen } from './connections.ts';

/** Exit code of an import that finished but left records out by error (the report lists them). */
const SOME_FAILED = 4;
/** Exit code of an import stopped by a signal after checkpointing (run it again to resume). */
const STOPPED = 130;

export const connectionsImport: Command = {
  words: ['connections', 'import'],
  synopsis:
    'FILE|- [--format jsonl|csv] | --from platform-connections|nango --database-url URL --key KEY [--table NAME]\n' +
    '    [--environment-id N] [--provider-map KEY=PROVIDER,...]  [--start-at ISO] [--dry-run] [--batch-size N]\n' +
    '    [--report PATH] [--checkpoint PATH] [--restart] [--progress-interval SECONDS]',
  summary: [
    'import connections through the bulk path: a JSON Lines or CSV file of enqueueConnection inputs (- for',
    "standard input), the reference schema's platform_connections table (--key: its 64-hex-character key), or a",
    'self-hosted Nango database (--key: its NANGO_ENCRYPTION_KEY; --table defaults to nango._nango_connections).',
    'Progress on stderr; a report of every record left out (line, field, reason; never a token) beside the input',
    '(FILE.errors.jsonl; for other sources in the current directory). Resumable: a stopped import (Ctrl-C, a',
    'crash, Postgres down) continues after its checkpoint, and a connection already holding the same tokens is',
    'left alone (no version bump, no new schedule). --start-at: nothing is refreshed before that time (the',
    "cut-over: stop the old system's refreshes by then). --dry-run: validate only, write nothing.",
    'Exit 0: all imported or deliberately skipped; 4: some records were not imported (see the report); 130:',
    'stopped, run it again to resume. docs/migrating.md walks through each source.',
  ].join('\n'),
  args: [{ name: 'FILE (or - for standard input)', required: false }],
  options: {
    format: { type: 'string' },
    from: { type: 'string' },
    'database-url': { type: 'string' },
    key: { type: 'string' },
    table: { type: 'string' },
    'environment-id': { type: 'string' },
    'provider-map': { type: 'string' },
    'start-at': { type: 'string' },
    'dry-run': { type: 'boolean' },
    'batch-size': { type: 'string' },
    report: { type: 'string' },
    checkpoint: { type: 'string' },
    restart: { type: 'boolean' },
    'progress-interval': { type: 'string' },
  },
  run: async ({ args, values }) => runImportCommand(args[0], values),
};

async function runImportCommand(file: string | undefined, values: OptionValues): Promise<number> {
  const migrate = await import('@evergreen/migrate');
  const batchSize = integerOption(values, 'batch-size', 1000);
  if (batchSize > 10_000) throw new UsageError('--batch-size: must be at most 10000');
  const progressSeconds = integerOption(values, 'progress-interval', 5);
  const startAt = parseStartAt(stringOption(values, 'start-at'));
  const dryRun = values['dry-run'] === true;
  const from = stringOption(values, 'from');
  const { loadConfig } = await import('@evergreen/config');

  // Where the report and checkpoint go: beside the input file, else in the current directory.
  let defaults: { report: string; checkpoint: string | null };
  let openSource: (after: { line: number; id?: string } | null) => ImportSource;
  let sourceName: string;
  if (from === undefined) {
    if (file === undefined)
      throw new UsageError('connections import: FILE (or - for standard input) or --from is required');
    for (const o of ['database-url', 'key', 'table', 'environment-id', 'provider-map']) {
      if (values[o] !== undefined) throw new UsageError(`--${o}: only with --from`);
    }
    const format = parseFormat(stringOption(values, 'format'), file, migrate.formatOf);
    defaults =
      file === '-'
        ? { report: 'evergreen-import-stdin.errors.jsonl', checkpoint: null }
        : { report: `${file}.errors.jsonl`, checkpoint: join(dirname(file), `${basename(file)}.checkpoint.json`) };
    sourceName = file === '-' ? 'stdin' : `file:${file}`;
    openSource = (after) => new migrate.FileSource(file, format, { after: after?.line ?? 0 });
  } else {
    if (file !== undefined) throw new UsageError(`connections import: FILE and --from ${from} are exclusive`);
    if (values.format !== undefined) throw new UsageError('--format: only for a file');
    const databaseUrl = stringOption(values, 'database-url');
    if (databaseUrl === undefined) throw new UsageError(`--database-url: is required with --from ${from}`);
    const table = stringOption(values, 'table');
    const keyText = stringOption(values, 'key');
    defaults = {
      report: `evergreen-import-${from}.errors.jsonl`,
      checkpoint: `evergreen-import-${from}.checkpoint.json`,
    };
    if (from === 'platform-connections') {
      if (keyText === undefined) throw new UsageError('--key: is required with --from platform-connections');
      const key = keyOption(() => migrate.parseReferenceKey(keyText));
      const source = (after: { line: number; id?: string } | null) =>
        new migrate.PlatformConnectionsSource({
          databaseUrl,
          ...(table !== undefined && { table }),
          key,
          after: afterRow(after),
        });
      sourceName = source(null).name;
      openSource = source;
    } else if (from === 'nango') {
      const key = keyText === undefined ? null : keyOption(() => migrate.parseNangoKey(keyText));
      const environmentId =
        values['environment-id'] === undefined ? null : integerOption(values, 'environment-id', 0, 0);
      const providerMap = parseProviderMap(stringOption(values, 'provider-map'));
      const providers = new Set(loadConfig().providers.map((p) => p.id));
      const source = (after: { line: number; id?: string } | null) =>
        new migrate.NangoSource({
          databaseUrl,
          ...(table !== undefined && { table }),
          key,
          environmentId,
          providers,
          providerMap,
          after: afterRow(after),
        });
      sourceName = source(null).name;
      openSource = source;
    } else {
      throw new UsageError(`--from: must be platform-connections or nango, not '${from}'`);
    }
  }

  const report = new migrate.ErrorReport(stringOption(values, 'report') ?? defaults.report);
  const checkpointPath = stringOption(values, 'checkpoint') ?? defaults.checkpoint;
  const checkpoint = dryRun || checkpointPath === null ? null : new migrate.Checkpoint(checkpointPath);
  if (values.restart === true) checkpoint?.clear();
  const resumeFrom = checkpoint?.read(sourceName) ?? null;
  if (resumeFrom) {
    process.stderr.write(
      `resuming after line ${resumeFrom.line} (checkpoint ${checkpoint!.path}; --restart to start over)\n`,
    );
  }

  const config = loadConfig();
  const meter = new migrate.ProgressMeter(process.stderr, { intervalMs: progressSeconds * 1000 });
  const stop = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) process.exit(STOPPED); // a second Ctrl-C: now
    process.stderr.write('\nstopping after the batch in flight (Ctrl-C again to stop at once)\n');
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const evergreen = dryRun ? null : await openCliEvergreen();
  try {
    let write: WriteBatch;
    if (evergreen === null) {
      const { prepareConnection } = await import('@evergreen/sdk');
      const providers = new Map(config.providers.map((p) => [p.id, p]));
      write = (inputs) =>
        Promise.resolve(
          inputs.map((input): WriteResult => {
            try {
              prepareConnection(input, providers, config.refresh, Date.now());
              return { ok: true, created: true };
            } catch (error) {
              return { ok: false, issues: issuesOf(error) };
            }
          }),
        );
    } else {
      write = async (inputs) => {
        const written = await evergreen.enqueueConnections(inputs as never, {
          batchSize: inputs.length,
          keepCurrent: true,
          ...(startAt && { notBefore: startAt }),
        });
        return written.results.map(toWriteResult);
      };
    }
    const summary = await migrate.runImport({
      source: openSource(resumeFrom),
      write,
      batchSize,
      report,
      checkpoint,
      resumeFrom,
      signal: stop.signal,
      onProgress: (counts, read, final) => {
        const fraction = read && read.total > 0 ? read.done / read.total : null;
        meter.update(counts.records, counts.failed, final && !stop.signal.aborted ? 1 : fraction, final);
      },
    });
    meter.done();
    if (!summary.stopped) checkpoint?.clear(); // done: a rerun goes through everything again (no-ops where unchanged)
    process.stdout.write(
      `${JSON.stringify({
        source: sourceName,
        dryRun,
        ...(startAt && { startAt: startAt.toISOString() }),
        ...summary,
        report: report.count > 0 ? report.path : null,
        checkpoint: summary.stopped ? (checkpoint?.path ?? null) : null,
      })}\n`,
    );
    if (summary.stopped) return STOPPED;
    return summary.failed > 0 ? SOME_FAILED : 0;
  } finally {
    meter.done();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await evergreen?.close();
  }
}

function toWriteResult(r: BulkItemResult): WriteResult {
  if (r.ok) return { ok: true, created: r.created, ...(r.unchanged && { unchanged: true }) };
  return {
    ok: false,
    issues:
      r.error.issues.length > 0
        ? r.error.issues
        : [{ field: '(record)', reason: `${r.error.code}: ${r.error.message}` }],
  };
}

function issuesOf(error: unknown): { field: string; reason: string }[] {
  const issues = (error as { issues?: { field: string; reason: string }[] }).issues;
  if (Array.isArray(issues) && issues.length > 0) return issues;
  throw error;
}

function parseStartAt(text: string | undefined): Date | null {
  if (text === undefined) return null;
  const at = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text) ? new Date(text) : null;
  if (at === null || Number.isNaN(at.getTime())) {
    throw new UsageError('--start-at: must be an ISO-8601 date-time with its offset (2026-03-01T02:00:00Z)');
  }
  return at;
}

function parseFormat(
  text: string | undefined,
  file: string,
  formatOf: (path: string) => 'jsonl' | 'csv' | null,
): 'jsonl' | 'csv' {
  if (text === 'jsonl' || text === 'csv') return text;
  if (text !== undefined) throw new UsageError(`--format: must be jsonl or csv, not '${text}'`);
  if (file === '-') return 'jsonl';
  const format = formatOf(file);
  if (format === null) throw new UsageError(`--format: ${file} has no .jsonl or .csv extension; say which it is`);
  return format;
}

function parseProviderMap(text: string | undefined): Map<string, string> {
  const map = new Map<string, string>();
  if (text === undefined) return map;
  for (const pair of text.split(',')) {
    const [from, to, extra] = pair.split('=');
    if (!from || !to || extra !== undefined) {
      throw new UsageError(`--provider-map: '${pair}' must be NANGO_KEY=PROVIDER (several: a=b,c=d)`);
    }
    map.set(from.trim(), to.trim());
  }
  return map;
}

/** The key option checked by `parse`, its reason as the usage error (the key itself is never echoed). */
function keyOption(parse: () => Buffer): Buffer {
  try {
    return parse();
  } catch (error) {
    throw new UsageError(`--key: ${(error as Error).message}`);
  }
}

function afterRow(after: { line: number; id?: string } | null): { id: string; line: number } | null {
  return after?.id === undefined ? null : { id: after.id, line: after.line };
}
