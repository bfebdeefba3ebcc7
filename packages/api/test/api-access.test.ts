import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFixture, auth, KEYS, type ApiFixture } from './api-fixture.ts';

/** Authentication, scopes, provider confinement, problem details and headers. */
describe('the api: who may do what', () => {
  let fx: ApiFixture;
  let app: FastifyInstance;
  let acmeId: string;
  let betaId: string;

  beforeAll(async () => {
    fx = await apiFixture();
    app = fx.api();
    acmeId = (await fx.stack.connect(fx.acme, { ownerId: 'owner-1', provider: 'acme', expiresIn: 3600 })).connectionId;
    betaId = (await fx.stack.connect(fx.beta, { ownerId: 'owner-1', provider: 'beta', expiresIn: 3600 })).connectionId;
  });
  afterAll(async () => {
    await fx?.close();
  });

  const get = (url: string, key?: string) => app.inject({ method: 'GET', url, headers: key ? auth(key) : {} });

  it('answers 401 as a problem without a key, with an unknown key, and with a malformed header', async () => {
    const none = await get(`/v1/connections/${acmeId}`);
    expect(none.statusCode).toBe(401);
    expect(none.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="evergreen"');
    expect(none.json()).toEqual({
      type: 'urn:evergreen:problem:err-unauthorized',
      title: 'A valid API key is required',
      status: 401,
      detail: 'send Authorization: Bearer <API key>',
      code: 'ERR_UNAUTHORIZED',
    });
    const unknown = await get(`/v1/connections/${acmeId}`, 'evg_nope_0123456789');
    expect(unknown.statusCode).toBe(401);
    expect(unknown.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    expect(unknown.json().code).toBe('ERR_UNAUTHORIZED');
    expect(unknown.body).not.toContain('evg_nope');
    const basic = await app.inject({
      method: 'GET',
      url: `/v1/connections/${acmeId}`,
      headers: { authorization: `Basic ${Buffer.from(`x:${KEYS.full}`).toString('base64')}` },
    });
    expect(basic.statusCode).toBe(401);
    // Unknown routes too: nothing is learnt without a key.
    expect((await get('/v1/nothing-here')).statusCode).toBe(401);
  });

  it('answers 403 when the key lacks the route scope, and never acts', async () => {
    const cases: [string, string, string, string][] = [
      [KEYS.read, 'POST', '/v1/connections', 'connections:write'],
      [KEYS.read, 'GET', `/v1/connections/${acmeId}/token`, 'tokens:read'],
      [KEYS.tokens, 'GET', `/v1/connections/${acmeId}`, 'connections:read'],
      [KEYS.tokens, 'GET', '/v1/connections', 'connections:read'],
      [KEYS.tokens, 'POST', `/v1/connections/${acmeId}/refresh`, 'connections:write'],
      [KEYS.read, 'DELETE', `/v1/connections/${acmeId}`, 'connections:write'],
      [KEYS.read, 'PATCH', `/v1/connections/${acmeId}`, 'connections:write'],
      [KEYS.read, 'POST', '/v1/connections/batch', 'connections:write'],
      [KEYS.write, 'GET', '/v1/tokens?ownerId=owner-1&provider=acme', 'tokens:read'],
    ];
    for (const [key, method, url, scope] of cases) {
      const res = await app.inject({ method: method as 'GET', url, headers: auth(key), payload: {} });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json()).toMatchObject({ status: 403, code: 'ERR_INSUFFICIENT_SCOPE' });
      expect(res.headers['www-authenticate']).toBe(
        `Bearer realm="evergreen", error="insufficient_scope", scope="${scope}"`,
      );
    }
    expect(fx.acme.requests).toHaveLength(0);
    expect((await fx.stack.evergreen.getConnection(acmeId)).status).toBe('connected');
  });

  it("a key confined to providers sees another provider's connection exactly as a missing one", async () => {
    const missing = 'no-such-connection';
    const same = (
      hidden: { body: string; statusCode: number; headers: Record<string, unknown> },
      absent: typeof hidden,
    ) => {
      expect(hidden.statusCode).toBe(404);
      expect(hidden.statusCode).toBe(absent.statusCode);
      expect(hidden.body.replaceAll(betaId, '<id>')).toBe(absent.body.replaceAll(missing, '<id>'));
      const names = (h: Record<string, unknown>) =>
        Object.keys(h)
          .filter((n) => n !== 'date')
          .sort();
      expect(names(hidden.headers)).toEqual(names(absent.headers));
    };
    for (const [method, suffix] of [
      ['GET', ''],
      ['GET', '/token'],
      ['POST', '/refresh'],
      ['DELETE', ''],
      ['PATCH', ''],
    ] as const) {
      const payload = method === 'PATCH' ? { metadata: { a: 1 } } : undefined;
      const hidden = await app.inject({
        method,
        url: `/v1/connections/${betaId}${suffix}`,
        headers: auth(KEYS.acme),
        payload,
      });
      const absent = await app.inject({
        method,
        url: `/v1/connections/${missing}${suffix}`,
        headers: auth(KEYS.acme),
        payload,
      });
      same(hidden, absent);
      expect(hidden.json()).toMatchObject({ code: 'ERR_CONNECTION_NOT_FOUND', status: 404 });
    }
    // Nothing happened to it: no refresh at its provider, still connected, metadata untouched.
    expect(fx.beta.requests).toHaveLength(0);
    const view = await fx.stack.evergreen.getConnection(betaId);
    expect(view).toMatchObject({ status: 'connected', metadata: {} });
    // Its own provider's connection it sees.
    expect((await get(`/v1/connections/${acmeId}`, KEYS.acme)).statusCode).toBe(200);
    // By owner: the hidden provider answers as an owner without a connection there.
    const byOwner = await get('/v1/tokens?ownerId=owner-1&provider=beta', KEYS.acme);
    const noOwner = await get('/v1/tokens?ownerId=owner-1&provider=gamma', KEYS.full);
    expect(byOwner.statusCode).toBe(404);
    expect(byOwner.body.replace('beta', 'gamma')).toBe(noOwner.body);
    // Lists show only its providers.
    const list = await get('/v1/connections?ownerId=owner-1', KEYS.acme);
    expect(list.json().items.map((i: { provider: string }) => i.provider)).toEqual(['acme']);
    const full = await get('/v1/connections?ownerId=owner-1', KEYS.full);
    expect(
      full
        .json()
        .items.map((i: { provider: string }) => i.provider)
        .sort(),
    ).toEqual(['acme', 'beta']);
    // And it may not create one there.
    const created = await app.inject({
      method: 'POST',
      url: '/v1/connections',
      headers: auth(KEYS.acme),
      payload: { ownerId: 'owner-2', provider: 'beta', accessToken: 'at-x' },
    });
    expect(created.statusCode).toBe(403);
    expect(created.json()).toMatchObject({ code: 'ERR_PROVIDER_NOT_ALLOWED' });
    const batch = await app.inject({
      method: 'POST',
      url: '/v1/connections/batch',
      headers: auth(KEYS.acme),
      payload: {
        items: [
          { ownerId: 'owner-3', provider: 'beta', accessToken: 'at-y' },
          { ownerId: 'owner-3', provider: 'acme', accessToken: 'at-z' },
        ],
      },
    });
    expect(batch.statusCode).toBe(200);
    expect(batch.json()).toMatchObject({
      succeeded: 1,
      failed: 1,
      results: [
        { index: 0, ok: false, error: { code: 'ERR_PROVIDER_NOT_ALLOWED' } },
        { index: 1, ok: true, status: 'connected' },
      ],
    });
  });

  it('puts security headers and no-store on every answer: success, refusal, problem, not found', async () => {
    const answers = [
      await get(`/v1/connections/${acmeId}`, KEYS.full),
      await get(`/v1/connections/${acmeId}`),
      await get('/v1/connections/no-such-connection', KEYS.full),
      await get('/v1/nothing-here', KEYS.full),
      await get('/v1/openapi.json'),
    ];
    expect(answers.map((a) => a.statusCode)).toEqual([200, 401, 404, 404, 200]);
    for (const answer of answers) {
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.headers['cache-control']).toBe('no-store');
      expect(answer.headers['x-frame-options']).toBe('DENY');
      expect(answer.headers['referrer-policy']).toBe('no-referrer');
      expect(String(answer.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
    }
  });

  it('limits each key to its request rate: 429 with Retry-After, other keys unaffected', async () => {
    const limited = fx.api({ rateLimit: { perMinute: 3 } });
    const call = (key: string) =>
      limited.inject({ method: 'GET', url: `/v1/connections/${acmeId}`, headers: auth(key) });
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await call(KEYS.full)).statusCode);
    expect(codes).toEqual([200, 200, 200, 429]);
    const refused = await call(KEYS.full);
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(refused.json()).toMatchObject({ status: 429, code: 'ERR_RATE_LIMITED' });
    expect((await call(KEYS.read)).statusCode).toBe(200);
  });
});
