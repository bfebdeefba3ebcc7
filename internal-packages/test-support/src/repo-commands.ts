import { spawn, spawnSync } from 'node:child_process';
import { REPO_ROOT } from './processes.ts';

/**
 * The commands of the `evergreen` CLI as its own `--help` lists them (`worker`, `db migrate`, `connections show`, …):
 * what a container's arguments may name.
 */
export function cliCommands(cwd = REPO_ROOT): string[] {
  const cached = cache.get(cwd);
  if (cached) return cached;
  const help = spawnSync(process.execPath, ['apps/cli/bin/evergreen.mjs', '--help'], {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', EVERGREEN_ENV_FILE: 'none' },
  });
  if (help.status !== 0) throw new Error(`evergreen --help exited ${help.status}: ${help.stderr}`);
  const commands: string[] = [];
  for (const line of help.stdout.split('\n')) {
    // "  worker | scheduler | all          run a role" / "  keys rotate [--batch-size N]   re-encrypt ..."
    const column = /^ {2}(\S.*?)(?: {2,}|$)/.exec(line)?.[1];
    if (!column) continue;
    for (const alternative of column.split(' | ')) {
      const words = alternative.split(' ').filter((w) => w !== '');
      const end = words.findIndex((w) => w.startsWith('[') || w.startsWith('<') || w.startsWith('--'));
      commands.push((end === -1 ? words : words.slice(0, end)).join(' '));
    }
  }
  cache.set(cwd, commands);
  return commands;
}
const cache = new Map<string, string[]>();

export interface CommandRun {
  /** Null when the command was still running at `ready` and was then stopped with SIGTERM. */
  readyAt: number | null;
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/**
 * Runs a command as a container would, from `cwd`, until it exits or its output matches `ready`; a command that
 * became ready is then sent SIGTERM (what `docker stop` and Kubernetes send) and awaited. `argv[0]` `node` is this
 * Node.js.
 */
export function runCommand(
  argv: string[],
  env: Record<string, string>,
  options: { cwd?: string; ready?: RegExp; timeoutMs?: number } = {},
): Promise<CommandRun> {
  const [program, ...args] = argv;
  const child = spawn(program === 'node' ? process.execPath : program!, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let readyAt: number | null = null;
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      output += `\n[killed: neither ready nor exited within ${timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, timeoutMs);
    const onData = (data: Buffer) => {
      output += data.toString();
      if (readyAt === null && options.ready?.test(output)) {
        readyAt = Date.now();
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ readyAt, code, signal, output });
    });
  });
}
