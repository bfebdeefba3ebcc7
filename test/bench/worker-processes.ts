import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rssBytes } from './cpu-sampler.ts';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const WORKER_MAIN = 'apps/worker/src/main.ts';

/**
 * A role as production runs it (by default the worker, `apps/worker/src/main.ts`; `main` names another role's main),
 * its own OS process configured by the environment, logging straight into a file so the benchmark's process spends
 * nothing reading its lines.
 */
export class WorkerProcess {
  readonly child: ChildProcess;
  readonly logFile: string;
  readonly exited: Promise<void>;
  readonly main: string;
  #maxRss = 0;
  #rssTimer: NodeJS.Timeout;

  constructor(
    env: Record<string, string>,
    logDir: string,
    name: string,
    nodeOptions: readonly string[] = [],
    main: string = WORKER_MAIN,
  ) {
    this.main = main;
    this.logFile = join(logDir, `${name}.log`);
    const fd = openSync(this.logFile, 'w');
    this.child = spawn(process.execPath, [...nodeOptions, '--import', 'tsx', main], {
      cwd: REPO_ROOT,
      env: { ...env, EVERGREEN_PROCESS_NAME: name },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.#rssTimer = setInterval(() => {
      const rss = this.child.pid === undefined ? null : rssBytes(this.child.pid);
      if (rss !== null) this.#maxRss = Math.max(this.#maxRss, rss);
    }, 250);
    void this.exited.then(() => clearInterval(this.#rssTimer));
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** The highest resident set size seen so far (sampled every 250 ms). */
  get maxRssBytes(): number {
    return this.#maxRss;
  }

  resetMaxRss(): void {
    this.#maxRss = 0;
  }

  log(): string {
    return readFileSync(this.logFile, 'utf8');
  }

  async started(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.log().includes('"msg":"started"')) {
      if (this.child.exitCode !== null)
        throw new Error(`${this.main} exited before starting:\n${this.log().slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`${this.main} did not start within ${timeoutMs} ms:\n${this.log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGTERM (drain) and wait; SIGKILL if it overruns. */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export async function startWorkers(
  count: number,
  env: Record<string, string>,
  logDir: string,
  label: string,
  nodeOptions: readonly string[] = [],
): Promise<WorkerProcess[]> {
  const workers = Array.from({ length: count }, (_, i) => new WorkerProcess(env, logDir, `${label}-${i}`, nodeOptions));
  try {
    await Promise.all(workers.map((w) => w.started()));
  } catch (error) {
    await Promise.all(workers.map((w) => w.stop(5_000)));
    throw error;
  }
  return workers;
}
