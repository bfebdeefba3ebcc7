import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.ts';
import { until } from './until.ts';

/**
 * Redis servers of a test's own on loopback (Debian's `redis-server`, `redis-sentinel`, `redis-cli`): a Sentinel set
 * or a Cluster that the test may SIGKILL a node of, which it must never do to the Redis the suite shares.
 */

/** Why these servers cannot start here (a binary missing), or null when they can: tests skip with this reason. */
export function missingRedisBinaries(names: readonly string[] = ['redis-server', 'redis-sentinel', 'redis-cli']) {
  const missing = names.filter((name) => spawnSync('sh', ['-c', `command -v ${name}`]).status !== 0);
  return missing.length === 0
    ? null
    : `${missing.join(', ')} not installed (Debian: apt-get install redis-server redis-sentinel)`;
}

/** One server process on 127.0.0.1:port. */
export class RedisNode {
  #child: ChildProcess | null;

  constructor(
    readonly port: number,
    child: ChildProcess,
  ) {
    this.#child = child;
  }

  get alive(): boolean {
    return this.#child !== null && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** SIGKILL: a crash (the machine lost), not a shutdown; resolves once the process is gone. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || !this.alive) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.#child = null;
  }

  /** A plain client of this one node, for the test to look behind Evergreen's back. */
  client(password: string | null): Redis {
    const redis = new Redis({
      host: '127.0.0.1',
      port: this.port,
      ...(password !== null && { password }),
      maxRetriesPerRequest: 1,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    redis.on('error', () => {});
    return redis;
  }
}

function startProcess(command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: 'ignore' });
  child.on('error', () => {});
  return child;
}

async function answers(node: RedisNode, password: string | null): Promise<boolean> {
  const redis = node.client(password);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } finally {
    redis.disconnect();
  }
}

async function startServer(dir: string, args: string[], password: string | null): Promise<RedisNode> {
  const port = await freePort();
  const nodeDir = join(dir, String(port));
  mkdirSync(nodeDir, { recursive: true });
  const child = startProcess('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    nodeDir,
    '--save',
    '',
    '--appendonly',
    'no',
    '--maxmemory-policy',
    'noeviction',
    ...(password !== null ? ['--requirepass', password, '--masterauth', password] : []),
    ...args,
  ]);
  const node = new RedisNode(port, child);
  await until(() => answers(node, password), { timeoutMs: 10_000, what: `redis-server on port ${port}` });
  return node;
}

/** One plain redis-server of the test's own (with `requirepass` when a password is given); `dir` holds its files. */
export async function startRedisServer(dir: string, password: string | null = null): Promise<RedisNode> {
  return startServer(dir, [], password);
}

export interface SentinelSetOptions {
  /** The data nodes' password (REDIS_PASSWORD), or none. */
  password?: string | null;
  /** The sentinels' own password (REDIS_SENTINEL_PASSWORD), or none. */
  sentinelPassword?: string | null;
  /** How long a primary must be silent before the sentinels call it down. */
  downAfterMs?: number;
}

/**
 * One primary, one replica and three sentinels watching them under the name `evergreen`, quorum 2: the smallest set
 * that fails over on its own when the primary dies.
 */
export class SentinelSet {
  readonly name = 'evergreen';
  readonly #dir: string;
  readonly password: string | null;
  readonly sentinelPassword: string | null;

  private constructor(
    dir: string,
    readonly primary: RedisNode,
    readonly replica: RedisNode,
    readonly sentinels: RedisNode[],
    options: SentinelSetOptions,
  ) {
    this.#dir = dir;
    this.password = options.password ?? null;
    this.sentinelPassword = options.sentinelPassword ?? null;
  }

  static async start(options: SentinelSetOptions = {}): Promise<SentinelSet> {
    const dir = mkdtempSync(join(tmpdir(), 'evergreen-sentinel-'));
    const password = options.password ?? null;
    const sentinelPassword = options.sentinelPassword ?? null;
    const nodes: RedisNode[] = [];
    try {
      const primary = await startServer(dir, [], password);
      nodes.push(primary);
      const replica = await startServer(dir, ['--replicaof', '127.0.0.1', String(primary.port)], password);
      nodes.push(replica);
      const sentinels: RedisNode[] = [];
      for (let i = 0; i < 3; i++) {
        const port = await freePort();
        const file = join(dir, `sentinel-${port}.conf`);
        const lines = [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor evergreen 127.0.0.1 ${primary.port} 2`,
          `sentinel down-after-milliseconds evergreen ${options.downAfterMs ?? 1_000}`,
          'sentinel failover-timeout evergreen 5000',
          'sentinel parallel-syncs evergreen 1',
        ];
        if (password !== null) lines.push(`sentinel auth-pass evergreen ${password}`);
        // The sentinels talk to each other too: with a password of their own, each must present it to the others.
        if (sentinelPassword !== null)
          lines.push(`requirepass ${sentinelPassword}`, `sentinel sentinel-pass ${sentinelPassword}`);
        writeFileSync(file, `${lines.join('\n')}\n`);
        const sentinel = new RedisNode(port, startProcess('redis-sentinel', [file]));
        nodes.push(sentinel);
        await until(() => answers(sentinel, sentinelPassword), { timeoutMs: 10_000, what: `sentinel on ${port}` });
        sentinels.push(sentinel);
      }
      const set = new SentinelSet(dir, primary, replica, sentinels, options);
      // Ready when every sentinel sees the replica and the two other sentinels: only then can they agree on a failover.
      await until(
        async () => {
          for (const s of sentinels) {
            const [replicas, peers] = await Promise.all([set.#ask(s, 'REPLICAS'), set.#ask(s, 'SENTINELS')]);
            if (replicas.length !== 1 || peers.length !== 2) return false;
          }
          return true;
        },
        { timeoutMs: 20_000, intervalMs: 200, what: 'the sentinels to discover the replica and each other' },
      );
      return set;
    } catch (error) {
      for (const node of nodes) await node.kill();
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  async #ask(sentinel: RedisNode, what: 'REPLICAS' | 'SENTINELS'): Promise<unknown[]> {
    const redis = sentinel.client(this.sentinelPassword);
    try {
      await redis.connect();
      return (await redis.call('SENTINEL', what, this.name)) as unknown[];
    } finally {
      redis.disconnect();
    }
  }

  /** The port the sentinels now name as primary (majority of those answering). */
  async primaryPort(): Promise<number | null> {
    const votes = new Map<number, number>();
    for (const s of this.sentinels.filter((n) => n.alive)) {
      const redis = s.client(this.sentinelPassword);
      try {
        await redis.connect();
        const addr = (await redis.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.name)) as [string, string] | null;
        if (addr) votes.set(Number(addr[1]), (votes.get(Number(addr[1])) ?? 0) + 1);
      } catch {
        // a sentinel that does not answer has no vote
      } finally {
        redis.disconnect();
      }
    }
    const [best] = [...votes].sort((a, b) => b[1] - a[1]);
    return best ? best[0] : null;
  }

  /** The environment that points Evergreen at this set. */
  env(): Record<string, string> {
    return {
      REDIS_SENTINELS: this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
      REDIS_SENTINEL_NAME: this.name,
      ...(this.sentinelPassword !== null && { REDIS_SENTINEL_PASSWORD: this.sentinelPassword }),
      ...(this.password !== null && { REDIS_PASSWORD: this.password }),
    };
  }

  async stop(): Promise<void> {
    for (const node of [...this.sentinels, this.replica, this.primary]) await node.kill();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

export interface ClusterNodeInfo {
  node: RedisNode;
  id: string;
  role: 'master' | 'slave';
  /** For a replica, the id of its primary. */
  primaryId: string | null;
}

/**
 * A Redis Cluster of three primaries and three replicas on loopback, created as an operator does
 * (`redis-cli --cluster create ... --cluster-replicas 1 --cluster-yes`).
 */
export class ClusterSet {
  readonly #dir: string;

  private constructor(
    dir: string,
    readonly nodes: RedisNode[],
    readonly password: string | null,
  ) {
    this.#dir = dir;
  }

  static async start(options: { password?: string | null; nodeTimeoutMs?: number } = {}): Promise<ClusterSet> {
    const dir = mkdtempSync(join(tmpdir(), 'evergreen-cluster-'));
    const password = options.password ?? null;
    const nodes: RedisNode[] = [];
    try {
      for (let i = 0; i < 6; i++) {
        const args = ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${i}.conf`];
        args.push('--cluster-node-timeout', String(options.nodeTimeoutMs ?? 2_000));
        nodes.push(await startServer(dir, args, password));
      }
      const created = spawnSync(
        'redis-cli',
        [
          ...(password !== null ? ['-a', password, '--no-auth-warning'] : []),
          '--cluster',
          'create',
          ...nodes.map((n) => `127.0.0.1:${n.port}`),
          '--cluster-replicas',
          '1',
          '--cluster-yes',
        ],
        { encoding: 'utf8', timeout: 60_000 },
      );
      if (created.status !== 0)
        throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
      const set = new ClusterSet(dir, nodes, password);
      await set.waitUntilHealthy();
      return set;
    } catch (error) {
      for (const node of nodes) await node.kill();
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Every live node reports `cluster_state:ok` and the same view: 3 primaries, each with its slots. */
  async waitUntilHealthy(timeoutMs = 30_000): Promise<void> {
    await until(
      async () => {
        for (const node of this.nodes.filter((n) => n.alive)) {
          const redis = node.client(this.password);
          try {
            await redis.connect();
            const info = (await redis.call('CLUSTER', 'INFO')) as string;
            if (!info.includes('cluster_state:ok')) return false;
          } finally {
            redis.disconnect();
          }
        }
        return true;
      },
      { timeoutMs, intervalMs: 200, what: 'cluster_state:ok on every live node' },
    );
  }

  /** The live nodes as one of them sees them (`CLUSTER NODES`). */
  async topology(): Promise<ClusterNodeInfo[]> {
    const asker = this.nodes.find((n) => n.alive)!;
    const redis = asker.client(this.password);
    try {
      await redis.connect();
      const text = (await redis.call('CLUSTER', 'NODES')) as string;
      const infos: ClusterNodeInfo[] = [];
      for (const line of text.trim().split('\n')) {
        const [id, address, flags, primaryId] = line.split(' ');
        if (!id || !address || !flags || flags.includes('fail')) continue;
        const port = Number(address.split('@')[0]!.split(':').at(-1));
        const node = this.nodes.find((n) => n.port === port);
        if (!node?.alive) continue;
        const role = flags.includes('master') ? 'master' : 'slave';
        infos.push({ node, id, role, primaryId: role === 'slave' && primaryId !== '-' ? primaryId! : null });
      }
      return infos;
    } finally {
      redis.disconnect();
    }
  }

  /** The live primary serving `key`'s slot. */
  async primaryOf(key: string): Promise<RedisNode> {
    const asker = this.nodes.find((n) => n.alive)!;
    const redis = asker.client(this.password);
    try {
      await redis.connect();
      const slot = Number(await redis.call('CLUSTER', 'KEYSLOT', key));
      const ranges = (await redis.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, ...unknown[]]][];
      const range = ranges.find(([from, to]) => slot >= from && slot <= to);
      const port = range?.[2][1];
      const node = this.nodes.find((n) => n.port === port);
      if (!node) throw new Error(`no primary serves slot ${slot}`);
      return node;
    } finally {
      redis.disconnect();
    }
  }

  /** FLUSHALL on every primary (replicas follow): what losing the whole cluster's data does. */
  async flushAll(): Promise<void> {
    for (const info of (await this.topology()).filter((i) => i.role === 'master')) {
      const redis = info.node.client(this.password);
      try {
        await redis.connect();
        await redis.flushall();
      } finally {
        redis.disconnect();
      }
    }
  }

  /** Keys matching `pattern` on every primary (KEYS: a test's few keys). */
  async keysMatching(pattern: string): Promise<string[]> {
    const keys: string[] = [];
    for (const info of (await this.topology()).filter((i) => i.role === 'master')) {
      const redis = info.node.client(this.password);
      try {
        await redis.connect();
        keys.push(...(await redis.keys(pattern)));
      } finally {
        redis.disconnect();
      }
    }
    return keys;
  }

  env(): Record<string, string> {
    return {
      REDIS_CLUSTER_NODES: this.nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
      ...(this.password !== null && { REDIS_PASSWORD: this.password }),
    };
  }

  async stop(): Promise<void> {
    for (const node of this.nodes) await node.kill();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
