import type { FastifyInstance } from 'fastify';
import { until } from '@evergreen/test-support/until';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFixture, auth, KEYS, type ApiFixture } from './api-fixture.ts';

/** DELETE /v1/connections/{id}?revoke=true: RFC 7009 revocation at the provider, never blocking the disconnect. */
describe('disconnect with revocation', () => {
  let fx: ApiFixture;
  let app: FastifyInstance;
  const call = (method: 'POST' | 'DELETE', url: string, payload?: unknown) =>
    app.inject({ method, url, headers: auth(KEYS.full), ...(payload !== undefined && { payload: payload as object }) });

  beforeAll(async () => {
    fx = await apiFixture();
    app = fx.api();
  });
  afterAll(async () => {
    await fx?.close();
  });

  async function connect(provider: 'acme' | 'beta', ownerId: string) {
    const grant = fx[provider].issue({ expiresIn: 3600 });
    const res = await call('POST', '/v1/connections', {
      ownerId,
      provider,
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      expiresIn: 3600,
    });
    expect(res.statusCode).toBe(201);
    return { grant, connectionId: res.json().connectionId as string };
  }

  /** A refresh straight at the provider with the old refresh token, as anyone holding it could try. */
  async function refreshAtProvider(tokenUrl: string, refreshToken: string) {
    const res = await fetch(tokenUrl, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('client-id:client-secret').toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
    });
    return { status: res.status, body: (await res.json()) as { error?: string } };
  }

  it('revokes the grant at the provider, then disconnects: the old refresh token gets invalid_grant', async () => {
    const { grant, connectionId } = await connect('acme', 'revoke-1');
    const res = await call('DELETE', `/v1/connections/${connectionId}?revoke=true`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ connectionId, status: 'disconnected', revoked: true });
    expect(res.json()).not.toHaveProperty('revocationReason');
    expect(res.body).not.toContain(grant.refreshToken);
    const sent = fx.acme.revocations.at(-1);
    expect(sent).toMatchObject({
      tokenPresented: grant.refreshToken,
      tokenTypeHint: 'refresh_token',
      grantId: grant.grantId,
      status: 200,
      outcome: 'revoked',
    });
    expect(fx.acme.grant(grant.grantId)?.revoked).toBe(true);
    expect(fx.stack.logs.events('grant revoked')).toContainEqual(
      expect.objectContaining({ connection: connectionId, provider: 'acme' }),
    );
    expect(fx.stack.logs.text).not.toContain(grant.refreshToken);
    expect(fx.stack.logs.text).not.toContain(grant.accessToken);
    const retry = await refreshAtProvider(fx.acme.tokenUrl, grant.refreshToken);
    expect(retry.status).toBe(400);
    expect(retry.body.error).toBe('invalid_grant');
  });

  it('waits for a refresh in flight and revokes the refresh token it left, not the one it rotated away', async () => {
    const { grant, connectionId } = await connect('acme', 'revoke-in-flight');
    // The provider rotates at once but answers 400 ms later (well inside the 1 s headers timeout the sandbox sets):
    // the refresh holds the connection's lock meanwhile.
    fx.acme.injectFaults([{ kind: 'delay', ms: 400 }]);
    const refresh = call('POST', `/v1/connections/${connectionId}/refresh`);
    await until(() => fx.acme.requests.some((r) => r.grantId === grant.grantId && r.fault === 'delay'), {
      what: 'the delayed refresh at the provider',
    });
    const res = await call('DELETE', `/v1/connections/${connectionId}?revoke=true`);
    expect((await refresh).statusCode).toBe(200);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'disconnected', revoked: true });
    const rotated = fx.acme.grant(grant.grantId)!.currentRefreshToken;
    expect(rotated).not.toBe(grant.refreshToken);
    expect(fx.acme.revocations.at(-1)).toMatchObject({ tokenPresented: rotated, outcome: 'revoked' });
    expect(fx.acme.grant(grant.grantId)?.revoked).toBe(true);
  });

  it('a provider without a revocation endpoint: disconnected, revoked false, reason no_endpoint', async () => {
    const { grant, connectionId } = await connect('beta', 'revoke-2');
    const before = fx.beta.requests.length;
    const res = await call('DELETE', `/v1/connections/${connectionId}?revoke=true`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'disconnected', revoked: false, revocationReason: 'no_endpoint' });
    expect(fx.beta.requests.length).toBe(before);
    expect(fx.beta.grant(grant.grantId)?.revoked).toBe(false);
  });

  it('a provider answering 503: disconnected anyway, revoked false, reason provider_error (retryable)', async () => {
    const { grant, connectionId } = await connect('acme', 'revoke-3');
    fx.acme.injectFaults([{ kind: 'status', status: 503 }]);
    const res = await call('DELETE', `/v1/connections/${connectionId}?revoke=true`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'disconnected',
      revoked: false,
      revocationReason: 'provider_error',
      revocationRetryable: true,
    });
    expect(res.body).not.toContain(grant.refreshToken);
    expect(fx.acme.revocations.at(-1)).toMatchObject({ status: 503, outcome: 'fault' });
    expect(fx.stack.logs.events('revocation failed')).toContainEqual(
      expect.objectContaining({ connection: connectionId, status: 503 }),
    );
    expect(fx.stack.logs.text).not.toContain(grant.refreshToken);
    expect(fx.acme.grant(grant.grantId)?.revoked).toBe(false);
    const stored = await fx.stack.parts.store.find(connectionId);
    expect(stored).toMatchObject({ status: 'disconnected', refreshToken: null, accessToken: null });
  });

  it('without ?revoke the provider is not asked and the answer says nothing of revocation', async () => {
    const { grant, connectionId } = await connect('acme', 'revoke-4');
    const before = fx.acme.revocations.length;
    const res = await call('DELETE', `/v1/connections/${connectionId}?revoke=false`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'disconnected' });
    expect(res.json()).not.toHaveProperty('revoked');
    expect(fx.acme.revocations.length).toBe(before);
    expect(fx.acme.grant(grant.grantId)?.revoked).toBe(false);
  });

  it('a bad revoke value is a 400 naming the field; a missing connection a 404 with nothing sent', async () => {
    const bad = await call('DELETE', '/v1/connections/abc?revoke=1');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { field: string }) => e.field)).toEqual(['revoke']);
    const before = fx.acme.revocations.length;
    const missing = await call('DELETE', '/v1/connections/no-such-connection?revoke=true');
    expect(missing.statusCode).toBe(404);
    expect(fx.acme.revocations.length).toBe(before);
  });
});
