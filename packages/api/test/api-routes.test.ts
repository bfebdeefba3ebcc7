import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFixture, auth, KEYS, type ApiFixture } from './api-fixture.ts';

/** Every route's answers and refusals, over real Postgres, Redis and fake providers. */
describe('the api routes', () => {
  let fx: ApiFixture;
  let app: FastifyInstance;
  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, key: string = KEYS.full) =>
    app.inject({ method, url, headers: auth(key), ...(payload !== undefined && { payload: payload as object }) });
  /** A new grant of `provider`'s, connected through POST /v1/connections; answers its connection id and the grant. */
  const postGrant = async (ownerId: string, provider: 'acme' | 'beta', expiresIn: number) => {
    const grant = fx[provider].issue({ expiresIn });
    const res = await call('POST', '/v1/connections', {
      ownerId,
      provider,
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      expiresIn,
    });
    return { connectionId: res.json().connectionId as string, grant };
  };

  beforeAll(async () => {
    fx = await apiFixture();
    app = fx.api();
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('POST /v1/connections: 201 when created, 200 when updated, never a token in the answer', async () => {
    const grant = fx.acme.issue({ expiresIn: 3600 });
    const input = {
      ownerId: 'user-1',
      provider: 'acme',
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      expiresIn: 3600,
      scopes: ['read'],
    };
    const created = await call('POST', '/v1/connections', input);
    expect(created.statusCode).toBe(201);
    const body = created.json();
    expect(Object.keys(body).sort()).toEqual([
      'connectionId',
      'created',
      'expiresAt',
      'refreshAt',
      'scheduling',
      'status',
    ]);
    expect(body).toMatchObject({ status: 'connected', scheduling: 'scheduled', created: true });
    expect(Date.parse(body.expiresAt)).toBeGreaterThan(Date.now());
    expect(created.body).not.toContain(grant.accessToken);
    const updated = await call('POST', '/v1/connections', input);
    expect(updated.statusCode).toBe(200);
    expect(updated.json().connectionId).toBe(body.connectionId);
  });

  it('GET /v1/connections/{id} and the list: views without secrets, keyset pages, filters', async () => {
    const ids: string[] = [];
    for (const owner of ['list-a', 'list-b', 'list-c']) {
      const res = await call('POST', '/v1/connections', {
        ownerId: owner,
        provider: 'beta',
        accessToken: `at-${owner}`,
      });
      ids.push(res.json().connectionId);
    }
    const view = await call('GET', `/v1/connections/${ids[0]}`, undefined, KEYS.read);
    expect(view.statusCode).toBe(200);
    expect(view.json()).toMatchObject({
      connectionId: ids[0],
      ownerId: 'list-a',
      provider: 'beta',
      status: 'connected',
    });
    expect(view.body).not.toContain('at-list-a');
    const first = await call('GET', '/v1/connections?provider=beta&limit=2', undefined, KEYS.read);
    expect(first.statusCode).toBe(200);
    expect(first.json().items).toHaveLength(2);
    const next = first.json().nextCursor as string;
    const second = await call('GET', `/v1/connections?provider=beta&limit=2&cursor=${next}`, undefined, KEYS.read);
    expect(second.json().items).toHaveLength(1);
    expect(second.json().nextCursor).toBeNull();
    const byOwner = await call('GET', '/v1/connections?ownerId=list-b&status=connected', undefined, KEYS.read);
    expect(byOwner.json().items.map((i: { connectionId: string }) => i.connectionId)).toEqual([ids[1]]);
  });

  it('POST /v1/connections/batch: a result per item, in order, bad items naming their fields', async () => {
    const res = await call('POST', '/v1/connections/batch', {
      items: [
        { ownerId: 'batch-1', provider: 'acme', accessToken: 'at-b1' },
        { ownerId: 'batch-2', provider: 'nope', accessToken: 'at-b2' },
        { ownerId: 5, provider: 'acme' },
      ],
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ succeeded: 1, failed: 2 });
    expect(body.results.map((r: { index: number; ok: boolean }) => [r.index, r.ok])).toEqual([
      [0, true],
      [1, false],
      [2, false],
    ]);
    expect(body.results[1].error.issues.map((i: { field: string }) => i.field)).toEqual(['provider']);
    expect(body.results[2].error.code).toBe('ERR_INVALID_INPUT');
    expect(res.body).not.toContain('at-b1');
  });

  it('PATCH /v1/connections/{id}: merges the metadata, a null removes a key; the tokens stay', async () => {
    const { connectionId } = (
      await call('POST', '/v1/connections', {
        ownerId: 'meta-1',
        provider: 'acme',
        accessToken: 'at-meta',
        metadata: { team: 'a', region: 'eu' },
      })
    ).json();
    const res = await call('PATCH', `/v1/connections/${connectionId}`, { metadata: { team: 'b', region: null, x: 1 } });
    expect(res.statusCode).toBe(200);
    expect(res.json().metadata).toEqual({ team: 'b', x: 1 });
    expect((await fx.stack.read(connectionId))!.accessToken).toBe('at-meta');
  });

  it('POST /refresh refreshes now; DELETE disconnects; then the token answers 409 ERR_DISCONNECTED', async () => {
    const { connectionId, grant } = await postGrant('life-1', 'acme', 3600);
    const refreshed = await call('POST', `/v1/connections/${connectionId}/refresh`);
    expect(refreshed.statusCode).toBe(200);
    expect(refreshed.json()).toMatchObject({ connectionId, status: 'connected', version: 2 });
    expect(fx.acme.grant(grant.grantId)!.refreshCount).toBe(1);
    const gone = await call('DELETE', `/v1/connections/${connectionId}`);
    expect(gone.statusCode).toBe(200);
    expect(gone.json().status).toBe('disconnected');
    const token = await call('GET', `/v1/connections/${connectionId}/token`);
    expect(token.statusCode).toBe(409);
    expect(token.json()).toMatchObject({ status: 409, code: 'ERR_DISCONNECTED' });
  });

  it('a revoked grant answers 409 ERR_NEEDS_REAUTH; a failing provider 503 with Retry-After', async () => {
    const { connectionId: reauthId, grant: revoked } = await postGrant('reauth-1', 'acme', 60);
    fx.acme.revoke(revoked.grantId);
    const reauth = await call('GET', `/v1/connections/${reauthId}/token?minValiditySeconds=300`);
    expect(reauth.statusCode).toBe(409);
    expect(reauth.json()).toMatchObject({ code: 'ERR_NEEDS_REAUTH' });

    const { connectionId: flakyId } = await postGrant('flaky-1', 'beta', 60);
    fx.beta.setFaultForAll({ kind: 'status', status: 503 });
    try {
      const unavailable = await call('GET', `/v1/connections/${flakyId}/token?minValiditySeconds=300`);
      expect(unavailable.statusCode).toBe(503);
      expect(Number(unavailable.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(unavailable.json()).toMatchObject({ status: 503, code: 'ERR_REFRESH_UNAVAILABLE' });
    } finally {
      fx.beta.setFaultForAll(null);
    }
  });

  it('GET /v1/tokens by (ownerId, provider): the connection enqueued for that pair', async () => {
    const grant = fx.beta.issue({ expiresIn: 3600 });
    await call('POST', '/v1/connections', {
      ownerId: 'pair-1',
      provider: 'beta',
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      expiresIn: 3600,
      scopes: ['a', 'b'],
    });
    const res = await call('GET', '/v1/tokens?ownerId=pair-1&provider=beta', undefined, KEYS.tokens);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ accessToken: grant.accessToken, tokenType: 'Bearer', scopes: ['a', 'b'] });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  describe('bad input: 400, a problem naming every bad field', () => {
    const fieldsOf = (res: { statusCode: number; json(): { code: string; errors?: { field: string }[] } }) => {
      expect(res.statusCode).toBe(400);
      const body = res.json();
      expect(body.code).toBe('ERR_INVALID_INPUT');
      return (body.errors ?? []).map((e) => e.field).sort();
    };

    it('POST /v1/connections', async () => {
      const res = await call('POST', '/v1/connections', { ownerId: 5, provider: 'BAD!', accessToken: '', extra: 1 });
      expect(fieldsOf(res)).toEqual(['accessToken', 'extra', 'ownerId', 'provider']);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ type: 'urn:evergreen:problem:err-invalid-input', status: 400 });
      // Checks across fields, and the provider's: the SDK's own, with the same shape.
      const both = await call('POST', '/v1/connections', {
        ownerId: 'x',
        provider: 'acme',
        accessToken: 'a',
        expiresIn: 10,
        expiresAt: '2030-01-01T00:00:00Z',
      });
      expect(fieldsOf(both)).toEqual(['expiresIn']);
      const unknown = await call('POST', '/v1/connections', { ownerId: 'x', provider: 'zeta', accessToken: 'a' });
      expect(fieldsOf(unknown)).toEqual(['provider']);
      const notJson = await app.inject({
        method: 'POST',
        url: '/v1/connections',
        headers: { ...auth(KEYS.full), 'content-type': 'application/json' },
        payload: '{"ownerId":',
      });
      expect(fieldsOf(notJson)).toEqual(['body']);
      const none = await call('POST', '/v1/connections');
      expect(fieldsOf(none)).toEqual(['body']);
    });

    it('POST /v1/connections/batch', async () => {
      expect(fieldsOf(await call('POST', '/v1/connections/batch', { items: [] }))).toEqual(['items']);
      expect(fieldsOf(await call('POST', '/v1/connections/batch', { items: 'x', more: 1 }))).toEqual(['items', 'more']);
      const tooMany = Array.from({ length: 1001 }, (_, i) => ({
        ownerId: `o${i}`,
        provider: 'acme',
        accessToken: 'a',
      }));
      expect(fieldsOf(await call('POST', '/v1/connections/batch', { items: tooMany }))).toEqual(['items']);
    });

    it('the {id} routes', async () => {
      const id = 'bad:id';
      for (const [method, suffix] of [
        ['GET', ''],
        ['GET', '/token'],
        ['POST', '/refresh'],
        ['DELETE', ''],
      ] as const) {
        expect(fieldsOf(await call(method, `/v1/connections/${id}${suffix}`)), `${method} ${suffix}`).toEqual(['id']);
      }
      const patch = await call('PATCH', `/v1/connections/${id}`, { metadata: 'x', other: 1 });
      expect(fieldsOf(patch)).toEqual(['id', 'metadata', 'other']);
    });

    it('query strings: the token, the list, the token by owner, the disconnect', async () => {
      const token = await call('GET', '/v1/connections/abc/token?minValiditySeconds=-1&fresh=1');
      expect(fieldsOf(token)).toEqual(['fresh', 'minValiditySeconds']);
      const list = await call('GET', '/v1/connections?status=bogus&limit=0&provider=BAD!');
      expect(fieldsOf(list)).toEqual(['limit', 'provider', 'status']);
      expect(fieldsOf(await call('GET', '/v1/tokens?minValiditySeconds=x'))).toEqual([
        'minValiditySeconds',
        'ownerId',
        'provider',
      ]);
      // Only true or false: anything else is refused, never read as false.
      expect(fieldsOf(await call('DELETE', '/v1/connections/abc?revoke=yes'))).toEqual(['revoke']);
      expect(fieldsOf(await call('DELETE', '/v1/connections/abc?revoke=true&wipe=1'))).toEqual(['wipe']);
    });

    it('a metadata update over the size limit is refused before it is stored', async () => {
      const { connectionId } = (
        await call('POST', '/v1/connections', { ownerId: 'meta-2', provider: 'acme', accessToken: 'at' })
      ).json();
      const big = { blob: 'x'.repeat(20_000) };
      expect(fieldsOf(await call('PATCH', `/v1/connections/${connectionId}`, { metadata: big }))).toEqual(['metadata']);
    });
  });
});
