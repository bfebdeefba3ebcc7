import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  Checkpoint,
  ErrorReport,
  progressBar,
  progressLine,
  ProgressMeter,
  runImport,
  type ImportRecord,
  type ImportSource,
} from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'evergreen-migrate-'));

function source(records: ImportRecord[], onRead?: (line: number) => void): ImportSource {
  let read = 0;
  return {
    name: 'test',
    progress: () => ({ done: read, total: records.length }),
    async *records() {
      for (const r of records) {
        read++;
        onRead?.(r.line);
        yield r;
      }
    },
  };
}
const input = (line: number): ImportRecord => ({ line, outcome: { kind: 'input', input: { n: line } } });

describe('runImport', () => {
  it('writes in batches, checkpoints each committed batch, reports by line, counts each outcome', async () => {
    const records = [
      input(1),
      { line: 2, outcome: { kind: 'invalid', issues: [{ field: '(line)', reason: 'is not valid JSON' }] } },
      input(3),
      { line: 4, outcome: { kind: 'skipped', field: 'status', reason: 'disconnected' } },
      input(5),
    ] satisfies ImportRecord[];
    const checkpoint = new Checkpoint(join(dir, 'a.checkpoint.json'));
    const saved: number[] = [];
    const save = checkpoint.save.bind(checkpoint);
    checkpoint.save = (s) => (saved.push(s.line), save(s));
    const batches: unknown[][] = [];
    const report = new ErrorReport(join(dir, 'a.errors.jsonl'));
    const summary = await runImport({
      source: source(records),
      batchSize: 2,
      report,
      checkpoint,
      resumeFrom: null,
      write: async (inputs) => {
        batches.push(inputs);
        return inputs.map((i) =>
          (i as { n: number }).n === 3
            ? { ok: false, issues: [{ field: 'provider', reason: 'unknown' }] }
            : { ok: true, created: (i as { n: number }).n === 1, unchanged: (i as { n: number }).n === 5 },
        );
      },
    });
    expect(batches).toEqual([[{ n: 1 }], [{ n: 3 }], [{ n: 5 }]]);
    expect(saved).toEqual([2, 4, 5]);
    expect(summary).toMatchObject({ records: 5, created: 1, unchanged: 1, failed: 2, skipped: 1, stopped: false });
    expect(
      readFileSync(report.path, 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as { line: number })
        .map((e) => e.line),
    ).toEqual([2, 3, 4]);
  });

  it('a stop signal finishes the batch in flight, checkpoints it, and reads no further', async () => {
    const stop = new AbortController();
    const read: number[] = [];
    const checkpoint = new Checkpoint(join(dir, 'b.checkpoint.json'));
    const summary = await runImport({
      source: source([1, 2, 3, 4, 5, 6].map(input), (l) => read.push(l)),
      batchSize: 2,
      report: new ErrorReport(join(dir, 'b.errors.jsonl')),
      checkpoint,
      resumeFrom: null,
      signal: stop.signal,
      write: async (inputs) => {
        stop.abort(); // Ctrl-C while the first batch is being written
        return inputs.map(() => ({ ok: true, created: true }));
      },
    });
    expect(summary).toMatchObject({ records: 2, created: 2, stopped: true });
    expect(checkpoint.read('test')).toMatchObject({ line: 2 });
    expect(Math.max(...read)).toBeLessThanOrEqual(4); // at most the batch read ahead, never written
  });

  it('a resumed report keeps its entries up to the checkpoint and drops the replayed ones', () => {
    const path = join(dir, 'c.errors.jsonl');
    writeFileSync(
      path,
      [3, 9, 12].map((line) => `${JSON.stringify({ line, field: 'f', reason: 'r', kind: 'error' })}\n`).join(''),
    );
    const report = new ErrorReport(path);
    report.start(10);
    expect(report.count).toBe(2);
    expect(readFileSync(path, 'utf8')).not.toContain('"line":12');
  });
});

describe('progress', () => {
  it('a bar with percentage, count, rate and time left; plain lines say the same', () => {
    const state = { records: 50_000, failed: 3, elapsedMs: 10_000, fraction: 0.25 };
    expect(progressBar(state, 8)).toBe('[##------]  25.0%  50,000 records  3 not imported  5000/s  ETA 30s');
    expect(progressLine(state)).toBe('import: 50000 records, 3 not imported, 5000/s, 25.0% read, about 30s left');
    expect(progressBar({ ...state, fraction: null })).toBe('50,000 records  3 not imported  5000/s  ETA --');
  });

  it('redraws one line on a terminal; elsewhere writes a line per interval', () => {
    let now = 0;
    const writes: string[] = [];
    const tty = { isTTY: true, columns: 200, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream;
    const meter = new ProgressMeter(tty, { now: () => now, redrawMs: 100 });
    meter.update(1, 0, 0.1);
    now = 50;
    meter.update(2, 0, 0.2); // too soon: not drawn
    now = 150;
    meter.update(3, 0, 0.3);
    meter.done();
    expect(writes).toHaveLength(3);
    expect(writes[0]!.startsWith('\r\u001b[2K[')).toBe(true);
    expect(writes[2]).toBe('\n');

    const plain: string[] = [];
    const pipe = { write: (s: string) => plain.push(s) } as unknown as NodeJS.WriteStream;
    now = 0;
    const lines = new ProgressMeter(pipe, { now: () => now, intervalMs: 5_000 });
    for (now = 0; now <= 12_000; now += 1_000) lines.update(now, 0, null);
    expect(plain).toHaveLength(3); // at 0, 5 s and 10 s
    expect(plain.every((l) => l.startsWith('import: ') && l.endsWith('\n'))).toBe(true);
  });
});

describe('FileSource', () => {
  it('streams JSON Lines: CRLF, a last line without newline, an over-long line reported and dropped', async () => {
    const { FileSource, MAX_LINE_CHARS } = await import('../src/file-source.ts');
    const path = join(dir, 'lines.jsonl');
    const long = `{"ownerId":"${'x'.repeat(MAX_LINE_CHARS + 10)}"}`;
    writeFileSync(path, `{"ownerId":"a"}\r\n${long}\n\n{"ownerId":"b"}\n{"ownerId":"c"}`);
    const seen: ImportRecord[] = [];
    for await (const r of new FileSource(path, 'jsonl').records()) seen.push(r);
    expect(seen.map((r) => [r.line, r.outcome.kind])).toEqual([
      [1, 'input'],
      [2, 'invalid'],
      [4, 'input'],
      [5, 'input'],
    ]);
    expect(seen[1]!.outcome).toMatchObject({ issues: [{ reason: `is longer than ${MAX_LINE_CHARS} characters` }] });
    const after: number[] = [];
    for await (const r of new FileSource(path, 'jsonl', { after: 4 }).records()) after.push(r.line);
    expect(after).toEqual([5]);
  });
});
