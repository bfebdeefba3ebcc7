import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { COMMAND_SCRIPTS } from '@evergreen/queue';
import { connect } from 'node:net';
import { sleep } from './stats.ts';

/** One origin's share of the Redis work: requests a client sent, and every command Redis ran for them. */
export interface CensusLine {
  /** Commands sent by a client (a MULTI block counts each command in it; an EVALSHA counts once). */
  sent: number;
  /** `sent` plus the commands scripts ran: what `INFO commandstats` counts. */
  commands: number;
}

export interface RedisCensus {
  /** Per unit of work (a refresh, a job), by origin. */
  perUnit: Record<string, CensusLine>;
  total: CensusLine;
  units: number;
}

/** What a command did, from its name and its first key: the script, or the part of Evergreen that owns the key. */
export type Origin = string;

const sha1 = (text: string): string => createHash('sha1').update(text).digest('hex');

/**
 * SHA-1 → script name for Evergreen's scripts and BullMQ's (read from BullMQ's own script modules, as ioredis hashes
 * them): an EVALSHA names its script by that digest only.
 */
async function scriptNames(): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const [name, { lua }] of Object.entries(COMMAND_SCRIPTS)) names.set(sha1(lua), `evergreen ${name}`);
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('bullmq/package.json', { paths: [join(process.cwd(), 'packages/queue')] }));
  const dir = join(root, 'dist/esm/scripts');
  for (const file of readdirSync(dir).filter((f) => /-\d+\.js$/.test(f))) {
    const module = (await import(pathToFileURL(join(dir, file)).href)) as Record<string, { content?: string }>;
    for (const [name, value] of Object.entries(module)) {
      if (typeof value?.content === 'string') names.set(sha1(value.content), `BullMQ ${name}`);
    }
  }
  return names;
}

/** Pure: the origin of one command a client sent, by script digest or by its key's place in Evergreen's keyspace. */
export function originOf(args: readonly string[], scripts: ReadonlyMap<string, string>): Origin | null {
  const name = (args[0] ?? '').toLowerCase();
  if (name === 'evalsha') return scripts.get(args[1] ?? '') ?? 'other script';
  if (name === 'eval') return scripts.get(sha1(args[1] ?? '')) ?? 'other script';
  const key = args[1] ?? '';
  if (name === 'multi' || name === 'exec') return null; // takes the origin of the block's commands
  if (/:lock:[^:]+$/.test(key)) return 'connection lock';
  if (/:breaker(-ramp)?:/.test(key)) return 'provider breaker';
  if (key.endsWith(':limiter')) return 'provider pause (BullMQ limiter key)';
  if (/:rate:/.test(key)) return 'send slots';
  if (name === 'info' || name === 'client' || name === 'ping' || name === 'monitor') return 'housekeeping';
  return `other ${name}`;
}

/**
 * Redis's MONITOR over a short window: every command, with the commands scripts run (MONITOR lists a script's calls
 * right after its EVALSHA, as source `lua`), attributed to where it came from. MONITOR slows Redis down, so this runs
 * in a window of its own after the measured one, and only its proportions are used. `units` counts the refreshes
 * (or jobs) done in that window.
 */
export async function redisCensus(
  redisUrl: string,
  windowMs: number,
  countUnits: () => Promise<number>,
  /** Commands from clients other than the ones measured (the benchmark's own queries) are left out by key prefix. */
  keyPrefix: string,
): Promise<RedisCensus> {
  const scripts = await scriptNames();
  const lines = new Map<Origin, CensusLine>();
  const add = (origin: Origin, sent: number, commands: number): void => {
    const line = lines.get(origin) ?? { sent: 0, commands: 0 };
    line.sent += sent;
    line.commands += commands;
    lines.set(origin, line);
  };
  let lastScript: Origin | null = null;
  const openMulti = new Map<string, number>();
  const lastOrigin = new Map<string, Origin>();
  const onCommand = (args: string[], source: string): void => {
    if (source === 'lua') {
      if (lastScript !== null) add(lastScript, 0, 1);
      return;
    }
    const name = (args[0] ?? '').toLowerCase();
    if (name === 'multi') {
      openMulti.set(source, 0);
      lastScript = null;
      return;
    }
    if (name === 'exec') {
      const pending = openMulti.get(source);
      openMulti.delete(source);
      if (pending !== undefined && pending > 0) add(lastOrigin.get(source) ?? 'other', 2, 2); // MULTI and EXEC
      lastScript = null;
      return;
    }
    const origin = originOf(args, scripts);
    const touchesOurs = args.slice(1).some((a) => a.startsWith(keyPrefix));
    if (!touchesOurs || origin === null || origin === 'housekeeping') {
      lastScript = null;
      return;
    }
    lastScript = name === 'evalsha' || name === 'eval' ? origin : null;
    if (openMulti.has(source)) openMulti.set(source, (openMulti.get(source) ?? 0) + 1);
    lastOrigin.set(source, origin);
    add(origin, 1, 1);
  };
  // A raw socket rather than ioredis's monitor(), which loses its reply queue's state under this much traffic.
  const url = new URL(redisUrl);
  const socket = connect({ host: url.hostname, port: Number(url.port || 6379) });
  let pending = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    pending += chunk;
    let end: number;
    while ((end = pending.indexOf('\r\n')) >= 0) {
      const line = pending.slice(0, end);
      pending = pending.slice(end + 2);
      const parsed = line.startsWith('+') ? parseMonitorLine(line.slice(1)) : null;
      if (parsed) onCommand(parsed.args, parsed.source);
    }
  });
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  if (url.password) socket.write(`AUTH ${decodeURIComponent(url.password)}\r\n`);
  socket.write('MONITOR\r\n');
  const before = await countUnits();
  await sleep(windowMs);
  const units = Math.max(1, (await countUnits()) - before);
  socket.destroy();
  const perUnit: Record<string, CensusLine> = {};
  const total = { sent: 0, commands: 0 };
  for (const [origin, line] of [...lines].sort((a, b) => b[1].commands - a[1].commands)) {
    perUnit[origin] = { sent: round(line.sent / units), commands: round(line.commands / units) };
    total.sent += line.sent;
    total.commands += line.commands;
  }
  return { perUnit, total: { sent: round(total.sent / units), commands: round(total.commands / units) }, units };
}

const round = (x: number): number => Math.round(x * 100) / 100;

/** Pure: one MONITOR line (`1700000000.123 [0 127.0.0.1:5000] "SET" "k" "v"`) as its source and arguments. */
export function parseMonitorLine(line: string): { source: string; args: string[] } | null {
  const head = /^[\d.]+ \[\d+ ([^\]]+)\] /.exec(line);
  if (!head) return null;
  const args: string[] = [];
  for (const match of line.slice(head[0].length).matchAll(/"((?:[^"\\]|\\.)*)"/g)) args.push(match[1]!);
  return { source: head[1]!, args };
}
