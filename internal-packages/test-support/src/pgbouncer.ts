import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { freePort } from './free-port.ts';
import { until } from './until.ts';

export interface PgBouncer {
  /** DATABASE_URL through the pooler, to the database entry `evergreen`. */
  readonly url: string;
  /** Transactions the pooler carried for `evergreen` so far (its admin console's SHOW STATS). */
  transactions(): Promise<number>;
  /** Everything it wrote to stdout and stderr. */
  output(): string;
  stop(): Promise<void>;
}

/** Why a test that needs PgBouncer cannot run here, or null when `pgbouncer` is installed. */
export function pgbouncerMissing(): string | null {
  const probe = spawnSync('pgbouncer', ['--version'], { stdio: 'ignore' });
  return probe.error ? 'pgbouncer is not installed (Debian: apt-get install pgbouncer)' : null;
}

/**
 * PgBouncer in transaction pooling on a free loopback port, in front of `databaseUrl`'s server, as production teams
 * run it: PgBouncer 1.18 (Debian's) carries no prepared statements in this mode and refuses startup parameters such
 * as `search_path`. `searchPath`: the schema its server connections start in (`connect_query`), the setup
 * docs/pgbouncer.md describes; none leaves the server's default.
 */
export async function startPgBouncer(databaseUrl: string, options: { searchPath?: string } = {}): Promise<PgBouncer> {
  const target = new URL(databaseUrl);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'evergreen-pgbouncer-'));
  const user = decodeURIComponent(target.username) || 'postgres';
  const entry = [
    `host=${target.hostname}`,
    `port=${target.port || '5432'}`,
    `dbname=${target.pathname.slice(1) || 'postgres'}`,
    `user=${user}`,
    ...(options.searchPath ? [`connect_query='SET search_path = ${options.searchPath}'`] : []),
  ].join(' ');
  const ini = join(dir, 'pgbouncer.ini');
  writeFileSync(
    ini,
    [
      '[databases]',
      `evergreen = ${entry}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      // The test's Postgres trusts loopback; every client logs in as the entry's user.
      'auth_type = any',
      'pool_mode = transaction',
      'default_pool_size = 10',
      'max_client_conn = 500',
      `admin_users = ${user}`,
      '',
    ].join('\n'),
  );
  // PgBouncer refuses to run as root; CI containers are root.
  const args = process.getuid?.() === 0 ? ['-u', 'nobody', ini] : [ini];
  const child = spawn('pgbouncer', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: string[] = [];
  child.stdout.on('data', (d: Buffer) => chunks.push(d.toString()));
  child.stderr.on('data', (d: Buffer) => chunks.push(d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await until(() => canConnect(port), { timeoutMs: 10_000, what: `pgbouncer on ${port} (${chunks.join('')})` });
  const admin = postgres(`postgres://${user}@127.0.0.1:${port}/pgbouncer`, {
    max: 1,
    prepare: false,
    fetch_types: false,
    onnotice: () => {},
  });
  return {
    url: `postgres://${user}@127.0.0.1:${port}/evergreen`,
    output: () => chunks.join(''),
    transactions: async () => {
      // The admin console speaks the simple query protocol only.
      const rows = await admin.unsafe<{ database: string; total_xact_count: string }[]>('SHOW STATS').simple();
      return Number(rows.find((r) => r.database === 'evergreen')?.total_xact_count ?? 0);
    },
    stop: async () => {
      await admin.end({ timeout: 1 }).catch(() => {});
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
