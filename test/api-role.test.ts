import { startRoles, type RunningRoles } from '@evergreen/runtime';
import { ApiKeyStore } from '@evergreen/store';
import { until } from '@evergreen/test-support/until';
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

  it('by default authenticates the keys `api-keys create` stored, and refuses one once revoked', async () => {
    const logs = new LogCapture();
    const roles = await startRoles(['api'], { env: env(), logDestination: logs });
    running.push(roles);
    const store = new ApiKeyStore(roles.parts.db);
    const created = await store.create({ name: 'role default', scopes: ['connections:read'], providers: null });
    const base = roles.api!.address;
    const list = (key: string) => fetch(`${base}/v1/connections`, { headers: { authorization: `Bearer ${key}` } });
    expect((await list(created.key)).status).toBe(200);
    expect((await list(`${created.key.slice(0, -1)}x`)).status).toBe(401);
    await store.revoke(created.id);
    // The verifier's cache answers for at most two seconds: the revocation lands within that bound.
    await until(async () => (await list(created.key)).status === 401, { timeoutMs: 5_000, what: 'the revocation' });
    expect(logs.text).not.toContain(created.key);
  });

  it('serves /v1 on EVERGREEN_API_PORT with the given verifier, and counts token reads on the ops port', async () => {
    const logs = new LogCapture();
    const roles = await startRoles(['api'], { env: env(), logDestination: logs, apiKeys: () => verifier });
    running.push(roles);
    const base = roles.api!.address;
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(logs.events('api listening')).toHaveLength(1);

    const { connectionId, grant } = await ps.stack.connect(ps.provider, {
      ownerId: 'role-1',
      provider: 'acme',
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
