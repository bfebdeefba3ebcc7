import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

/** One line of the error report: where, which field, why. Never a value from the record. */
export interface ReportEntry {
  line: number;
  id?: string;
  field: string;
  reason: string;
  /** `skipped`: deliberately left out (a disconnected connection); `error`: could not be imported. */
  kind: 'error' | 'skipped';
}

/**
 * The per-record report, JSON Lines beside the input. Entries are appended when their batch commits, so a resumed
 * import first cuts the report back to its checkpoint and no record is reported twice.
 */
export class ErrorReport {
  readonly path: string;
  #count = 0;

  constructor(path: string) {
    this.path = path;
  }

  get count(): number {
    return this.#count;
  }

  /** A fresh report (a new import), or the old one up to `line` (a resumed one). */
  start(resumeAfterLine: number | null): void {
    if (resumeAfterLine === null || !existsSync(this.path)) {
      writeFileSync(this.path, '');
      return;
    }
    // Reports are small next to their input (one line per bad record): read whole, once, at start.
    const kept = readFileSync(this.path, 'utf8')
      .split('\n')
      .filter((l) => l !== '' && (JSON.parse(l) as ReportEntry).line <= resumeAfterLine);
    writeFileSync(this.path, kept.map((l) => `${l}\n`).join(''));
    this.#count = kept.length;
  }

  add(entries: readonly ReportEntry[]): void {
    if (entries.length === 0) return;
    appendFileSync(this.path, entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
    this.#count += entries.length;
  }
}
