import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startRoleProcess } from '@evergreen/test-support/processes';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { startProviderStack, type ProviderStack } from '@evergreen/test-support/provider-stack';
import { until } from '@evergreen/test-support/until';

describe('every role serves /metrics, /healthz and /readyz', () => {
  const sandbox = new Sandbox();
  let f: ProviderStack;

  beforeAll(async () => {
    f = await startProviderStack(sandbox, { roles: ['worker', 'scheduler'] });
  });

  afterAll(() => f?.close());

  it('counts refreshes and states by provider, with no owner id, connection id or token in any label', async () => {
    const { connectionId, grant } = await f.stack.connect(f.provider, {
      ownerId: 'metrics-owner',
      provider: 'acme',
      expiresIn: 2,
    });
    await until(() => (f.provider.grant(grant.grantId)?.refreshCount ?? 0) >= 1, {
      timeoutMs: 15_000,
      what: 'a refresh',
    });
    const base = `http://127.0.0.1:${f.stack.roles!.opsPort}`;
    const metrics = await until(
      async () => {
        const text = await (await fetch(`${base}/metrics`)).text();
        return text.includes('evergreen_refresh_attempts_total{provider="acme",outcome="success"') ? text : null;
      },
      { what: 'the refresh in /metrics' },
    );
    expect(metrics).toMatch(/evergreen_connections\{provider="acme",status="connected"\} [1-9]/);
    expect(metrics).toContain('evergreen_refresh_lateness_seconds_bucket{le="1",provider="acme"}');
    expect(metrics).toContain('evergreen_queue_jobs{provider="acme",state="delayed"}');
    expect(metrics).toContain('evergreen_process_resident_memory_bytes');
    for (const secret of [connectionId, 'metrics-owner', ...f.provider.allIssuedTokens()])
      expect(metrics.includes(secret)).toBe(false);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { postgres: true, redis: true } });
  });

  it('a worker process says where its ops port is and answers there', async () => {
    const worker = startRoleProcess('worker', sandbox.env());
    try {
      const line = await until(
        () =>
          worker
            .output()
            .split('\n')
            .find((l) => l.includes('"msg":"started"')),
        { timeoutMs: 20_000, what: 'started' },
      );
      const { opsPort } = JSON.parse(line) as { opsPort: number };
      expect((await fetch(`http://127.0.0.1:${opsPort}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${opsPort}/metrics`)).status).toBe(200);
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
  });

  it('the board, started with `evergreen board`, serves its ops port too, and the board behind its token', async () => {
    const token = 'ops-test-admin-token-0123456789';
    const child = spawn(process.execPath, ['apps/cli/bin/evergreen.mjs', 'board'], {
      cwd: REPO_ROOT,
      env: sandbox.env({ EVERGREEN_ADMIN_TOKEN: token, EVERGREEN_BOARD_PORT: '0' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const line = (msg: string) => out.split('\n').find((l) => l.includes(`"msg":"${msg}"`));
      const opsLine = await until(() => line('ops server listening'), { timeoutMs: 20_000, what: 'the ops server' });
      const boardLine = await until(() => line('board listening'), { timeoutMs: 20_000, what: 'the board' });
      const { port } = JSON.parse(opsLine) as { port: number };
      const { address } = JSON.parse(boardLine) as { address: string };
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      expect((await fetch(`${address}/board`)).status).toBe(401);
      expect((await fetch(`${address}/board`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
