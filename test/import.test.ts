import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queueName } from '@evergreen/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEvergreenCli as evergreen, startEvergreenCli } from '@evergreen/test-support/processes';
import { startProviderStack, type ProviderStack } from '@evergreen/test-support/provider-stack';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { until } from '@evergreen/test-support/until';

describe('evergreen connections import (a file)', () => {
  const sandbox = new Sandbox();
  const dir = mkdtempSync(join(tmpdir(), 'evergreen-import-'));
  let f: ProviderStack;

  beforeAll(async () => {
    f = await startProviderStack(sandbox); // a producer only: no worker refreshes what the test counts
  });

  afterAll(async () => {
    await f?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const rows = async (ownerPrefix: string) =>
    (await sandbox.sql`
      select id, owner_id, version, updated_at, refresh_at from connections
      where owner_id like ${`${ownerPrefix}%`} order by owner_id`) as unknown as {
      id: string;
      owner_id: string;
      version: string;
      updated_at: Date;
      refresh_at: Date | null;
    }[];
  const delayedScore = (id: string) => sandbox.redis.zscore(`${sandbox.prefix}:${queueName('acme')}:delayed`, id);

  it('survives a SIGKILL mid-way: the rerun resumes, duplicates nothing, bumps no version, moves no job', async () => {
    const total = 20_000;
    const expiresAt = new Date(Date.now() + 3 * 3600_000).toISOString();
    // Bad lines, by line number: what the report must name, once each.
    const bad = new Map<number, [string, string]>([
      [5, ['{"ownerId": "k5", "accessToken": "at-LEAK-5"', '(line)']],
      [10, [JSON.stringify({ ownerId: 'k10', provider: 'nope', accessToken: 'at-LEAK-10' }), 'provider']],
      [3_333, [JSON.stringify({ provider: 'acme', accessToken: 'at-LEAK-3333' }), 'ownerId']],
      [
        15_000,
        [
          JSON.stringify({ ownerId: 'k15000', provider: 'acme', accessToken: 'at-LEAK-15000', expiresIn: 'x' }),
          'expiresIn',
        ],
      ],
      [
        19_999,
        [
          JSON.stringify({ ownerId: 'k19999', provider: 'acme', accessToken: 'at-LEAK-19999', colour: 'red' }),
          'colour',
        ],
      ],
    ]);
    const skipped = 7; // an export's disconnected connection: left out on purpose
    const lines: string[] = [];
    for (let line = 1; line <= total; line++) {
      if (bad.has(line)) lines.push(bad.get(line)![0]);
      else if (line === skipped)
        lines.push(JSON.stringify({ ownerId: 'k7', provider: 'acme', status: 'disconnected' }));
      else if (line === 8) lines.push('');
      else {
        lines.push(
          JSON.stringify({
            ownerId: `k${String(line).padStart(5, '0')}`,
            provider: 'acme',
            accessToken: `at-LEAK-${line}`,
            refreshToken: `rt-LEAK-${line}`,
            expiresAt,
            scopes: ['read'],
          }),
        );
      }
    }
    const good = total - bad.size - 2;
    const file = join(dir, 'connections.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const args = ['connections', 'import', file, '--batch-size', '100', '--progress-interval', '1'];
    const checkpoint = `${file}.checkpoint.json`;

    const first = startEvergreenCli(args, sandbox.env());
    const stoppedAt = await until(
      () => {
        if (!existsSync(checkpoint)) return null;
        const { line } = JSON.parse(readFileSync(checkpoint, 'utf8')) as { line: number };
        return line >= 4_000 ? line : null;
      },
      { timeoutMs: 60_000, intervalMs: 20, what: 'the checkpoint past line 4000' },
    );
    first.child.kill('SIGKILL');
    expect(await first.exited).toMatchObject({ signal: 'SIGKILL' });
    expect(stoppedAt).toBeLessThan(total);
    const before = await rows('k');
    expect(before.length).toBeGreaterThan(3_000);
    expect(before.length).toBeLessThan(good);
    const probe = before[0]!;
    const probeScore = await delayedScore(probe.id);
    expect(probeScore).not.toBeNull();

    const second = await evergreen(args, sandbox.env());
    expect(second.code, second.err).toBe(4); // done, with records left out (the report)
    const summary = JSON.parse(second.out) as Record<string, unknown>;
    expect(summary.resumedAfterLine).toBeGreaterThanOrEqual(stoppedAt);
    expect(summary).toMatchObject({ stopped: false, report: `${file}.errors.jsonl`, checkpoint: null });
    expect(second.err).toMatch(/resuming after line \d+/);
    expect(second.err).toMatch(/import: \d+ records, \d+ not imported, [\d.]+k?\/s/);
    expect(existsSync(checkpoint)).toBe(false); // done: a later rerun reads everything again

    const after = await rows('k');
    expect(after).toHaveLength(good);
    expect(new Set(after.map((r) => r.owner_id)).size).toBe(good);
    expect(after.every((r) => Number(r.version) === 1)).toBe(true);
    // The rows the killed run wrote were not written again (the batch it was writing included), and kept their jobs.
    const byId = new Map(after.map((r) => [r.id, r]));
    for (const r of before) expect(byId.get(r.id)!.updated_at).toEqual(r.updated_at);
    expect(await delayedScore(probe.id)).toBe(probeScore);

    const report = readFileSync(`${file}.errors.jsonl`, 'utf8');
    const entries = report
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; field: string; kind: string; reason: string });
    expect(entries.map((e) => [e.line, e.field, e.kind])).toEqual([
      [5, '(line)', 'error'],
      [7, 'status', 'skipped'],
      [10, 'provider', 'error'],
      [3_333, 'ownerId', 'error'],
      [15_000, 'expiresIn', 'error'],
      [19_999, 'colour', 'error'],
    ]);
    expect(entries[0]!.reason).toMatch(/^is not valid JSON/);
    expect(entries[2]!.reason).toContain("'nope' is not configured");
    for (const text of [report, second.out, second.err, first.output()]) expect(text).not.toContain('LEAK');

    // The whole file again, with nothing to resume: every connection is already in, so nothing is written.
    const third = await evergreen(args, sandbox.env());
    expect(third.code, third.err).toBe(4);
    expect(JSON.parse(third.out)).toMatchObject({ created: 0, updated: 0, unchanged: good, failed: 5, skipped: 1 });
    expect((await rows('k')).every((r) => Number(r.version) === 1)).toBe(true);
  });

  it('Ctrl-C: finishes the batch in flight, checkpoints it, exits 130; the rerun picks up after it', async () => {
    const file = join(dir, 'interrupted.jsonl');
    const total = 10_000;
    writeFileSync(
      file,
      Array.from({ length: total }, (_, i) =>
        JSON.stringify({ ownerId: `sig-${i}`, provider: 'acme', accessToken: `a${i}`, refreshToken: `r${i}` }),
      ).join('\n'),
    );
    const args = ['connections', 'import', file, '--batch-size', '100'];
    const run = startEvergreenCli(args, sandbox.env());
    await until(() => existsSync(`${file}.checkpoint.json`), { timeoutMs: 60_000, what: 'the first checkpoint' });
    run.child.kill('SIGINT');
    expect(await run.exited).toMatchObject({ code: 130 });
    const summary = JSON.parse(
      run
        .output()
        .split('\n')
        .find((l) => l.startsWith('{'))!,
    ) as Record<string, unknown>;
    expect(summary).toMatchObject({ stopped: true, checkpoint: `${file}.checkpoint.json` });
    const { line } = JSON.parse(readFileSync(`${file}.checkpoint.json`, 'utf8')) as { line: number };
    expect(line).toBe(summary.records);
    expect(await rows('sig-')).toHaveLength(line); // exactly what was checkpointed: the batch in flight finished

    const rest = await evergreen(args, sandbox.env());
    expect(rest.code, rest.err).toBe(0);
    expect(JSON.parse(rest.out)).toMatchObject({
      resumedAfterLine: line,
      records: total - line,
      created: total - line,
    });
    expect(await rows('sig-')).toHaveLength(total);
  });

  it('--start-at: nothing is refreshed before the cut-over, however soon the tokens expire', async () => {
    const startAt = new Date(Date.now() + 2 * 3600_000);
    const file = join(dir, 'cutover.jsonl');
    const soon = new Date(Date.now() + 60_000).toISOString();
    writeFileSync(
      file,
      [1, 2, 3]
        .map((i) =>
          JSON.stringify({
            ownerId: `cut-${i}`,
            provider: 'acme',
            accessToken: `a${i}`,
            refreshToken: `r${i}`,
            expiresAt: soon,
          }),
        )
        .join('\n'),
    );
    const run = await evergreen(['connections', 'import', file, '--start-at', startAt.toISOString()], sandbox.env());
    expect(run.code, run.err).toBe(0);
    expect(JSON.parse(run.out)).toMatchObject({ created: 3, startAt: startAt.toISOString() });
    for (const row of await rows('cut-')) {
      expect(row.refresh_at!.getTime()).toBeGreaterThanOrEqual(startAt.getTime());
      expect(Math.floor(Number(await delayedScore(row.id)) / 4096)).toBeGreaterThanOrEqual(startAt.getTime());
    }
  });

  it('CSV: quoted cells, scopes, JSON metadata; a malformed record and a bad cell reported by line and field', async () => {
    const file = join(dir, 'connections.csv');
    writeFileSync(
      file,
      [
        'ownerId,provider,accessToken,refreshToken,expiresIn,scopes,metadata',
        'csv-1,acme,a1,r1,3600,read write,"{""region"":""eu""}"',
        '"csv-2",acme,"a,2",r2,,read,',
        'csv-3,acme,a3,r3,3600',
        'csv-4,acme,a4,r4,soon,read,',
        'csv-5,acme,a5,,7200,,',
      ].join('\r\n'),
    );
    const run = await evergreen(['connections', 'import', file], sandbox.env());
    expect(run.code, run.err).toBe(4);
    expect(JSON.parse(run.out)).toMatchObject({ created: 3, failed: 2 });
    const [one] = await sandbox.sql`select scopes, metadata from connections where owner_id = 'csv-1'`;
    expect(one).toEqual({ scopes: ['read', 'write'], metadata: { region: 'eu' } });
    const two = (await rows('csv-2'))[0]!;
    expect((await f.stack.read(two.id))!.accessToken).toBe('a,2');
    const entries = readFileSync(`${file}.errors.jsonl`, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as object);
    expect(entries).toEqual([
      { line: 4, kind: 'error', field: '(line)', reason: 'has a different number of fields than the header' },
      { line: 5, kind: 'error', field: 'expiresIn', reason: 'must be a number of seconds' },
    ]);
  });

  it('--dry-run validates and reports, and writes nothing', async () => {
    const file = join(dir, 'dry.jsonl');
    writeFileSync(
      file,
      [
        JSON.stringify({ ownerId: 'dry-1', provider: 'acme', accessToken: 'a' }),
        JSON.stringify({ ownerId: 'dry-2', provider: 'nope', accessToken: 'a' }),
      ].join('\n'),
    );
    const run = await evergreen(['connections', 'import', file, '--dry-run'], sandbox.env());
    expect(run.code, run.err).toBe(4);
    expect(JSON.parse(run.out)).toMatchObject({ dryRun: true, created: 1, failed: 1 });
    expect(await rows('dry-')).toHaveLength(0);
    expect(readFileSync(`${file}.errors.jsonl`, 'utf8')).toContain('"line":2,"kind":"error","field":"provider"');
  });

  it('reads standard input (-), with its report in the current directory unless --report says where', async () => {
    const report = join(dir, 'stdin.errors.jsonl');
    const run = startEvergreenCli(['connections', 'import', '-', '--report', report], sandbox.env(), { stdin: 'pipe' });
    run.child.stdin!.end(
      `${JSON.stringify({ ownerId: 'in-1', provider: 'acme', accessToken: 'a' })}\n{"ownerId": "in-2"}\n`,
    );
    expect(await run.exited).toMatchObject({ code: 4 });
    expect(run.output()).toContain('"source":"stdin"');
    expect(await rows('in-')).toHaveLength(1);
    expect(readFileSync(report, 'utf8')).toContain('"line":2,"kind":"error","field":"provider"');
  });

  it('usage errors name the option', async () => {
    const usage: [string[], RegExp][] = [
      [['connections', 'import'], /FILE \(or - for standard input\) or --from is required/],
      [['connections', 'import', 'x.txt'], /^--format: x\.txt has no \.jsonl or \.csv extension/],
      [
        ['connections', 'import', '--from', 'platform-connections', '--database-url', 'postgres://x'],
        /^--key: is required/,
      ],
      [
        ['connections', 'import', '--from', 'platform-connections', '--database-url', 'u', '--key', 'abc'],
        /^--key: must be 64 hexadecimal/,
      ],
      [['connections', 'import', 'a.jsonl', '--start-at', 'tomorrow'], /^--start-at: must be an ISO-8601/],
      [
        ['connections', 'import', '--from', 'csv', '--database-url', 'u'],
        /^--from: must be platform-connections or nango/,
      ],
    ];
    const runs = await Promise.all(usage.map(([args]) => evergreen(args, sandbox.env())));
    for (const [i, [args, message]] of usage.entries()) {
      expect(runs[i]!.code, args.join(' ')).toBe(2);
      expect(runs[i]!.err.split('\n')[0], args.join(' ')).toMatch(message);
    }
  });
});
