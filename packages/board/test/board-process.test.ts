import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { until } from '@evergreen/test-support/until';
import { bearer, TOKEN } from './board-fixture.ts';

const APP_DIR = fileURLToPath(new URL('../../../apps/board/', import.meta.url));

/** `pnpm --filter @evergreen/board start`, as production runs it: its own process, configured by the environment. */
function startBoardProcess(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: APP_DIR,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  child.stdout.on('data', (d: Buffer) => chunks.push(d.toString()));
  child.stderr.on('data', (d: Buffer) => chunks.push(d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const output = () => chunks.join('');
  const address = () =>
    until(() => /"address":"(http:\/\/[^"]+)"/.exec(output())?.[1], { timeoutMs: 20_000, what: 'board listening' });
  return { child, exited, output, address };
}

describe('the board process', () => {
  const sandbox = new Sandbox();
  const running: ReturnType<typeof startBoardProcess>[] = [];

  beforeAll(() => sandbox.useProviders([{ id: 'acme', tokenUrl: 'http://127.0.0.1:9/token' }]));
  afterAll(async () => {
    for (const p of running) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await sandbox.cleanup();
  });

  it('refuses to start without credentials, naming EVERGREEN_ADMIN_TOKEN', async () => {
    const p = startBoardProcess(sandbox.env({ EVERGREEN_BOARD_PORT: '0' }));
    running.push(p);
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain('EVERGREEN_ADMIN_TOKEN');
  });

  it('refuses dev mode on a non-loopback host', async () => {
    const p = startBoardProcess(
      sandbox.env({ EVERGREEN_BOARD_PORT: '0', EVERGREEN_BOARD_DEV: 'true', EVERGREEN_BOARD_HOST: '0.0.0.0' }),
    );
    running.push(p);
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain('EVERGREEN_ADMIN_TOKEN');
  });

  it('starts with a token, serves behind auth, and stops on SIGTERM', async () => {
    const p = startBoardProcess(sandbox.env({ EVERGREEN_BOARD_PORT: '0', EVERGREEN_ADMIN_TOKEN: TOKEN }));
    running.push(p);
    const address = await p.address();
    expect((await fetch(`${address}/healthz`)).status).toBe(200);
    expect((await fetch(`${address}/api/connections`)).status).toBe(401);
    expect((await fetch(`${address}/api/connections`, { headers: bearer })).status).toBe(200);
    const queues = await fetch(`${address}/board/api/queues`, { headers: bearer });
    expect(((await queues.json()) as { queues: { name: string }[] }).queues.map((q) => q.name)).toEqual([
      'refresh-acme',
    ]);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.output()).not.toContain(TOKEN);
  });

  it('starts without credentials in dev mode on loopback', async () => {
    const p = startBoardProcess(sandbox.env({ EVERGREEN_BOARD_PORT: '0', EVERGREEN_BOARD_DEV: 'true' }));
    running.push(p);
    const address = await p.address();
    expect((await fetch(`${address}/api/connections`)).status).toBe(200);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });
});
