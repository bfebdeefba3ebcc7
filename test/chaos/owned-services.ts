import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import postgres from 'postgres';
import { Redis } from 'ioredis';
import { freePort } from '@evergreen/test-support/free-port';

/**
 * A Redis and a PostgreSQL of the chaos run's own, on free ports under a scratch directory: the run kills and
 * restarts them, which it must never do to the services the test suite shares.
 */

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`chaos: ${what} did not come up within ${timeoutMs} ms`);
    await delay(100);
  }
}

/** Redis as production runs it (AOF, noeviction), so a crash and restart keeps what an fsync a second kept. */
export class OwnedRedis {
  #child: ChildProcess | null = null;
  readonly url: string;

  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {
    this.url = `redis://127.0.0.1:${port}`;
  }

  static async start(dir: string): Promise<OwnedRedis> {
    requireBinary('redis-server', 'apt-get install redis-server');
    mkdirSync(dir, { recursive: true });
    const redis = new OwnedRedis(await freePort(), dir);
    await redis.up();
    return redis;
  }

  async up(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', ''];
    args.push('--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction');
    this.#child = spawn('redis-server', args, { stdio: 'ignore' });
    await waitFor('redis', () => this.ping(), 15_000);
  }

  /** SIGKILL: a crash, not a shutdown. */
  async crash(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.#child = null;
  }

  async flushAll(): Promise<void> {
    const client = new Redis(this.url, { maxRetriesPerRequest: 1, lazyConnect: true });
    try {
      await client.connect();
      await client.flushall();
    } finally {
      client.disconnect();
    }
  }

  async ping(): Promise<boolean> {
    const client = new Redis(this.url, { maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } finally {
      client.disconnect();
    }
  }

  async stop(): Promise<void> {
    await this.crash();
  }
}

/** A throwaway PostgreSQL cluster (initdb), owned by the `postgres` user when we run as root, as the server demands. */
export class OwnedPostgres {
  readonly url: string;
  readonly #bin: string;
  readonly #asUser: string | null;

  private constructor(
    readonly port: number,
    readonly dir: string,
    bin: string,
  ) {
    this.#bin = bin;
    this.#asUser = process.getuid?.() === 0 ? 'postgres' : null;
    this.url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  }

  static async start(dir: string): Promise<OwnedPostgres> {
    const bin = postgresBinDir();
    const pg = new OwnedPostgres(await freePort(), dir, bin);
    mkdirSync(join(dir, 'data'), { recursive: true });
    if (pg.#asUser) {
      const { uid, gid } = userIds(pg.#asUser);
      chownSync(dir, uid, gid);
      chownSync(join(dir, 'data'), uid, gid);
      // mkdtemp makes 0700 directories: the server's user must be able to walk down to its data.
      chmodSync(dirname(dir), 0o755);
    }
    pg.#run('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    await pg.up();
    return pg;
  }

  async up(): Promise<void> {
    // fsync off: the OS never crashes in a chaos run, only the server; synchronous commit stays on, as in production.
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off`;
    this.#run('pg_ctl', [
      '-D',
      join(this.dir, 'data'),
      '-o',
      options,
      '-l',
      join(this.dir, 'postgres.log'),
      '-w',
      'start',
    ]);
    await waitFor('postgres', () => this.ping(), 30_000);
  }

  /** `immediate`: the server dies without a checkpoint and recovers from its WAL at the next start, like a crash. */
  async crash(): Promise<void> {
    this.#run('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
  }

  /** Every client connection cut at once (what a failover or a proxy restart does), the server stays up. */
  async cutConnections(): Promise<number> {
    const sql = postgres(this.url, { max: 1, onnotice: () => {}, fetch_types: false });
    try {
      const rows = await sql`select pg_terminate_backend(pid) as cut from pg_stat_activity
        where backend_type = 'client backend' and pid <> pg_backend_pid()`;
      return rows.filter((r) => r.cut === true).length;
    } finally {
      await sql.end({ timeout: 1 });
    }
  }

  async ping(): Promise<boolean> {
    const sql = postgres(this.url, { max: 1, connect_timeout: 2, onnotice: () => {}, fetch_types: false });
    try {
      await sql`select 1`;
      return true;
    } finally {
      await sql.end({ timeout: 1 });
    }
  }

  async stop(): Promise<void> {
    this.#run('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'fast', '-w', 'stop'], true);
  }

  #run(tool: string, args: string[], tolerateFailure = false): void {
    const command = join(this.#bin, tool);
    const result = this.#asUser
      ? spawnSync('runuser', ['-u', this.#asUser, '--', command, ...args], { encoding: 'utf8' })
      : spawnSync(command, args, { encoding: 'utf8' });
    if (result.status !== 0 && !tolerateFailure) {
      throw new Error(`chaos: ${tool} failed (${result.status}): ${result.stderr || result.stdout}`);
    }
  }
}

/** Null when this machine can run the chaos servers, else what is missing. */
export function chaosServersAvailable(): string | null {
  try {
    requireBinary('redis-server', 'apt-get install redis-server');
    postgresBinDir();
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

function requireBinary(name: string, hint: string): void {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  if (found.status !== 0) throw new Error(`chaos: needs ${name} on this machine (${hint})`);
}

/** PG_BIN when set, else the newest /usr/lib/postgresql/<n>/bin holding initdb and pg_ctl. */
function postgresBinDir(): string {
  const candidates = process.env.PG_BIN
    ? [process.env.PG_BIN]
    : existsSync('/usr/lib/postgresql')
      ? readdirSync('/usr/lib/postgresql')
          .sort((a, b) => Number(b) - Number(a))
          .map((v) => `/usr/lib/postgresql/${v}/bin`)
      : [];
  const dir = candidates.find((d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl')));
  if (!dir) {
    throw new Error(
      'chaos: needs the PostgreSQL server binaries initdb and pg_ctl (apt-get install postgresql, or set PG_BIN)',
    );
  }
  return dir;
}

function userIds(user: string): { uid: number; gid: number } {
  const uid = Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', user], { encoding: 'utf8' }).stdout.trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error(`chaos: no user ${user} to run PostgreSQL as`);
  return { uid, gid };
}
