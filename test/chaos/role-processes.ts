import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export type RoleApp = 'worker' | 'scheduler' | 'board';

/** One role as production runs it: its own OS process, configured by the environment, logging JSON to a file. */
export class ChaosProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly logFile: string;
  /** Set once it has logged that it started. */
  startedAt: number | null = null;
  opsPort: number | null = null;
  boardPort: number | null = null;
  /** Killed by the chaos run on purpose (so its exit is not a crash). */
  killedOnPurpose = false;
  /** Exited on its own: a crash, whatever the code. */
  crashed = false;
  /** Asked to drain with SIGTERM and did not exit 0 (the drain failed or overran the grace period). */
  drainFailed = false;
  #terminated = false;
  readonly #log: WriteStream;

  constructor(
    readonly app: RoleApp,
    readonly name: string,
    env: Record<string, string>,
    logDir: string,
  ) {
    this.logFile = join(logDir, `${name}.log`);
    this.#log = createWriteStream(this.logFile);
    this.child = spawn(process.execPath, ['--import', 'tsx', `apps/${app}/src/main.ts`], {
      cwd: REPO_ROOT,
      env: { ...env, EVERGREEN_PROCESS_NAME: name },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let pending = '';
    const onData = (chunk: Buffer) => {
      this.#log.write(chunk);
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) this.#watch(line);
    };
    this.child.stdout?.on('data', onData);
    this.child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.#log.end();
        if (!this.killedOnPurpose && !this.#terminated) this.crashed = true;
        // Before it has started there is nothing to drain, and a SIGTERM ends it by the default action.
        if (this.#terminated && code !== 0 && this.startedAt !== null) this.drainFailed = true;
        resolve({ code, signal });
      });
    });
  }

  /** SIGTERM: the process must drain and exit 0 by itself. */
  terminate(): void {
    this.#terminated = true;
    this.child.kill('SIGTERM');
  }

  /** SIGKILL: a crash we caused. */
  kill(): void {
    this.killedOnPurpose = true;
    this.child.kill('SIGKILL');
  }

  /** Asked to go (killed or draining): no longer counted among the live workers. */
  get stopping(): boolean {
    return this.killedOnPurpose || this.#terminated;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  #watch(line: string): void {
    if (!line.startsWith('{')) return;
    let entry: { msg?: string; opsPort?: number; port?: number; address?: string };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      return;
    }
    if (entry.msg === 'started' && typeof entry.opsPort === 'number') {
      this.opsPort = entry.opsPort;
      this.startedAt = Date.now();
    }
    if (entry.msg === 'ops server listening' && typeof entry.port === 'number') this.opsPort ??= entry.port;
    if (entry.msg === 'board listening' && typeof entry.address === 'string') {
      this.boardPort = Number(new URL(entry.address).port);
      this.startedAt = Date.now();
    }
  }
}
