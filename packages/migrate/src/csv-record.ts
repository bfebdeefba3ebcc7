import { withStatus } from './json-line.ts';
import type { ImportRecord, RecordIssue } from './import-record.ts';

type Cell = (raw: string) => { ok: true; value: unknown } | { ok: false; reason: string };

const text: Cell = (raw) => ({ ok: true, value: raw });
const seconds: Cell = (raw) => {
  const n = Number(raw);
  return Number.isFinite(n) ? { ok: true, value: n } : { ok: false, reason: 'must be a number of seconds' };
};
const json =
  (what: string): Cell =>
  (raw) => {
    try {
      return { ok: true, value: JSON.parse(raw) };
    } catch {
      return { ok: false, reason: `must be a JSON ${what}` };
    }
  };

/**
 * The CSV columns: enqueueConnection's fields by their names, and `status` as an export writes it. `scopes` is a
 * space-separated list (RFC 6749 §3.3's own form); `metadata` and `credentials` hold JSON objects. An empty cell is an
 * absent field.
 */
export const CSV_COLUMNS: Readonly<Record<string, Cell>> = {
  connectionId: text,
  ownerId: text,
  provider: text,
  accessToken: text,
  refreshToken: text,
  expiresAt: text,
  expiresIn: seconds,
  refreshTokenExpiresIn: seconds,
  scopes: (raw) => ({ ok: true, value: raw.split(/\s+/).filter(Boolean) }),
  metadata: json('object'),
  credentials: json('object'),
  status: text,
};

/** The header's unknown columns, named, or null when every column is known. */
export function unknownColumns(header: readonly string[]): string | null {
  const unknown = header.filter((h) => !(h in CSV_COLUMNS));
  if (unknown.length === 0) return null;
  return `unknown CSV column${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `'${u}'`).join(', ')} (columns: ${Object.keys(CSV_COLUMNS).join(', ')})`;
}

/** One CSV record (header → cell) as an import record. */
export function csvRecord(cells: Readonly<Record<string, string>>, line: number): ImportRecord {
  const input: Record<string, unknown> = {};
  const issues: RecordIssue[] = [];
  for (const [column, raw] of Object.entries(cells)) {
    const cell = CSV_COLUMNS[column];
    if (cell === undefined || raw === '') continue;
    const parsed = cell(raw);
    if (parsed.ok) input[column] = parsed.value;
    else issues.push({ field: column, reason: parsed.reason });
  }
  if (issues.length > 0) return { line, outcome: { kind: 'invalid', issues } };
  return withStatus(input, line);
}
