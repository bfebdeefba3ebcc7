import { parseArgs } from 'node:util';
import { runChaos, type ChaosOptions } from './chaos-run.ts';

/**
 * `pnpm chaos [--duration 10m] [--connections 5000] [--workers 3] [--concurrency 16] [--seed N] [--strict-provider]`
 * `pnpm chaos --short` is the CI form (90 s of chaos, 1,000 connections). Exits 1 when any count is not 0.
 */
const { values } = parseArgs({
  options: {
    duration: { type: 'string' },
    connections: { type: 'string' },
    workers: { type: 'string' },
    concurrency: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string', default: 'reports/chaos' },
    short: { type: 'boolean', default: false },
    'strict-provider': { type: 'boolean', default: false },
  },
});

const preset = values.short
  ? { durationMs: 90_000, connections: 1_000, workers: 3 }
  : { durationMs: 600_000, connections: 5_000, workers: 3 };

const options: ChaosOptions = {
  durationMs: values.duration ? parseDuration(values.duration) : preset.durationMs,
  connections: positive('connections', values.connections, preset.connections),
  workers: positive('workers', values.workers, preset.workers),
  concurrency: positive('concurrency', values.concurrency, 16),
  seed: values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : positive('seed', values.seed, 1),
  outDir: values.out,
  strictProvider: values['strict-provider'],
  progress: (line) => process.stderr.write(`${line}\n`),
};

// The run breaks Postgres and Redis under its own clients too: a driver bug there must not end the run unjudged.
process.on('unhandledRejection', (error) =>
  process.stderr.write(`chaos runner: unhandled rejection: ${String(error)}\n`),
);

const { verdict, reportFile } = await runChaos(options);
process.stdout.write(`${JSON.stringify(verdict.counts)}\nreport: ${reportFile}\n`);
process.stdout.write(`chaos: ${verdict.ok ? 'passed' : 'FAILED'}\n`);
process.exit(verdict.ok ? 0 : 1);

function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) throw new Error(`--duration: expected a number with ms, s or m (e.g. 90s, 10m), got "${text}"`);
  const factor = match[2] === 'ms' ? 1 : match[2] === 'm' ? 60_000 : 1_000;
  return Math.round(Number(match[1]) * factor);
}

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: expected a positive integer, got "${text}"`);
  return n;
}
