import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { queueName } from '@evergreen/queue';
import { findServices } from '@evergreen/test-support/services';
import { BenchSandbox } from './bench-sandbox.ts';
import { REPO_ROOT } from './worker-processes.ts';

/**
 * `pnpm bench:import [--lines 1000000] [--batch-size 1000]`: writes a JSON Lines file of `--lines` connections, runs
 * `evergreen connections import` on it as an operator would (its progress on this terminal's stderr: a bar on a
 * TTY), and reports the wall time, the import process's peak RSS (VmHWM, read from /proc while it runs) and what
 * landed (rows in Postgres, delayed jobs in Redis). Its own schema and Redis prefix, dropped at the end; no worker
 * runs, so nothing is refreshed.
 */
const { values } = parseArgs({
  options: { lines: { type: 'string', default: '1000000' }, 'batch-size': { type: 'string', default: '1000' } },
});
const lines = Number(values.lines);
const provider = 'bench';

const services = await findServices();
const sandbox = await BenchSandbox.create(services.databaseUrl, services.redisUrl);
sandbox.useProviders([{ id: provider, tokenUrl: 'http://127.0.0.1:9/token' }]);
const file = join(sandbox.dir, 'connections.jsonl');
try {
  const out = createWriteStream(file);
  const now = Date.now();
  for (let i = 0; i < lines; i++) {
    // Expiries spread over a day, as a live table's are; tokens as long as typical opaque ones.
    const line = JSON.stringify({
      ownerId: `user-${i}`,
      provider,
      accessToken: `at-${i}-${'x'.repeat(40)}`,
      refreshToken: `rt-${i}-${'y'.repeat(40)}`,
      expiresAt: new Date(now + 3_600_000 + ((i * 7919) % 86_400) * 1000).toISOString(),
      scopes: ['read', 'write'],
    });
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  process.stderr.write(`wrote ${lines} lines (${(statSync(file).size / 1e6).toFixed(1)} MB); importing\n`);

  const started = Date.now();
  const child = spawn(
    process.execPath,
    ['apps/cli/bin/evergreen.mjs', 'connections', 'import', file, '--batch-size', String(values['batch-size'])],
    {
      cwd: REPO_ROOT,
      // NODE_OPTIONS passes through: --max-old-space-size=N shows the import fits a bound.
      env: sandbox.env(process.env.NODE_OPTIONS ? { NODE_OPTIONS: process.env.NODE_OPTIONS } : {}),
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let peakKb = 0;
  const sample = () => {
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]));
    } catch {
      // exited between two samples: the last sample stands
    }
  };
  const sampler = setInterval(sample, 100);
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  clearInterval(sampler);
  const seconds = (Date.now() - started) / 1000;

  const [{ n: rows }] = (await sandbox.sql`select count(*)::int as n from connections`) as unknown as [{ n: number }];
  const jobs = await sandbox.redis.zcard(`${sandbox.prefix}:${queueName(provider)}:delayed`);
  const result = {
    lines,
    exitCode: code,
    seconds: Number(seconds.toFixed(1)),
    linesPerSecond: Math.round(lines / seconds),
    peakRssMb: Number((peakKb / 1024).toFixed(1)),
    rows,
    delayedJobs: jobs,
    summary: stdout.trim() ? (JSON.parse(stdout) as unknown) : null,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  if (code !== 0 || rows !== lines) process.exitCode = 1;
} finally {
  await sandbox.cleanup();
}
