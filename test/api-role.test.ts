import { startRoles, type RunningRoles } from '@evergreen/runtime';
import { LogCapture } from '@evergreen/test-support/log-capture';
import { startProviderStack, type ProviderStack } from '@evergreen/test-support/provider-stack';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const KEY = 'evg_role_0123456789abcdefghijklmnopqrstuvwxyzABCDEF';
const verifier = {
  async verify(key: string) {
    return key === KEY
      ? { id: 'k-role', name: 'role test', scopes: ['tokens:read', 'connections:read'] as const, providers: null }
      : null;
  },
};

/** The api role: started by startRoles like every role, with the verifier it is given, beside the ops port. */
describe('the api role', () => {
  let ps: ProviderStack;
  const running: RunningRoles[] = [];

  beforeAll(async () => {
    ps = await startProviderStack(new Sandbox());
  });
  afterAll(async () => {
    for (const r of running) await r.close();
    await ps?.close();
  });

  const env = () => ps.sandbox.env({ EVERGREEN_API_PORT: '0', EVERGREEN_LOG_LEVEL: 'info' });

  it('refuses to start alone without an API key verifier, naming what is missing', async () => {
    await expect(startRoles(['api'], { env: env() })).rejects.toMatchObject({
      code: 'ERR_CONFIG',
      message: expect.stringContaining('no API key verifier'),
    });
  });

  it('beside other roles without a verifier, leaves the api out and says so', async () => {
    const logs = new LogCapture();
    const roles = await startRoles(['scheduler', 'api'], { env: env(), logDestination: logs });
    running.push(roles);
    expect(roles.api).toBeNull();
    expect(logs.text).toContain('api role not started');
  });

  it('serves /v1 on EVERGREEN_API_PORT with the given verifier, and counts token reads on the ops port', async () => {
    const logs = new LogCapture();
    const roles = await startRoles(['api'], { env: env(), logDestination: logs, apiKeys: () => verifier });
    running.push(roles);
    const base = roles.api!.address;
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(logs.events('api listening')).toHaveLength(1);

    const grant = ps.provider.issue({ expiresIn: 3600 });
    const { connectionId } = await ps.stack.evergreen.enqueueConnection({
      ownerId: 'role-1',
      provider: 'acme',
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      expiresIn: 3600,
    });
    const denied = await fetch(`${base}/v1/connections/${connectionId}/token`);
    expect(denied.status).toBe(401);
    const res = await fetch(`${base}/v1/connections/${connectionId}/token`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { accessToken: string }).accessToken).toBe(grant.accessToken);
    expect((await fetch(`${base}/v1/openapi.json`)).status).toBe(200);

    const metrics = await (await fetch(`http://127.0.0.1:${roles.opsPort}/metrics`)).text();
    expect(metrics).toContain('evergreen_api_token_reads_total{key_id="k-role",outcome="ok"} 1');
    expect((await fetch(`http://127.0.0.1:${roles.opsPort}/readyz`)).status).toBe(200);
    expect(logs.text).not.toContain(KEY);
    expect(logs.text).not.toContain(grant.accessToken);
  });
});
