/** One problem with one source record: what the error report holds (never a token). */
export interface RecordIssue {
  field: string;
  reason: string;
}

/**
 * One record of a source, as the import sees it: where it is (`line`: its line in a file, or its ordinal in a table's
 * read order, with the row's `id`), and either an enqueueConnection input, the issues that keep it out, or the reason
 * it is deliberately left out (a disconnected connection).
 */
export interface ImportRecord {
  line: number;
  /** The source row's primary key (database sources), for the report and the checkpoint. */
  id?: string;
  outcome:
    | { kind: 'input'; input: Record<string, unknown> }
    | { kind: 'invalid'; issues: RecordIssue[] }
    | { kind: 'skipped'; field: string; reason: string };
}

/** What a source hands the import: records in a stable order, and how far into the source it has read. */
export interface ImportSource {
  /** Says what it reads, for the checkpoint (`file:/data/c.jsonl`, `platform-connections:public.platform_connections`). */
  readonly name: string;
  records(): AsyncIterable<ImportRecord>;
  /** Fraction read so far, 0..1, when the size is known (a file), else null (stdin). */
  progress(): { done: number; total: number } | null;
}

/**
 * Statuses an imported line may carry (an export writes them): the live ones import, the others are left out
 * with a reason, since their tokens no longer refresh.
 */
export const STATUS_ON_IMPORT: Record<string, { import: true } | { import: false; reason: string }> = {
  connected: { import: true },
  token_expired: { import: true },
  needs_reauth: { import: false, reason: 'needs_reauth: its refresh token was refused; the user must reconnect' },
  error: { import: false, reason: 'error: the source could not refresh it; reconnect it once its client is fixed' },
  disconnected: { import: false, reason: 'disconnected: nothing to keep alive' },
};
