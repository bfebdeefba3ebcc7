import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FakeProvider } from '../src/index.ts';
import type { FakeProviderOptions } from '../src/index.ts';
import { providerStarter } from './provider-starter.ts';

const start = providerStarter();

const BASIC = `Basic ${Buffer.from('client-id:client-secret').toString('base64')}`;

interface PostOptions {
  /** Default: Basic with the default client. `none` sends no credentials. */
  auth?: 'basic' | 'none';
  json?: boolean;
  accept?: string;
  path?: string;
}

/** A POST to the token endpoint (or `path`) with exactly these body fields. */
function post(provider: FakeProvider, fields: Record<string, string>, options: PostOptions = {}): Promise<Response> {
  const headers: Record<string, string> = {
    'content-type': options.json ? 'application/json' : 'application/x-www-form-urlencoded',
  };
  if ((options.auth ?? 'basic') === 'basic') headers.authorization = BASIC;
  if (options.accept !== undefined) headers.accept = options.accept;
  const body = options.json ? JSON.stringify(fields) : new URLSearchParams(fields).toString();
  return fetch(options.path === undefined ? provider.tokenUrl : `${provider.url}${options.path}`, {
    method: 'POST',
    headers,
    body,
  });
}

function refresh(provider: FakeProvider, refreshToken: string, extra: Record<string, string> = {}): Promise<Response> {
  return post(provider, { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra });
}

async function okJson(response: Response): Promise<Record<string, unknown>> {
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

async function statusAndJson(response: Response): Promise<[number, unknown]> {
  return [response.status, await response.json()];
}

function decodeSegment(segment: string | undefined): Record<string, unknown> {
  return JSON.parse(Buffer.from(segment ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('rotation', () => {
  it("'alternate' rotates on every second refresh and keeps the token valid in between", async () => {
    const provider = await start({ rotation: 'alternate' });
    const grant = provider.issue();

    const first = await okJson(await refresh(provider, grant.refreshToken));
    expect(first).not.toHaveProperty('refresh_token');
    const second = await okJson(await refresh(provider, grant.refreshToken));
    expect(second.refresh_token).toMatch(/^rt_/);
    expect(second.refresh_token).not.toBe(grant.refreshToken);
    const third = await okJson(await refresh(provider, String(second.refresh_token)));
    expect(third).not.toHaveProperty('refresh_token');
    const fourth = await okJson(await refresh(provider, String(second.refresh_token)));
    expect(fourth.refresh_token).toMatch(/^rt_/);
    expect(provider.reuseCount()).toBe(0);

    // The token rotated away at the second refresh is now used: presenting it is reuse, as with 'always'.
    const reused = await refresh(provider, grant.refreshToken);
    expect(await statusAndJson(reused)).toEqual([400, { error: 'invalid_grant' }]);
    expect(provider.reuseCount()).toBe(1);
    expect(provider.grant(grant.grantId)).toMatchObject({ revoked: true, refreshCount: 4 });
  });

  it("'never' and the rotateRefreshTokens alias keep the refresh token; rotation wins over the alias", async () => {
    for (const options of [{ rotation: 'never' }, { rotateRefreshTokens: false }] as const) {
      const provider = await start(options);
      const grant = provider.issue();
      expect(await okJson(await refresh(provider, grant.refreshToken))).not.toHaveProperty('refresh_token');
      await okJson(await refresh(provider, grant.refreshToken));
      expect(provider.grant(grant.grantId)?.currentRefreshToken).toBe(grant.refreshToken);
    }

    const provider = await start({ rotateRefreshTokens: false, rotation: 'always' });
    const grant = provider.issue();
    const reply = await okJson(await refresh(provider, grant.refreshToken));
    expect(reply.refresh_token).not.toBe(grant.refreshToken);
  });

  it('echoRefreshToken repeats the unchanged token when a refresh does not rotate (HubSpot, Zendesk)', async () => {
    const never = await start({ rotation: 'never', echoRefreshToken: true });
    const a = never.issue();
    expect((await okJson(await refresh(never, a.refreshToken))).refresh_token).toBe(a.refreshToken);
    expect((await okJson(await refresh(never, a.refreshToken))).refresh_token).toBe(a.refreshToken);

    const alternate = await start({ rotation: 'alternate', echoRefreshToken: true });
    const b = alternate.issue();
    expect((await okJson(await refresh(alternate, b.refreshToken))).refresh_token).toBe(b.refreshToken);
    const rotated = (await okJson(await refresh(alternate, b.refreshToken))).refresh_token;
    expect(rotated).not.toBe(b.refreshToken);
    expect(alternate.grant(b.grantId)?.currentRefreshToken).toBe(rotated);
  });

  it('reuseGraceSeconds and revokeOnReuse keep working with the new rotation option', async () => {
    const provider = await start({ rotation: 'always', reuseGraceSeconds: 30, revokeOnReuse: false });
    const grant = provider.issue();
    const next = await okJson(await refresh(provider, grant.refreshToken));
    expect((await okJson(await refresh(provider, grant.refreshToken))).refresh_token).toBe(next.refresh_token);
    expect(provider.graceReuseCount()).toBe(1);
    await okJson(await refresh(provider, String(next.refresh_token)));
    expect((await refresh(provider, grant.refreshToken)).status).toBe(400);
    expect(provider.grant(grant.grantId)?.revoked).toBe(false);
  });
});

describe('field names', () => {
  it('serves a custom endpoint: {"refreshToken"} in, {"accessToken","refreshToken"} out, no grant type', async () => {
    const provider = await start({
      clientAuth: 'none',
      requestFields: { grantType: null, refreshToken: 'refreshToken' },
      responseFields: { accessToken: 'accessToken', refreshToken: 'refreshToken', expiresIn: null, tokenType: null },
    });
    const grant = provider.issue();
    const reply = await okJson(
      await post(provider, { refreshToken: grant.refreshToken }, { auth: 'none', json: true }),
    );
    expect(reply).toEqual({
      accessToken: expect.stringMatching(/^at_/),
      refreshToken: expect.stringMatching(/^rt_/),
    });
    expect(provider.isAccessTokenValid(String(reply.accessToken))).toBe(true);
    expect(provider.requests.at(-1)).toMatchObject({
      grantType: null,
      refreshTokenPresented: grant.refreshToken,
      grantId: grant.grantId,
      outcome: 'ok',
    });

    // The standard field name is not read, so the request lacks its refresh token.
    const standard = await post(provider, { refresh_token: String(reply.refreshToken) }, { auth: 'none' });
    expect(await statusAndJson(standard)).toEqual([400, { error: 'invalid_request' }]);
  });

  it('reads a renamed grant type field', async () => {
    const provider = await start({ requestFields: { grantType: 'grantType', refreshToken: 'token' } });
    const grant = provider.issue();
    await okJson(await post(provider, { grantType: 'refresh_token', token: grant.refreshToken }));
    const missing = await post(provider, { grant_type: 'refresh_token', token: grant.refreshToken });
    expect(await statusAndJson(missing)).toEqual([400, { error: 'invalid_request' }]);
    expect(provider.requests.map((r) => r.grantType)).toEqual(['refresh_token', null]);
  });

  it("clientAuth 'none' needs no credentials but refuses a client_id naming another client", async () => {
    const provider = await start({ clientAuth: 'none' });
    const grant = provider.issue();
    const reply = await okJson(
      await post(provider, { grant_type: 'refresh_token', refresh_token: grant.refreshToken }, { auth: 'none' }),
    );
    const other = await post(
      provider,
      { grant_type: 'refresh_token', refresh_token: String(reply.refresh_token), client_id: 'someone-else' },
      { auth: 'none' },
    );
    expect(await statusAndJson(other)).toEqual([401, { error: 'invalid_client' }]);
    await okJson(
      await post(
        provider,
        { grant_type: 'refresh_token', refresh_token: String(reply.refresh_token), client_id: 'client-id' },
        { auth: 'none' },
      ),
    );
  });
});

describe('success body quirks', () => {
  it('expiresInFormat sends a string (GitHub) or milliseconds', async () => {
    const asString = await start({ expiresInFormat: 'string', accessTokenLifetimeSeconds: 28800 });
    expect((await okJson(await refresh(asString, asString.issue().refreshToken))).expires_in).toBe('28800');
    const asMs = await start({ expiresInFormat: 'milliseconds', accessTokenLifetimeSeconds: 60 });
    expect((await okJson(await refresh(asMs, asMs.issue().refreshToken))).expires_in).toBe(60_000);
  });

  it('answers like Salesforce: no expiry, issued_at as epoch-ms string, extra fields', async () => {
    const provider = await start({
      rotation: 'never',
      responseFields: { expiresIn: null },
      issuedAt: 'epoch_ms_string',
      extraResponse: { instance_url: 'https://na1.example.com', signature: 'c2lnbmF0dXJl', id: 'https://x/id/1' },
    });
    const before = Date.now();
    const reply = await okJson(await refresh(provider, provider.issue().refreshToken));
    expect(reply).toEqual({
      access_token: expect.stringMatching(/^at_/),
      token_type: 'Bearer',
      issued_at: expect.stringMatching(/^\d{13}$/),
      instance_url: 'https://na1.example.com',
      signature: 'c2lnbmF0dXJl',
      id: 'https://x/id/1',
    });
    expect(Number(reply.issued_at)).toBeGreaterThanOrEqual(before);
    expect(Number(reply.issued_at)).toBeLessThanOrEqual(Date.now());
  });

  it('extraResponse is merged last, so it can override a standard field', async () => {
    const provider = await start({ extraResponse: { token_type: 'bearer', ok: true } });
    const reply = await okJson(await refresh(provider, provider.issue().refreshToken));
    expect(reply).toMatchObject({ token_type: 'bearer', ok: true, access_token: expect.stringMatching(/^at_/) });
  });

  it('refreshTokenExpiresIn accompanies every refresh token sent, and only then', async () => {
    const provider = await start({ refreshTokenExpiresIn: 15_811_200, rotation: 'alternate' });
    const grant = provider.issue();
    const first = await okJson(await refresh(provider, grant.refreshToken));
    expect(first).not.toHaveProperty('refresh_token_expires_in');
    const second = await okJson(await refresh(provider, grant.refreshToken));
    expect(second).toMatchObject({
      refresh_token: expect.stringMatching(/^rt_/),
      refresh_token_expires_in: 15_811_200,
    });

    const echoing = await start({ refreshTokenExpiresIn: 100, rotation: 'never', echoRefreshToken: true });
    const echoed = await okJson(await refresh(echoing, echoing.issue().refreshToken));
    expect(echoed.refresh_token_expires_in).toBe(100);
  });
});

describe('error styles', () => {
  it("'oauth' answers invalid_grant with invalidGrantStatus, faults included", async () => {
    const provider = await start({ invalidGrantStatus: 401 });
    const grant = provider.issue();
    expect(await statusAndJson(await refresh(provider, 'rt_unknown'))).toEqual([401, { error: 'invalid_grant' }]);
    provider.injectFaults([{ kind: 'invalid-grant' }]);
    expect(await statusAndJson(await refresh(provider, grant.refreshToken))).toEqual([401, { error: 'invalid_grant' }]);
    expect(provider.requests.map((r) => r.outcome)).toEqual(['unknown_token', 'fault']);
  });

  it("'github' answers 200 with bad_refresh_token and incorrect_client_credentials", async () => {
    const provider = await start({ errorStyle: 'github' });
    const grant = provider.issue();
    const badRefresh = {
      error: 'bad_refresh_token',
      error_description: 'The refresh token passed is incorrect or expired.',
    };
    expect(await statusAndJson(await refresh(provider, 'rt_unknown'))).toEqual([200, badRefresh]);

    const next = await okJson(await refresh(provider, grant.refreshToken));
    expect(await statusAndJson(await refresh(provider, grant.refreshToken))).toEqual([200, badRefresh]); // reused
    expect(await statusAndJson(await refresh(provider, String(next.refresh_token)))).toEqual([200, badRefresh]); // revoked

    provider.injectFaults([{ kind: 'invalid-grant' }]);
    expect(await statusAndJson(await refresh(provider, 'rt_any'))).toEqual([200, badRefresh]);

    const badClient = await post(
      provider,
      { grant_type: 'refresh_token', refresh_token: 'rt_any', client_id: 'client-id', client_secret: 'wrong' },
      { auth: 'none' },
    );
    expect(badClient.headers.get('www-authenticate')).toBeNull();
    expect(await statusAndJson(badClient)).toEqual([200, { error: 'incorrect_client_credentials' }]);
    expect(provider.requests.map((r) => [r.status, r.outcome])).toEqual([
      [200, 'unknown_token'],
      [200, 'ok'],
      [200, 'reused'],
      [200, 'revoked'],
      [200, 'fault'],
      [200, 'bad_client'],
    ]);
  });

  it("'slack' answers ok:false at 200 for errors and ok:true on success", async () => {
    const provider = await start({ errorStyle: 'slack' });
    const grant = provider.issue();
    const reply = await okJson(await refresh(provider, grant.refreshToken));
    expect(reply).toMatchObject({ ok: true, access_token: expect.stringMatching(/^at_/) });
    expect(await statusAndJson(await refresh(provider, grant.refreshToken))).toEqual([
      200,
      { ok: false, error: 'invalid_refresh_token' },
    ]);
    provider.injectFaults([{ kind: 'invalid-grant' }]);
    expect(await statusAndJson(await refresh(provider, 'rt_any'))).toEqual([
      200,
      { ok: false, error: 'invalid_refresh_token' },
    ]);
    const badClient = await post(provider, { grant_type: 'refresh_token', refresh_token: 'rt_any' }, { auth: 'none' });
    expect(await statusAndJson(badClient)).toEqual([200, { ok: false, error: 'invalid_client_id' }]);
  });
});

describe('responseFormat', () => {
  it("'form' answers form-urlencoded unless the client asks for JSON (GitHub)", async () => {
    const provider = await start({ responseFormat: 'form', expiresInFormat: 'string' });
    const grant = provider.issue();

    const plain = await refresh(provider, grant.refreshToken);
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toMatch(/^application\/x-www-form-urlencoded/);
    const form = new URLSearchParams(await plain.text());
    expect(form.get('access_token')).toMatch(/^at_/);
    expect(form.get('expires_in')).toBe('3600');
    const rotated = form.get('refresh_token') ?? '';
    expect(rotated).toMatch(/^rt_/);

    const wildcard = await post(provider, { grant_type: 'refresh_token', refresh_token: 'rt_nope' }, { accept: '*/*' });
    expect(wildcard.status).toBe(400);
    expect(wildcard.headers.get('content-type')).toMatch(/^application\/x-www-form-urlencoded/);
    expect(await wildcard.text()).toBe('error=invalid_grant');

    const json = await post(
      provider,
      { grant_type: 'refresh_token', refresh_token: rotated },
      { accept: 'text/html, Application/JSON;q=0.9' },
    );
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await okJson(json)).toMatchObject({ access_token: expect.stringMatching(/^at_/), expires_in: '3600' });
  });

  it('renders GitHub-style errors as a form too', async () => {
    const provider = await start({ responseFormat: 'form', errorStyle: 'github' });
    const response = await refresh(provider, 'rt_nope');
    expect(response.status).toBe(200);
    expect(Object.fromEntries(new URLSearchParams(await response.text()))).toEqual({
      error: 'bad_refresh_token',
      error_description: 'The refresh token passed is incorrect or expired.',
    });
  });
});

describe('requireScope', () => {
  it('refuses a refresh without scope and records the scope presented (Microsoft)', async () => {
    const provider = await start({ requireScope: true });
    const grant = provider.issue();
    expect(await statusAndJson(await refresh(provider, grant.refreshToken))).toEqual([
      400,
      { error: 'invalid_request' },
    ]);
    expect(await statusAndJson(await refresh(provider, grant.refreshToken, { scope: '' }))).toEqual([
      400,
      { error: 'invalid_request' },
    ]);
    await okJson(await refresh(provider, grant.refreshToken, { scope: 'offline_access User.Read' }));
    expect(provider.requests.map((r) => [r.scope, r.outcome])).toEqual([
      [null, 'bad_request'],
      [null, 'bad_request'],
      ['offline_access User.Read', 'ok'],
    ]);
    // Refused before the token was looked at: nothing rotated.
    expect(provider.grant(grant.grantId)?.refreshCount).toBe(1);
  });
});

describe('requiredParams and envelope', () => {
  it('refuses a refresh without the required parameter, then nests the answer under its key (Withings)', async () => {
    const provider = await start({
      requiredParams: { action: 'requesttoken' },
      envelope: { key: 'body', fields: { status: 0 } },
      accessTokenLifetimeSeconds: 10_800,
    });
    const grant = provider.issue();
    expect(await statusAndJson(await refresh(provider, grant.refreshToken))).toEqual([
      400,
      { error: 'invalid_request' },
    ]);
    expect(await statusAndJson(await refresh(provider, grant.refreshToken, { action: 'getmeas' }))).toEqual([
      400,
      { error: 'invalid_request' },
    ]);
    const reply = await okJson(await refresh(provider, grant.refreshToken, { action: 'requesttoken' }));
    expect(reply).toEqual({
      status: 0,
      body: {
        access_token: expect.stringMatching(/^at_/),
        token_type: 'Bearer',
        expires_in: 10_800,
        refresh_token: expect.stringMatching(/^rt_/),
      },
    });
  });

  it('refuses a nameless envelope or a non-string required value at start', async () => {
    await expect(FakeProvider.start({ envelope: { key: '' } })).rejects.toThrow(/envelope\.key/);
    await expect(FakeProvider.start({ requiredParams: { action: 1 as unknown as string } })).rejects.toThrow(
      /requiredParams\.action/,
    );
  });
});

describe('other grants', () => {
  it('client_credentials answers an access token with expires_in and no refresh token', async () => {
    const provider = await start({ clientCredentials: true, accessTokenLifetimeSeconds: 300 });
    const reply = await okJson(await post(provider, { grant_type: 'client_credentials', scope: 'read' }));
    expect(reply).toEqual({
      access_token: expect.stringMatching(/^at_/),
      token_type: 'Bearer',
      expires_in: 300,
      scope: 'read',
    });
    expect(provider.isAccessTokenValid(String(reply.access_token))).toBe(true);
    expect(provider.allIssuedTokens()).toContain(reply.access_token);
    const badClient = await post(provider, { grant_type: 'client_credentials' }, { auth: 'none' });
    expect(await statusAndJson(badClient)).toEqual([401, { error: 'invalid_client' }]);
    expect(provider.requests.map((r) => [r.grantType, r.grantId, r.outcome])).toEqual([
      ['client_credentials', null, 'ok'],
      ['client_credentials', null, 'bad_client'],
    ]);

    const disabled = await start();
    expect(await statusAndJson(await post(disabled, { grant_type: 'client_credentials' }))).toEqual([
      400,
      { error: 'unsupported_grant_type' },
    ]);
  });

  it('password answers an access token only by default, and refuses a wrong password', async () => {
    const provider = await start({ passwordUsers: { alice: 'wonderland' } });
    const reply = await okJson(
      await post(provider, { grant_type: 'password', username: 'alice', password: 'wonderland' }),
    );
    expect(reply).toEqual({ access_token: expect.stringMatching(/^at_/), token_type: 'Bearer', expires_in: 3600 });
    expect(provider.isAccessTokenValid(String(reply.access_token))).toBe(true);

    for (const [username, password] of [
      ['alice', 'nope'],
      ['bob', 'wonderland'],
      ['constructor', 'x'],
    ]) {
      const wrong = await post(provider, {
        grant_type: 'password',
        username: username ?? '',
        password: password ?? '',
      });
      expect(await statusAndJson(wrong)).toEqual([400, { error: 'invalid_grant' }]);
    }
    const missing = await post(provider, { grant_type: 'password', username: 'alice' });
    expect(await statusAndJson(missing)).toEqual([400, { error: 'invalid_request' }]);
    expect(provider.requests.map((r) => r.outcome)).toEqual([
      'ok',
      'bad_client',
      'bad_client',
      'bad_client',
      'bad_request',
    ]);

    const noUsers = await start();
    const unsupported = await post(noUsers, { grant_type: 'password', username: 'a', password: 'b' });
    expect(await statusAndJson(unsupported)).toEqual([400, { error: 'unsupported_grant_type' }]);
  });

  it('password with passwordGrantIssuesRefreshToken creates a grant that refreshes normally', async () => {
    const provider = await start({
      passwordUsers: { alice: 'wonderland' },
      passwordGrantIssuesRefreshToken: true,
      errorStyle: 'slack',
    });
    const reply = await okJson(
      await post(provider, { grant_type: 'password', username: 'alice', password: 'wonderland', scope: 'chat' }),
    );
    expect(reply).toMatchObject({ ok: true, refresh_token: expect.stringMatching(/^rt_/), scope: 'chat' });
    const grantId = provider.grantIdForRefreshToken(String(reply.refresh_token));
    expect(grantId).toBeDefined();
    expect(provider.requests[0]).toMatchObject({ grantId, grantType: 'password', scope: 'chat', outcome: 'ok' });
    await okJson(await refresh(provider, String(reply.refresh_token)));
    expect(provider.grant(grantId ?? '')?.refreshCount).toBe(1);

    const wrong = await post(provider, { grant_type: 'password', username: 'alice', password: 'x' });
    expect(await statusAndJson(wrong)).toEqual([200, { ok: false, error: 'invalid_refresh_token' }]);
  });

  it('loginEndpoint answers a JWT whose exp is the only expiry, and 401 for wrong credentials', async () => {
    const provider = await start({
      accessTokenLifetimeSeconds: 900,
      passwordUsers: { 'a@example.com': 'pw' },
      loginEndpoint: { path: '/api/login', usernameField: 'email', passwordField: 'password', tokenField: 'token' },
    });
    const before = Math.floor(Date.now() / 1000);
    const response = await post(
      provider,
      { email: 'a@example.com', password: 'pw' },
      { auth: 'none', json: true, path: '/api/login' },
    );
    const reply = await okJson(response);
    expect(Object.keys(reply)).toEqual(['token']);
    const token = String(reply.token);
    const parts = token.split('.');
    expect(parts).toHaveLength(3);
    for (const part of parts) expect(part).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeSegment(parts[0])).toMatchObject({ alg: expect.any(String), typ: 'JWT' });
    const claims = decodeSegment(parts[1]);
    expect(claims).toEqual({ sub: 'a@example.com', exp: expect.any(Number) });
    expect(Number.isInteger(claims.exp)).toBe(true);
    expect(claims.exp).toBeGreaterThanOrEqual(before + 900);
    expect(claims.exp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 900);
    expect(provider.isAccessTokenValid(token)).toBe(true);
    expect(provider.allIssuedTokens()).toContain(token);

    const wrong = await post(
      provider,
      { email: 'a@example.com', password: 'nope' },
      { auth: 'none', json: true, path: '/api/login' },
    );
    expect(await statusAndJson(wrong)).toEqual([401, { message: 'invalid credentials' }]);

    // Faults apply here too; invalid-grant is the login's own refusal.
    provider.injectFaults([{ kind: 'status', status: 503 }, { kind: 'invalid-grant' }]);
    const login = () =>
      post(provider, { email: 'a@example.com', password: 'pw' }, { auth: 'none', json: true, path: '/api/login' });
    const unavailable = await login();
    expect(unavailable.status).toBe(503);
    await unavailable.body?.cancel();
    expect(await statusAndJson(await login())).toEqual([401, { message: 'invalid credentials' }]);

    expect(provider.requests.map((r) => [r.grantId, r.grantType, r.refreshTokenPresented, r.outcome])).toEqual([
      [null, null, null, 'ok'],
      [null, null, null, 'bad_client'],
      [null, null, null, 'fault'],
      [null, null, null, 'fault'],
    ]);
  });
});

interface AssertionClaims {
  iss?: unknown;
  sub?: unknown;
  aud?: unknown;
  exp?: unknown;
  jti?: unknown;
  nbf?: unknown;
}

/** A compact JWS signed by hand, the way a client library would build it. */
function assertion(
  alg: 'RS256' | 'ES256' | 'none',
  key: KeyObject,
  claims: AssertionClaims,
  options: { derSignature?: boolean; headerAlg?: string } = {},
): string {
  const header = Buffer.from(JSON.stringify({ alg: options.headerAlg ?? alg, typ: 'JWT' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const input = `${header}.${payload}`;
  if (alg === 'none') return `${input}.AAAA`;
  const signature =
    alg === 'RS256'
      ? sign('sha256', Buffer.from(input), key)
      : sign('sha256', Buffer.from(input), { key, dsaEncoding: options.derSignature ? 'der' : 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

function jwtBody(refreshToken: string, clientAssertion: string, extra: Record<string, string> = {}) {
  return {
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: clientAssertion,
    ...extra,
  };
}

describe('private_key_jwt (RFC 7523)', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();
  const later = () => Math.floor(Date.now() / 1000) + 60;

  it('accepts an RS256 assertion once and refuses its replay', async () => {
    const provider = await start({ privateKeyJwt: { publicKeyPem: pem(rsa.publicKey) } });
    const grant = provider.issue();
    const claims = { iss: 'client-id', sub: 'client-id', aud: provider.tokenUrl, exp: later(), jti: randomUUID() };
    const signed = assertion('RS256', rsa.privateKey, claims);
    const reply = await okJson(await post(provider, jwtBody(grant.refreshToken, signed), { auth: 'none' }));

    const replay = await post(provider, jwtBody(String(reply.refresh_token), signed), { auth: 'none' });
    expect(await statusAndJson(replay)).toEqual([401, { error: 'invalid_client' }]);
    expect(provider.requests.map((r) => r.outcome)).toEqual(['ok', 'bad_client']);
    // The refused request never reached the refresh token, so it is still good.
    const fresh = assertion('RS256', rsa.privateKey, { ...claims, jti: randomUUID() });
    await okJson(await post(provider, jwtBody(String(reply.refresh_token), fresh), { auth: 'none' }));
  });

  it('accepts ES256 with a raw r||s signature, an audience array and a configured audience', async () => {
    const audience = 'https://login.example.com/';
    const provider = await start({ privateKeyJwt: { publicKeyPem: pem(ec.publicKey), audience } });
    const grant = provider.issue();
    const claims = { iss: 'client-id', sub: 'client-id', aud: [audience, 'other'], exp: later(), jti: randomUUID() };
    await okJson(
      await post(provider, jwtBody(grant.refreshToken, assertion('ES256', ec.privateKey, claims)), { auth: 'none' }),
    );

    // The token URL is not the audience once one is configured, and DER-encoded signatures are not JWS.
    const wrongAud = { ...claims, aud: provider.tokenUrl, jti: randomUUID() };
    const der = { ...claims, jti: randomUUID() };
    for (const signed of [
      assertion('ES256', ec.privateKey, wrongAud),
      assertion('ES256', ec.privateKey, der, { derSignature: true }),
    ]) {
      const response = await post(provider, jwtBody(grant.refreshToken, signed), { auth: 'none' });
      expect(await statusAndJson(response)).toEqual([401, { error: 'invalid_client' }]);
    }
  });

  it('refuses every broken assertion with 401 invalid_client, and every other client auth', async () => {
    const provider = await start({ privateKeyJwt: { publicKeyPem: pem(rsa.publicKey) } });
    const grant = provider.issue();
    const good = () => ({
      iss: 'client-id',
      sub: 'client-id',
      aud: provider.tokenUrl,
      exp: later(),
      jti: randomUUID(),
    });
    const cases: [string, Record<string, string>, PostOptions?][] = [
      ['another key', jwtBody(grant.refreshToken, assertion('RS256', otherRsa.privateKey, good()))],
      ['alg none', jwtBody(grant.refreshToken, assertion('none', rsa.privateKey, good()))],
      [
        'RS256 signature claiming ES256',
        jwtBody(grant.refreshToken, assertion('RS256', rsa.privateKey, good(), { headerAlg: 'ES256' })),
      ],
      ['wrong iss', jwtBody(grant.refreshToken, assertion('RS256', rsa.privateKey, { ...good(), iss: 'x' }))],
      ['wrong sub', jwtBody(grant.refreshToken, assertion('RS256', rsa.privateKey, { ...good(), sub: 'x' }))],
      ['wrong aud', jwtBody(grant.refreshToken, assertion('RS256', rsa.privateKey, { ...good(), aud: provider.url }))],
      ['expired', jwtBody(grant.refreshToken, assertion('RS256', rsa.privateKey, { ...good(), exp: later() - 120 }))],
      ['no exp', jwtBody(grant.refreshToken, assertion('RS256', rsa.privateKey, { ...good(), exp: undefined }))],
      ['no jti', jwtBody(grant.refreshToken, assertion('RS256', rsa.privateKey, { ...good(), jti: undefined }))],
      ['future nbf', jwtBody(grant.refreshToken, assertion('RS256', rsa.privateKey, { ...good(), nbf: later() }))],
      [
        'wrong assertion type',
        jwtBody(grant.refreshToken, assertion('RS256', rsa.privateKey, good()), { client_assertion_type: 'x' }),
      ],
      ['not a JWT', jwtBody(grant.refreshToken, 'not-a-jwt')],
      [
        'client_id of another client',
        jwtBody(grant.refreshToken, assertion('RS256', rsa.privateKey, good()), { client_id: 'other' }),
      ],
      [
        'a client_secret as well',
        jwtBody(grant.refreshToken, assertion('RS256', rsa.privateKey, good()), {
          client_id: 'client-id',
          client_secret: 'client-secret',
        }),
      ],
      ['Basic instead', { grant_type: 'refresh_token', refresh_token: grant.refreshToken }, { auth: 'basic' }],
      ['no assertion', { grant_type: 'refresh_token', refresh_token: grant.refreshToken }],
    ];
    for (const [why, body, options] of cases) {
      const response = await post(provider, body, options ?? { auth: 'none' });
      expect([why, ...(await statusAndJson(response))]).toEqual([why, 401, { error: 'invalid_client' }]);
    }
    expect(provider.grant(grant.grantId)?.refreshCount).toBe(0);

    // A client_id naming the right client is fine next to the assertion.
    await okJson(
      await post(
        provider,
        jwtBody(grant.refreshToken, assertion('RS256', rsa.privateKey, good()), { client_id: 'client-id' }),
        { auth: 'none' },
      ),
    );
  });
});

describe('records and options', () => {
  it('records the grant type and scope of every request', async () => {
    const provider = await start();
    const grant = provider.issue();
    await okJson(await refresh(provider, grant.refreshToken, { scope: 'a b' }));
    const unsupported = await post(provider, { grant_type: 'authorization_code', code: 'c' });
    await unsupported.body?.cancel();
    const none = await post(provider, { refresh_token: 'rt_x' });
    await none.body?.cancel();
    expect(provider.requests.map((r) => [r.grantType, r.scope])).toEqual([
      ['refresh_token', 'a b'],
      ['authorization_code', null],
      [null, null],
    ]);
  });

  it('rejects nonsense options before listening', async () => {
    const bad: FakeProviderOptions[] = [
      { rotation: 'sometimes' as 'always' },
      { errorStyle: 'soap' as 'oauth' },
      { expiresInFormat: 'hours' as 'number' },
      { responseFormat: 'xml' as 'json' },
      { invalidGrantStatus: 42 },
      { refreshTokenExpiresIn: -1 },
      { requestFields: { refreshToken: '' } },
      { requestFields: { grantType: null }, clientCredentials: true },
      { loginEndpoint: { path: '/token', usernameField: 'u', passwordField: 'p', tokenField: 't' } },
      { loginEndpoint: { path: 'login', usernameField: 'u', passwordField: 'p', tokenField: 't' } },
      { privateKeyJwt: { publicKeyPem: 'not a key' } },
      {
        privateKeyJwt: {
          publicKeyPem: generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        },
      },
    ];
    for (const options of bad) await expect(FakeProvider.start(options)).rejects.toThrow(RangeError);
  });
});

describe('forgetting a refresh token', () => {
  it('answers invalid_grant for it, and the token it replaced is current again', async () => {
    const provider = await FakeProvider.start();
    try {
      const grant = provider.issue();
      const refresh = (token: string, path = '/token') =>
        fetch(`${provider.url}${path}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: `Basic ${Buffer.from('client-id:client-secret').toString('base64')}`,
          },
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }).toString(),
        });
      const rotated = (await (await refresh(grant.refreshToken, '/tenant-x/oauth2/v2.0/token')).json()) as {
        refresh_token: string;
      };
      provider.forgetRefreshToken(rotated.refresh_token);
      expect((await refresh(rotated.refresh_token)).status).toBe(400);
      expect(provider.grant(grant.grantId)!.currentRefreshToken).toBe(grant.refreshToken);
      expect((await refresh(grant.refreshToken)).status).toBe(200);
      expect(provider.reuseCount()).toBe(0);
      expect(provider.graceReuseCount()).toBe(0);
    } finally {
      await provider.close();
    }
  });
});
