import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import type { BenchSandbox } from './bench-sandbox.ts';
import { pgbenchVersion } from './machine.ts';
import { closedLoop } from './stats.ts';

const run = promisify(execFile);
const ROWS = 10_000;

export interface DurableWriteResult {
  concurrency: number;
  updatesPerSecond: number;
  tool: 'pgbench' | 'postgres.js';
}

/**
 * The durable-write limit: committed single-row primary-key UPDATEs per second at a given concurrency, each its own
 * transaction with the server's commit settings (synchronous_commit, fsync) — the ceiling any design that persists
 * every refresh before acting on it lives under. pgbench with a custom script when installed, else a postgres.js
 * loop with one connection per concurrent client.
 */
export class DurableWrite {
  readonly #sandbox: BenchSandbox;
  #ready = false;

  constructor(sandbox: BenchSandbox) {
    this.#sandbox = sandbox;
  }

  async #prepare(): Promise<void> {
    if (this.#ready) return;
    const sql = this.#sandbox.sql;
    await sql.unsafe(`create table if not exists bench_kv (id int primary key, v bigint not null default 0)`);
    await sql.unsafe(`insert into bench_kv (id) select g from generate_series(1, ${ROWS}) g on conflict do nothing`);
    await sql.unsafe(`vacuum analyze bench_kv`);
    this.#ready = true;
  }

  async measure(concurrency: number, seconds: number): Promise<DurableWriteResult> {
    await this.#prepare();
    if (pgbenchVersion() !== null) {
      return { concurrency, updatesPerSecond: await this.#pgbench(concurrency, seconds), tool: 'pgbench' };
    }
    return { concurrency, updatesPerSecond: await this.#loop(concurrency, seconds), tool: 'postgres.js' };
  }

  async #pgbench(concurrency: number, seconds: number): Promise<number> {
    const script = join(this.#sandbox.dir, 'update.sql');
    writeFileSync(
      script,
      `\\set id random(1, ${ROWS})\nUPDATE "${this.#sandbox.schema}".bench_kv SET v = v + 1 WHERE id = :id;\n`,
    );
    const url = new URL(this.#sandbox.databaseUrl);
    const args = [
      '-h',
      url.hostname,
      '-p',
      url.port || '5432',
      '-U',
      decodeURIComponent(url.username || 'postgres'),
      '-n', // no vacuum of pgbench's own tables: we have none
      '-M',
      'prepared',
      '-c',
      String(concurrency),
      '-j',
      String(Math.min(concurrency, cpus().length)),
      '-T',
      String(seconds),
      '-f',
      script,
      url.pathname.slice(1) || 'postgres',
    ];
    const env = { ...process.env, ...(url.password && { PGPASSWORD: decodeURIComponent(url.password) }) };
    const { stdout } = await run('pgbench', args, { env, maxBuffer: 1 << 20 });
    const match = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout) ?? /tps = ([\d.]+)/.exec(stdout);
    if (!match) throw new Error(`pgbench: no tps in its output:\n${stdout}`);
    return Number(match[1]);
  }

  async #loop(concurrency: number, seconds: number): Promise<number> {
    const sql = postgres(this.#sandbox.databaseUrl, {
      max: concurrency,
      connection: { search_path: this.#sandbox.schema },
      onnotice: () => {},
      fetch_types: false,
    });
    try {
      await Promise.all(Array.from({ length: concurrency }, () => sql`select 1`));
      const result = await closedLoop(concurrency, seconds * 1_000, async () => {
        const id = 1 + Math.floor(Math.random() * ROWS);
        await sql`update bench_kv set v = v + 1 where id = ${id}`;
      });
      return result.perSecond;
    } finally {
      await sql.end({ timeout: 2 });
    }
  }
}
