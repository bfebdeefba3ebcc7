import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { sleep } from './stats.ts';
import { freePort } from '../support/free-port.ts';

/**
 * A throwaway redis-server of the benchmark's own (no persistence), for settings the shared server must not be given:
 * `CONFIG SET` there would change it for everyone. Null when redis-server is not installed.
 */
export class PrivateRedis {
  private constructor(
    readonly url: string,
    readonly config: Record<string, string>,
    readonly version: string,
    readonly child: ChildProcess,
  ) {}

  static async start(config: Record<string, string>): Promise<PrivateRedis | null> {
    const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
    if (probe.status !== 0) return null;
    const port = await freePort();
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    for (const [k, v] of Object.entries(config)) args.push(`--${k}`, v);
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    const url = `redis://127.0.0.1:${port}`;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      client.on('error', () => {});
      const ok = await client
        .connect()
        .then(() => client.ping())
        .catch(() => null);
      client.disconnect();
      if (ok === 'PONG') break;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error('private redis-server did not start');
      }
      await sleep(100);
    }
    const version = /v=(\S+)/.exec(probe.stdout)?.[1] ?? 'unknown';
    return new PrivateRedis(url, config, version, child);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}
