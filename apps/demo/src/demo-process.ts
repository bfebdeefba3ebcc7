// `pnpm demo` as a child process, for the screenshot script and the demo's test: started the way the root package's
// `demo` script starts it, its banner read for the board's address and the admin token.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export interface DemoConnection {
  connectionId: string;
  provider: string;
  status: string;
  version: number;
  lastRefreshOutcome: string | null;
  lastRefreshReason: string | null;
}

export interface DemoProcess {
  child: ChildProcess;
  /** The board's base URL, e.g. http://127.0.0.1:3001. */
  base: string;
  adminToken: string;
  /** Everything the demo wrote to stdout and stderr so far. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** GET on the operator API with the admin token. */
  api<T>(path: string): Promise<T>;
  connections(): Promise<DemoConnection[]>;
  /** SIGTERM, then the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts apps/demo/src/main.ts with `args` and resolves once its banner is out (or rejects when it exits first). */
export function startDemoProcess(
  args: string[],
  env: Record<string, string | undefined> = process.env,
  timeoutMs = 60_000,
): Promise<DemoProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/demo/src/main.ts', ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  const output = () => chunks.join('');
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return new Promise<DemoProcess>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => fail(new Error(`the demo printed no banner within ${timeoutMs} ms`)), timeoutMs);
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${error.message}\n--- demo output ---\n${output()}`));
    };
    void exited.then(({ code, signal }) => fail(new Error(`the demo exited (${code ?? signal}) before its banner`)));
    const onData = (data: Buffer) => {
      chunks.push(data.toString());
      const text = output();
      const base = /^ *operator API +(http:\/\/\S+)\/api /m.exec(text)?.[1];
      const adminToken = /^ *admin token +(\S+)$/m.exec(text)?.[1];
      if (!base || !adminToken || settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stdout?.on('data', (d: Buffer) => chunks.push(d.toString()));
      const api = async <T>(path: string): Promise<T> => {
        const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${adminToken}` } });
        if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
        return (await response.json()) as T;
      };
      resolve({
        child,
        base,
        adminToken,
        output,
        exited,
        api,
        connections: async () => (await api<{ items: DemoConnection[] }>('/api/connections?limit=50')).items,
        stop: () => {
          child.kill('SIGTERM');
          return exited;
        },
      });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (d: Buffer) => chunks.push(d.toString()));
  });
}

/** Polls `probe` until it returns a truthy value, or throws naming `what` once `timeoutMs` has passed. */
export async function pollUntil<T>(probe: () => Promise<T>, what: string, timeoutMs: number): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
