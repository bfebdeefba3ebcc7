import { until } from '@evergreen/test-support/until';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenReadMetrics } from '../src/token-reads.ts';
import { apiFixture, auth, KEYS, type ApiFixture } from './api-fixture.ts';

/** Token reads: fresh tokens, refresh on read, one refresh across api processes, audit, and no secret anywhere. */
describe('the api: token reads', () => {
  let fx: ApiFixture;
  const registry = new Registry();
  const metrics = new TokenReadMetrics(registry);

  beforeAll(async () => {
    fx = await apiFixture();
  });
  afterAll(async () => {
    await fx?.close();
  });

  async function connect(expiresIn: number, ownerId: string) {
    const grant = fx.acme.issue({ expiresIn });
    const { connectionId } = await fx.stack.evergreen.enqueueConnection({
      ownerId,
      provider: 'acme',
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      expiresIn,
      scopes: ['profile'],
    });
    return { grant, connectionId };
  }

  it('answers a fresh token as it is, with no-store, and counts and logs the read by key id', async () => {
    const app = fx.api({ tokenReads: metrics });
    const { grant, connectionId } = await connect(3600, 'fresh-1');
    const res = await app.inject({
      method: 'GET',
      url: `/v1/connections/${connectionId}/token`,
      headers: auth(KEYS.tokens),
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toEqual({
      type: 'bearer',
      accessToken: grant.accessToken,
      tokenType: 'Bearer',
      expiresAt: expect.any(String),
      scopes: ['profile'],
      provider: 'acme',
      send: { in: 'header', name: 'Authorization', value: `Bearer ${grant.accessToken}` },
    });
    expect(Date.parse(body.expiresAt) - Date.now()).toBeGreaterThan(3500_000);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(fx.acme.requests).toHaveLength(0);

    const missing = await app.inject({ method: 'GET', url: '/v1/connections/nope/token', headers: auth(KEYS.tokens) });
    expect(missing.statusCode).toBe(404);

    const text = await registry.metrics();
    expect(text).toContain('evergreen_api_token_reads_total{key_id="k-tokens",outcome="ok"} 1');
    expect(text).toContain('evergreen_api_token_reads_total{key_id="k-tokens",outcome="ERR_CONNECTION_NOT_FOUND"} 1');
    expect(text).not.toContain(connectionId);
    const lines = fx.stack.logs.events('token read');
    expect(lines).toContainEqual(expect.objectContaining({ key: 'k-tokens', connection: connectionId, outcome: 'ok' }));
    expect(lines).toContainEqual(
      expect.objectContaining({ key: 'k-tokens', connection: 'nope', outcome: 'ERR_CONNECTION_NOT_FOUND' }),
    );
  });

  it('refreshes a token that would not last minValiditySeconds before answering it', async () => {
    const app = fx.api();
    const { grant, connectionId } = await connect(60, 'expiring-1');
    const before = fx.acme.requests.length;
    const res = await app.inject({
      method: 'GET',
      url: `/v1/connections/${connectionId}/token?minValiditySeconds=300`,
      headers: auth(KEYS.tokens),
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(fx.acme.requests.length - before).toBe(1);
    expect(body.accessToken).not.toBe(grant.accessToken);
    expect(body.accessToken).toBe(fx.acme.grant(grant.grantId)!.currentAccessToken);
    expect(Date.parse(body.expiresAt) - Date.now()).toBeGreaterThan(300_000);
  });

  it('two api processes reading one expiring token at once make one refresh at the provider', async () => {
    const one = fx.api();
    const second = await fx.secondStack();
    const two = fx.api({ parts: second.parts, logger: second.parts.log.child({ component: 'api' }) });
    // Slow answers, so the two reads overlap the refresh in flight.
    fx.acme.injectFaults([{ kind: 'delay', ms: 300 }]);
    const { grant, connectionId } = await connect(60, 'race-1');
    const before = fx.acme.requests.length;
    const read = (app: typeof one) =>
      app.inject({
        method: 'GET',
        url: `/v1/connections/${connectionId}/token?minValiditySeconds=300`,
        headers: auth(KEYS.tokens),
      });
    const answers = await Promise.all([read(one), read(two), read(one), read(two)]);
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 200]);
    const tokens = new Set(answers.map((a) => a.json().accessToken));
    expect(tokens.size).toBe(1);
    expect(fx.acme.requests.length - before).toBe(1);
    expect([...tokens][0]).toBe(fx.acme.grant(grant.grantId)!.currentAccessToken);
    expect(fx.acme.reuseCount()).toBe(0);
  });

  it('never puts a token, a key or a problem body secret in a log line', async () => {
    const app = fx.api({ tokenReads: metrics });
    const { connectionId } = await connect(60, 'secrets-1');
    // Reads, refusals and failures of every kind, to give the logs every chance.
    for (const key of [KEYS.full, KEYS.read, KEYS.acme, 'evg_wrong_key_value_0123456789']) {
      await app.inject({
        method: 'GET',
        url: `/v1/connections/${connectionId}/token?minValiditySeconds=300`,
        headers: auth(key),
      });
    }
    await app.inject({
      method: 'POST',
      url: '/v1/connections',
      headers: auth(KEYS.full),
      payload: { ownerId: 'secrets-2', provider: 'acme', accessToken: 'at-secret-in-body-0123', extra: 'x' },
    });
    await until(() => fx.stack.logs.events('token read').length >= 4, { what: 'the token read lines' });
    const logs = fx.stack.logs.text;
    for (const key of Object.values(KEYS)) expect(logs).not.toContain(key);
    expect(logs).not.toContain('evg_wrong_key_value');
    expect(logs).not.toContain('at-secret-in-body-0123');
    for (const token of fx.acme.allIssuedTokens()) expect(logs).not.toContain(token);
    expect(await registry.metrics()).not.toContain(connectionId);
  });

  it('serves its OpenAPI 3.1 document without a key, valid under the OpenAPI schema', async () => {
    const app = fx.api();
    const res = await app.inject({ method: 'GET', url: '/v1/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/v1/connect/callback',
      '/v1/connect/sessions',
      '/v1/connections',
      '/v1/connections/batch',
      '/v1/connections/{id}',
      '/v1/connections/{id}/refresh',
      '/v1/connections/{id}/token',
      '/v1/tokens',
    ]);
    const create = doc.paths['/v1/connections'].post;
    expect(Object.keys(create.requestBody.content['application/json'].schema.properties)).toEqual(
      expect.arrayContaining(['ownerId', 'provider', 'accessToken', 'refreshToken', 'expiresIn', 'metadata']),
    );
    expect(Object.keys(create.responses).sort()).toEqual(['200', '201', '400', '401', '403', '429']);
    expect(create.responses['400'].content).toHaveProperty('application/problem+json');
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('serves a docs page without a key, from its own assets only', async () => {
    const app = fx.api();
    const html = await app.inject({ method: 'GET', url: '/v1/docs' });
    expect(html.statusCode).toBe(200);
    expect(html.headers['content-type']).toMatch(/text\/html/);
    const sources = [...html.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(source, source).not.toMatch(/^(https?:)?\/\//);
    const csp = String(html.headers['content-security-policy']);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/https:|swagger\.io/);
    expect(html.headers['x-content-type-options']).toBe('nosniff');
    for (const source of sources) {
      expect((await app.inject({ method: 'GET', url: source })).statusCode, source).toBe(200);
    }
    // The page asks for the document next to it.
    const init = await app.inject({ method: 'GET', url: '/v1/docs/static/swagger-initializer.js' });
    expect(init.body).toMatch(/url: ?resolveUrl\(['"]\.\/json['"]\)|\/v1\/docs\/json/);
    // The document it shows, and only that route family, is public: the rest still wants a key.
    expect((await app.inject({ method: 'GET', url: '/v1/docs/json' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/v1/connections' })).statusCode).toBe(401);
  });
});
