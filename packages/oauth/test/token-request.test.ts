import { generateKeyPairSync } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { parseProviderEntry, type ProviderDefinition, type ProviderEntry } from '@evergreen/core';
import { basicCredentials, buildTokenRequest, CLIENT_ASSERTION_TYPE } from '../src/token-request.ts';

/** Real PKCS#8 keys: configuration checks that a private_key_jwt key can sign. */
const RSA_PEM = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

function provider(entry: Partial<ProviderEntry> = {}): ProviderDefinition {
  const result = parseProviderEntry({
    id: 'acme',
    tokenUrl: 'https://auth.acme.example/oauth/token',
    clientId: 'acme-client',
    clientSecret: 'acme-secret',
    ...entry,
  });
  if (!result.ok) throw new Error(`bad test provider: ${JSON.stringify(result.issues)}`);
  return result.provider;
}

/** RFC 6749 §2.3.1 read back the way a server does: base64, split at the first ':', form-urldecode each half. */
function decodeBasic(header: string): { raw: string; id: string; secret: string } {
  expect(header.startsWith('Basic ')).toBe(true);
  const raw = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
  const colon = raw.indexOf(':');
  const formDecode = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '));
  return { raw, id: formDecode(raw.slice(0, colon)), secret: formDecode(raw.slice(colon + 1)) };
}

const params = (body: string) => Object.fromEntries(new URLSearchParams(body));
const REFRESH = 'rt_abc+/= &x';
const refresh = (p: ProviderDefinition, scopes: string[] = []) =>
  buildTokenRequest(p, { refreshToken: REFRESH, scopes });

describe('basicCredentials', () => {
  it('encodes plain credentials as base64(id:secret)', () => {
    expect(basicCredentials('client', 'secret')).toBe(`Basic ${Buffer.from('client:secret').toString('base64')}`);
  });

  it("form-urlencodes id and secret before base64 (RFC 6749 §2.3.1): ':', '+', ' ' and non-ASCII", () => {
    const header = basicCredentials('my:client+1 é', 'p:a+s s/é%ü');
    const { raw, id, secret } = decodeBasic(header);
    expect(raw).toBe('my%3Aclient%2B1+%C3%A9:p%3Aa%2Bs+s%2F%C3%A9%25%C3%BC');
    expect(id).toBe('my:client+1 é');
    expect(secret).toBe('p:a+s s/é%ü');
  });

  it('keeps the separator unambiguous when the id contains a colon', () => {
    const { raw } = decodeBasic(basicCredentials('a:b', 'c'));
    expect(raw.split(':')).toEqual(['a%3Ab', 'c']);
  });

  it('produces an ASCII-only header even for non-ASCII credentials', () => {
    expect(basicCredentials('ünï', 'cødé🔑')).toMatch(/^Basic [A-Za-z0-9+/=]+$/);
  });
});

describe('buildTokenRequest', () => {
  describe('the refresh_token grant (RFC 6749 §6)', () => {
    it('sends the refresh grant as a form body', () => {
      const { headers, body } = refresh(provider());
      expect(headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(headers.accept).toBe('application/json');
      expect(headers['user-agent']).toBe('evergreen-token-refresher');
      expect(params(body)).toEqual({ grant_type: 'refresh_token', refresh_token: REFRESH });
    });

    it('form-encodes the refresh token so "+", "/", "=", "&" and spaces survive', () => {
      expect(refresh(provider()).body).toBe('grant_type=refresh_token&refresh_token=rt_abc%2B%2F%3D+%26x');
    });

    it('sends JSON when the provider wants JSON', () => {
      const { headers, body } = refresh(provider({ clientAuth: 'client_secret_post', request: { format: 'json' } }));
      expect(headers['content-type']).toBe('application/json');
      expect(headers.accept).toBe('application/json');
      expect(JSON.parse(body)).toEqual({
        grant_type: 'refresh_token',
        refresh_token: REFRESH,
        client_id: 'acme-client',
        client_secret: 'acme-secret',
      });
    });

    it('a custom endpoint: no grant type, its own field name, JSON', () => {
      const custom = provider({
        clientAuth: 'none',
        clientId: undefined,
        clientSecret: undefined,
        request: { format: 'json', grantTypeField: null, refreshTokenField: 'refreshToken' },
      });
      const { headers, body } = refresh(custom);
      expect(headers).not.toHaveProperty('authorization');
      expect(headers['content-type']).toBe('application/json');
      expect(body).toBe(JSON.stringify({ refreshToken: REFRESH }));
    });

    it('a custom grant type field name', () => {
      expect(params(refresh(provider({ request: { grantTypeField: 'grantType' } })).body)).toEqual({
        grantType: 'refresh_token',
        refresh_token: REFRESH,
      });
    });

    it('sends no refresh token when there is none', () => {
      expect(params(buildTokenRequest(provider(), { scopes: [] }).body)).toEqual({ grant_type: 'refresh_token' });
    });
  });

  describe('the client_credentials grant (RFC 6749 §4.4)', () => {
    it("authenticates with the provider's client and sends no refresh token", () => {
      const p = provider({ grant: 'client_credentials' });
      const { headers, body } = buildTokenRequest(p, { refreshToken: 'stale', scopes: [] });
      expect(decodeBasic(headers.authorization as string)).toMatchObject({ id: 'acme-client', secret: 'acme-secret' });
      expect(params(body)).toEqual({ grant_type: 'client_credentials' });
    });

    it("authenticates with the connection's own client when it has one (basic)", () => {
      const p = provider({ grant: 'client_credentials' });
      const { headers, body } = buildTokenRequest(p, {
        credentials: { clientId: 'tenant:7', clientSecret: 's+cret é' },
        scopes: [],
      });
      expect(decodeBasic(headers.authorization as string)).toMatchObject({ id: 'tenant:7', secret: 's+cret é' });
      expect(body).not.toContain('acme');
    });

    it("authenticates with the connection's own client when it has one (post)", () => {
      const p = provider({ grant: 'client_credentials', clientAuth: 'client_secret_post' });
      const { headers, body } = buildTokenRequest(p, {
        credentials: { clientId: 'tenant-7', clientSecret: 'tenant-secret' },
        scopes: [],
      });
      expect(headers).not.toHaveProperty('authorization');
      expect(params(body)).toEqual({
        grant_type: 'client_credentials',
        client_id: 'tenant-7',
        client_secret: 'tenant-secret',
      });
    });

    it('works for a provider without a client of its own, from the connection alone', () => {
      const p = provider({ grant: 'client_credentials', clientAuth: 'client_secret_post' });
      const noClient = { ...p, clientId: null, clientSecret: null };
      expect(
        params(buildTokenRequest(noClient, { credentials: { clientId: 'c', clientSecret: 's' }, scopes: [] }).body),
      ).toEqual({ grant_type: 'client_credentials', client_id: 'c', client_secret: 's' });
    });

    it('sends the fixed scope with it', () => {
      const p = provider({ grant: 'client_credentials', scope: 'api.read api.write' });
      expect(params(buildTokenRequest(p, { scopes: [] }).body)).toEqual({
        grant_type: 'client_credentials',
        scope: 'api.read api.write',
      });
    });
  });

  describe('the password grant (RFC 6749 §4.3)', () => {
    it('sends username and password from the connection, and authenticates the client', () => {
      const p = provider({ grant: 'password' });
      const { headers, body } = buildTokenRequest(p, {
        credentials: { username: 'alice@example.com', password: 'p&ss=wörd +1' },
        refreshToken: 'ignored',
        scopes: [],
      });
      expect(decodeBasic(headers.authorization as string)).toMatchObject({ id: 'acme-client', secret: 'acme-secret' });
      expect(params(body)).toEqual({
        grant_type: 'password',
        username: 'alice@example.com',
        password: 'p&ss=wörd +1',
      });
    });

    it('the JSON login endpoint: its own field names, no grant type, no client', () => {
      const login = provider({
        grant: 'password',
        clientAuth: 'none',
        clientId: undefined,
        clientSecret: undefined,
        request: { format: 'json', grantTypeField: null, usernameField: 'email', passwordField: 'password' },
      });
      const { headers, body } = buildTokenRequest(login, {
        credentials: { username: 'alice@example.com', password: 'hunter2' },
        scopes: ['ignored'],
      });
      expect(headers).not.toHaveProperty('authorization');
      expect(headers['content-type']).toBe('application/json');
      expect(JSON.parse(body)).toEqual({ email: 'alice@example.com', password: 'hunter2' });
    });

    it('sends empty fields rather than crashing when the login is missing (the server refuses)', () => {
      expect(params(buildTokenRequest(provider({ grant: 'password' }), { scopes: [] }).body)).toEqual({
        grant_type: 'password',
        username: '',
        password: '',
      });
    });
  });

  describe('scope', () => {
    it('none (the default): no scope, whatever the connection has', () => {
      expect(params(refresh(provider(), ['openid', 'email']).body)).not.toHaveProperty('scope');
    });

    it('fixed (the scope shorthand): the configured scope', () => {
      expect(
        params(refresh(provider({ scope: 'openid email https://www.googleapis.com/auth/drive' })).body).scope,
      ).toBe('openid email https://www.googleapis.com/auth/drive');
    });

    it('fixed (request.scope and scopeValue), ignoring the connection scopes', () => {
      const p = provider({ request: { scope: 'fixed', scopeValue: 'read' } });
      expect(params(refresh(p, ['write']).body).scope).toBe('read');
    });

    it("connection: the connection's scopes joined by a space (Microsoft)", () => {
      const p = provider({ request: { scope: 'connection' } });
      expect(params(refresh(p, ['offline_access', 'https://graph.microsoft.com/Mail.Read']).body)).toEqual({
        grant_type: 'refresh_token',
        refresh_token: REFRESH,
        scope: 'offline_access https://graph.microsoft.com/Mail.Read',
      });
    });

    it('connection: no scope parameter when the connection has none', () => {
      expect(params(refresh(provider({ request: { scope: 'connection' } }), []).body)).not.toHaveProperty('scope');
    });
  });

  describe('client authentication', () => {
    it('client_secret_basic: credentials in the Authorization header only, never in the body', () => {
      const { headers, body } = refresh(provider({ clientId: 'my:client+1 é', clientSecret: 'p:a+s s/é%ü' }));
      expect(decodeBasic(headers.authorization as string)).toMatchObject({
        id: 'my:client+1 é',
        secret: 'p:a+s s/é%ü',
      });
      expect(params(body)).not.toHaveProperty('client_id');
      expect(params(body)).not.toHaveProperty('client_secret');
    });

    it('client_secret_post: client_id and client_secret in the body, no Authorization header', () => {
      const { headers, body } = refresh(
        provider({ clientAuth: 'client_secret_post', clientId: 'my:client+1 é', clientSecret: 'p:a+s s/é%ü' }),
      );
      expect(headers).not.toHaveProperty('authorization');
      expect(params(body)).toEqual({
        grant_type: 'refresh_token',
        refresh_token: REFRESH,
        client_id: 'my:client+1 é',
        client_secret: 'p:a+s s/é%ü',
      });
    });

    it('private_key_jwt: client_id, the assertion type and the given assertion; no secret, no Authorization', () => {
      const p = provider({ clientAuth: 'private_key_jwt', privateKey: RSA_PEM, clientSecret: 'should-not-leave' });
      const { headers, body } = buildTokenRequest(p, {
        refreshToken: REFRESH,
        scopes: [],
        clientAssertion: 'eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln',
      });
      expect(headers).not.toHaveProperty('authorization');
      expect(params(body)).toEqual({
        grant_type: 'refresh_token',
        refresh_token: REFRESH,
        client_id: 'acme-client',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: 'eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln',
      });
      expect(CLIENT_ASSERTION_TYPE).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      expect(JSON.stringify(headers) + body).not.toContain('should-not-leave');
    });

    it('private_key_jwt in a JSON request', () => {
      const p = provider({ clientAuth: 'private_key_jwt', privateKey: RSA_PEM, request: { format: 'json' } });
      expect(
        JSON.parse(buildTokenRequest(p, { refreshToken: 'r', scopes: [], clientAssertion: 'a.b.c' }).body),
      ).toEqual({
        grant_type: 'refresh_token',
        refresh_token: 'r',
        client_id: 'acme-client',
        client_assertion_type: CLIENT_ASSERTION_TYPE,
        client_assertion: 'a.b.c',
      });
    });

    it('none: client_id in the body, no secret anywhere, no Authorization header', () => {
      const { headers, body } = refresh(provider({ clientAuth: 'none', clientSecret: undefined }));
      expect(headers).not.toHaveProperty('authorization');
      expect(params(body)).toEqual({ grant_type: 'refresh_token', refresh_token: REFRESH, client_id: 'acme-client' });
    });

    it('none: no client_id when none is configured', () => {
      const { headers, body } = refresh(provider({ clientAuth: 'none', clientId: undefined, clientSecret: undefined }));
      expect(headers).not.toHaveProperty('authorization');
      expect(params(body)).toEqual({ grant_type: 'refresh_token', refresh_token: REFRESH });
    });

    it('none: a configured secret is still not sent', () => {
      const { headers, body } = refresh(provider({ clientAuth: 'none', clientSecret: 'should-not-leave' }));
      expect(JSON.stringify(headers) + body).not.toContain('should-not-leave');
    });
  });

  describe('extra params', () => {
    it('are sent with every request, as given', () => {
      const p = provider({ request: { params: { audience: 'https://api.acme.example', resource: 'r 1&2' } } });
      expect(params(refresh(p).body)).toEqual({
        audience: 'https://api.acme.example',
        resource: 'r 1&2',
        grant_type: 'refresh_token',
        refresh_token: REFRESH,
      });
    });

    it('cannot override the grant type or the refresh token', () => {
      const p = provider({ request: { params: { grant_type: 'password', refresh_token: 'fixed' } } });
      expect(params(refresh(p).body)).toEqual({ grant_type: 'refresh_token', refresh_token: REFRESH });
    });

    it('go into a JSON body too', () => {
      const p = provider({ request: { format: 'json', params: { audience: 'api' } } });
      expect(JSON.parse(refresh(p).body)).toEqual({
        audience: 'api',
        grant_type: 'refresh_token',
        refresh_token: REFRESH,
      });
    });
  });

  it('sends each parameter once (RFC 6749 §3.2: repeated parameters are invalid)', () => {
    for (const clientAuth of ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const) {
      const p = provider({
        clientAuth,
        privateKey: RSA_PEM,
        scope: 's',
        request: { params: { scope: 'x', client_id: 'y' } },
      });
      const { body } = buildTokenRequest(p, { refreshToken: REFRESH, scopes: [], clientAssertion: 'a.b.c' });
      const names = [...new URLSearchParams(body).keys()];
      expect(new Set(names).size).toBe(names.length);
    }
  });
});

describe('a connection with a client of its own', () => {
  it("never mixes its client id with the provider's secret", () => {
    const p = provider({
      grant: 'client_credentials',
      clientAuth: 'client_secret_post',
      clientId: 'provider-id',
      clientSecret: 'provider-secret',
    });
    const { body } = buildTokenRequest(p, { scopes: [], credentials: { clientId: 'own-id' } });
    const fields = new URLSearchParams(body);
    expect(fields.get('client_id')).toBe('own-id');
    expect(fields.get('client_secret')).toBe('');
    expect(body).not.toContain('provider-secret');
  });
});
