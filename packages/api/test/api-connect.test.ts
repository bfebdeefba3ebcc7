import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvergreen } from '@evergreen/sdk';
import { startStack, type Stack } from '@evergreen/test-support/stack';
import { apiFixture, auth, KEYS, type ApiFixture } from './api-fixture.ts';

/**
 * /v1/connect over real Postgres and Redis: who may start a session, what is refused and how, what the OpenAPI document
 * says. The whole flow, against a real authorization server in a browser, is test/connect-oidc.test.ts.
 */
describe('the connect routes', () => {
  let fx: ApiFixture;
  /** EVERGREEN_PUBLIC_URL unset: the sandbox's own environment. */
  let unconfigured: FastifyInstance;
  let configured: FastifyInstance;
  let stack: Stack;
  const returnTo = 'https://app.example.com/connected';

  beforeAll(async () => {
    fx = await apiFixture();
    unconfigured = fx.api();
    // The same schema and providers, with the connect variables: a second api process, configured.
    fx.sandbox.useProviders([
      { id: 'acme', tokenUrl: fx.acme.tokenUrl, authorizationUrl: `${fx.acme.url}/authorize` },
      { id: 'beta', tokenUrl: fx.beta.tokenUrl },
    ]);
    stack = await startStack(fx.sandbox, {
      env: {
        EVERGREEN_PUBLIC_URL: 'https://evergreen.example.com/',
        EVERGREEN_CONNECT_RETURN_URLS: 'https://app.example.com/connected',
      },
    });
    configured = fx.api({ parts: stack.parts, evergreen: createEvergreen({ parts: stack.parts }) });
  });
  afterAll(async () => {
    await stack?.close();
    await fx?.close();
  });

  const start = (app: FastifyInstance, payload: Record<string, unknown>, key: string = KEYS.full) =>
    app.inject({ method: 'POST', url: '/v1/connect/sessions', headers: auth(key), payload });
  const sessionCount = async () => (await fx.sandbox.sql`select count(*)::int as n from connect_sessions`)[0]!.n;

  it('answers a session: the authorization URL carries the client, the redirect URI, the state and an S256 challenge', async () => {
    const res = await start(configured, { ownerId: 'u-1', provider: 'acme', scopes: ['read', 'write'], returnTo });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['authorizationUrl', 'expiresAt', 'sessionId']);
    const url = new URL(body.authorizationUrl);
    expect(url.origin + url.pathname).toBe(`${fx.acme.url}/authorize`);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: 'client-id',
      redirect_uri: 'https://evergreen.example.com/v1/connect/callback',
      scope: 'read write',
      code_challenge_method: 'S256',
    });
    expect(url.searchParams.get('state')).toMatch(/^[\w-]{43}$/);
    // Neither the state nor the verifier is stored as such.
    const [row] = await fx.sandbox.sql`select state_hash, secrets from connect_sessions where id = ${body.sessionId}`;
    expect(row!.state_hash).not.toBe(url.searchParams.get('state'));
    expect(String(row!.secrets)).not.toContain('codeVerifier');
  });

  it('names EVERGREEN_PUBLIC_URL when it is missing (503), and stores nothing', async () => {
    const before = await sessionCount();
    const res = await start(unconfigured, { ownerId: 'u-1', provider: 'acme', returnTo });
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({
      code: 'ERR_CONNECT_NOT_CONFIGURED',
      errors: [{ field: 'EVERGREEN_PUBLIC_URL', reason: expect.stringContaining('/v1/connect/callback') }],
    });
    expect(await sessionCount()).toBe(before);
  });

  it('names the field of every bad input (400), and stores nothing', async () => {
    const before = await sessionCount();
    const cases: [Record<string, unknown>, string][] = [
      [{ ownerId: 'u', provider: 'nope', returnTo }, 'provider'],
      [{ ownerId: 'u', provider: 'beta', returnTo }, 'provider'],
      [{ ownerId: 'u', provider: 'acme', returnTo: 'https://evil.example.com/connected' }, 'returnTo'],
      [{ ownerId: 'u', provider: 'acme', returnTo: 'https://app.example.com/connected-elsewhere' }, 'returnTo'],
      [{ ownerId: 'u', provider: 'acme' }, 'returnTo'],
      [{ provider: 'acme', returnTo }, 'ownerId'],
      [{ ownerId: 'u', provider: 'acme', returnTo, scopes: 'read' }, 'scopes'],
    ];
    for (const [payload, field] of cases) {
      const res = await start(configured, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    expect(await sessionCount()).toBe(before);
  });

  it('refuses a connectionId of another owner', async () => {
    const { connectionId } = await fx.stack.connect(fx.acme, { ownerId: 'owner-a', provider: 'acme', expiresIn: 3600 });
    const res = await start(configured, { ownerId: 'owner-b', provider: 'acme', connectionId, returnTo });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([
      { field: 'connectionId', reason: 'names a connection of another owner or provider' },
    ]);
  });

  it("a reconnect keeps the connection's scopes and metadata unless the session names others", async () => {
    const { connectionId } = await fx.stack.connect(fx.acme, {
      ownerId: 'owner-k',
      provider: 'acme',
      expiresIn: 3600,
      scopes: ['files.read'],
      metadata: { team: 'blue' },
    });
    const res = await start(configured, { ownerId: 'owner-k', provider: 'acme', connectionId, returnTo });
    expect(res.statusCode).toBe(201);
    expect(new URL(res.json().authorizationUrl).searchParams.get('scope')).toBe('files.read');
    const [row] = await fx.sandbox
      .sql`select scopes, metadata from connect_sessions where id = ${res.json().sessionId}`;
    expect(row).toEqual({ scopes: ['files.read'], metadata: { team: 'blue' } });
  });

  it('needs connections:write, and a key confined to other providers is refused', async () => {
    expect((await start(configured, { ownerId: 'u', provider: 'acme', returnTo }, KEYS.read)).statusCode).toBe(403);
    expect((await start(configured, { ownerId: 'u', provider: 'beta', returnTo }, KEYS.acme)).statusCode).toBe(403);
    const res = await configured.inject({ method: 'POST', url: '/v1/connect/sessions', payload: {} });
    expect(res.statusCode).toBe(401);
  });

  it('serves the callback without a key: an unknown state is a page, and no redirect', async () => {
    const res = await configured.inject({ method: 'GET', url: '/v1/connect/callback?state=forged&code=x' });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.headers.location).toBeUndefined();
    expect(res.body).toContain('Unknown connect session');
    expect(res.body).not.toContain('forged');
    const none = await configured.inject({ method: 'GET', url: '/v1/connect/callback' });
    expect(none.statusCode).toBe(400);
  });

  it('an error redirect to a known session goes back to returnTo with error_code, never the provider text', async () => {
    const res = await start(configured, { ownerId: 'u-2', provider: 'acme', returnTo });
    const state = new URL(res.json().authorizationUrl).searchParams.get('state')!;
    const back = await configured.inject({
      method: 'GET',
      url: `/v1/connect/callback?state=${state}&error=server_error&error_description=${encodeURIComponent('<b>secret</b>')}&iss=x`,
    });
    expect(back.statusCode).toBe(303);
    const location = new URL(back.headers.location as string);
    expect(location.origin + location.pathname).toBe(returnTo);
    expect(location.searchParams.get('error_code')).toBe('provider_error');
    expect(back.headers.location).not.toContain('secret');
  });

  it('documents both routes in the OpenAPI document', async () => {
    const doc = (await configured.inject({ method: 'GET', url: '/v1/openapi.json' })).json();
    expect(doc.paths['/v1/connect/sessions'].post.requestBody).toBeDefined();
    expect(Object.keys(doc.paths['/v1/connect/sessions'].post.responses)).toContain('201');
    expect(doc.paths['/v1/connect/callback'].get.security).toEqual([]);
  });
});
