import { createReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { parse } from 'csv-parse';
import { csvRecord, unknownColumns } from './csv-record.ts';
import type { ImportRecord, ImportSource } from './import-record.ts';
import { parseJsonLine } from './json-line.ts';
import { SourceError } from './source-error.ts';

export type FileFormat = 'jsonl' | 'csv';

/**
 * A line (or CSV record) longer than this is reported, not held: memory stays bounded whatever the file holds. An
 * input's largest fields (two tokens of 16 KiB, metadata of 16 KiB) fit many times over.
 */
export const MAX_LINE_CHARS = 1 << 20;

/** The format a file's name says (`.csv`; `.jsonl`, `.ndjson`, `.json`), null when it says none. */
export function formatOf(path: string): FileFormat | null {
  if (/\.csv$/i.test(path)) return 'csv';
  if (/\.(jsonl|ndjson|json)$/i.test(path)) return 'jsonl';
  return null;
}

/**
 * A JSON Lines or CSV file (or standard input, `-`), streamed: one chunk in memory at a time, and the next read only
 * when the import asks for the next record, so a file of any size takes the same memory. Records up to line `after`
 * (a checkpoint) are read past without being parsed (CSV: parsed, since a record may span lines, but not yielded).
 */
export class FileSource implements ImportSource {
  readonly name: string;
  readonly #path: string;
  readonly #format: FileFormat;
  readonly #after: number;
  readonly #total: number | null;
  #bytes = 0;

  constructor(path: string, format: FileFormat, options: { after?: number; stdin?: Readable } = {}) {
    this.#path = path;
    this.#format = format;
    this.#after = options.after ?? 0;
    this.name = path === '-' ? 'stdin' : `file:${path}`;
    this.#total = path === '-' ? null : sizeOf(path);
    this.#stdin = options.stdin ?? process.stdin;
  }

  readonly #stdin: Readable;

  progress(): { done: number; total: number } | null {
    return this.#total === null ? null : { done: this.#bytes, total: this.#total };
  }

  records(): AsyncIterable<ImportRecord> {
    const stream = this.#path === '-' ? this.#stdin : createReadStream(this.#path, { highWaterMark: 256 * 1024 });
    return this.#format === 'csv' ? this.#csv(stream) : this.#jsonl(stream);
  }

  async *#jsonl(stream: Readable): AsyncGenerator<ImportRecord> {
    for await (const { line, text } of this.#lines(stream)) {
      if (line <= this.#after) continue;
      if (text === null) {
        const reason = `is longer than ${MAX_LINE_CHARS} characters`;
        yield { line, outcome: { kind: 'invalid', issues: [{ field: '(line)', reason }] } };
        continue;
      }
      const record = parseJsonLine(text, line);
      if (record) yield record;
    }
  }

  /** The lines of the stream; `text: null` for a line too long to hold (its characters are dropped as they come). */
  async *#lines(stream: Readable): AsyncGenerator<{ line: number; text: string | null }> {
    const decoder = new StringDecoder('utf8');
    let rest = '';
    let overlong = false;
    let line = 0;
    const lineOf = (part: string) => {
      const text = overlong || part.length > MAX_LINE_CHARS ? null : part.endsWith('\r') ? part.slice(0, -1) : part;
      overlong = false;
      return { line: ++line, text };
    };
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      this.#bytes += chunk.length;
      const parts = (rest + decoder.write(chunk)).split('\n');
      rest = parts.pop() ?? '';
      for (const part of parts) yield lineOf(part);
      if (rest.length > MAX_LINE_CHARS) {
        overlong = true;
        rest = '';
      }
    }
    rest += decoder.end();
    if (rest !== '' || overlong) yield lineOf(rest);
  }

  async *#csv(stream: Readable): AsyncGenerator<ImportRecord> {
    // A malformed record is skipped by the parser and reported here, in order, before the next good one.
    const bad: ImportRecord[] = [];
    let header: string | null = null;
    const parser = parse({
      bom: true,
      info: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      max_record_size: MAX_LINE_CHARS,
      columns: (names: string[]) => {
        header = unknownColumns(names);
        return names;
      },
      on_skip: (error) => {
        // Our own words: the parser's message may quote the record's text.
        const line = (error as { lines?: number } | undefined)?.lines ?? 0;
        bad.push({
          line,
          outcome: { kind: 'invalid', issues: [{ field: '(line)', reason: csvReason(error?.code) }] },
        });
        return undefined;
      },
    });
    stream.on('data', (chunk: Buffer) => (this.#bytes += chunk.length));
    stream.on('error', (error) => parser.destroy(error));
    stream.pipe(parser);
    try {
      for await (const { record, info } of parser as AsyncIterable<{
        record: Record<string, string>;
        info: { lines: number };
      }>) {
        if (header !== null) throw new SourceError(header);
        for (const b of bad.splice(0)) if (b.line > this.#after) yield b;
        if (info.lines <= this.#after) continue;
        yield csvRecord(record, info.lines);
      }
    } catch (error) {
      if (error instanceof SourceError) throw error;
      const code = (error as { code?: string }).code;
      const line = (error as { lines?: number }).lines;
      throw new SourceError(`the CSV cannot be read on${line ? ` from line ${line}` : ''}: ${csvReason(code)}`);
    } finally {
      stream.destroy();
    }
    if (header !== null) throw new SourceError(header);
    for (const b of bad.splice(0)) if (b.line > this.#after) yield b;
  }
}

function csvReason(code: string | undefined): string {
  switch (code) {
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
    case 'CSV_RECORD_INCONSISTENT_COLUMNS':
      return 'has a different number of fields than the header';
    case 'CSV_MAX_RECORD_SIZE':
      return `is longer than ${MAX_LINE_CHARS} characters`;
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field is never closed';
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return 'a quoted field is followed by something other than a comma';
    default:
      return `is not a well-formed CSV record${code ? ` (${code})` : ''}`;
  }
}

function sizeOf(path: string): number {
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new SourceError(`${path} is not a file`);
    return stat.size;
  } catch (error) {
    if (error instanceof SourceError) throw error;
    throw new SourceError(`${path} cannot be read (${(error as { code?: string }).code ?? 'error'})`);
  }
}
