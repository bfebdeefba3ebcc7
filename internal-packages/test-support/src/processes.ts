import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export interface RoleProcess {
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal) once it has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts an app's main as its own OS process, as production runs it, configured by the environment alone. */
export function startRoleProcess(app: 'worker' | 'scheduler' | 'evergreen', env: Record<string, string>): RoleProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', `apps/${app}/src/main.ts`], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return watched(child);
}

/** Runs `node apps/cli/bin/evergreen.mjs ...args` as an operator would, and answers its exit code and output. */
export function runEvergreenCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['apps/cli/bin/evergreen.mjs', ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, out, err }));
  });
}

/**
 * Starts `evergreen ...args` and leaves it running: for tests that stop it part-way (a signal, SIGKILL) or feed its
 * standard input (`stdin: 'pipe'`).
 */
export function startEvergreenCli(
  args: string[],
  env: Record<string, string>,
  options: { stdin?: 'pipe' | 'ignore' } = {},
): RoleProcess {
  const child = spawn(process.execPath, ['apps/cli/bin/evergreen.mjs', ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
  });
  return watched(child);
}

/** A child whose stdout and stderr are kept, interleaved as they came, and whose exit is awaited. */
function watched(child: ChildProcess): RoleProcess {
  const chunks: string[] = [];
  child.stdout?.on('data', (d: Buffer) => chunks.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => chunks.push(d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, output: () => chunks.join(''), exited };
}
