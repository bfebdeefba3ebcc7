import { generateKeyPairSync } from 'node:crypto';
import { parseProviderEntry, type ProviderDefinition, type ProviderEntry } from '@evergreen/core';
import { decodeJwt, decodeProtectedHeader, importSPKI, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { buildCheckRequest } from '../src/check-request.ts';
import { signAppJwt, signGrantAssertion } from '../src/grant-assertion.ts';
import { ACCESS_TOKEN_TYPE, buildTokenRequest, JWT_BEARER_GRANT, TOKEN_EXCHANGE_GRANT } from '../src/token-request.ts';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const RSA_PKCS8 = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const RSA_PKCS1 = rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const RSA_SPKI = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const NOW = Date.parse('2026-03-01T12:00:00Z');

function provider(entry: Partial<ProviderEntry>): ProviderDefinition {
  const result = parseProviderEntry({ id: 'acme', tokenUrl: 'https://auth.example.com/token', ...entry });
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.provider;
}
const params = (body: string) => Object.fromEntries(new URLSearchParams(body));

describe('token requests of the credential grants', () => {
  it('jwt_bearer (RFC 7523 §2.1): the grant URN and the assertion; scopes in the request by default', () => {
    const p = provider({ grant: 'jwt_bearer', clientAuth: 'none' });
    const { headers, body } = buildTokenRequest(p, { grantAssertion: 'a.b.c', scopes: ['read', 'write'] });
    expect(params(body)).toEqual({ grant_type: JWT_BEARER_GRANT, assertion: 'a.b.c', scope: 'read write' });
    expect(headers.authorization).toBeUndefined();
  });

  it('jwt_bearer with the scopes as a claim (Google) or nowhere (Salesforce) sends no scope parameter', () => {
    for (const assertionScope of ['claim', 'none'] as const) {
      const p = provider({ grant: 'jwt_bearer', clientAuth: 'none', assertionScope });
      expect(params(buildTokenRequest(p, { grantAssertion: 'a.b.c', scopes: ['x'] }).body)).toEqual({
        grant_type: JWT_BEARER_GRANT,
        assertion: 'a.b.c',
      });
    }
  });

  it('token_exchange (RFC 8693 §2.1): the subject token and its type (access_token by default), client auth', () => {
    const p = provider({
      grant: 'token_exchange',
      clientId: 'c',
      clientSecret: 's',
      request: { params: { audience: 'api' } },
    });
    const built = buildTokenRequest(p, { credentials: { subjectToken: 'st_1' }, scopes: [] });
    expect(params(built.body)).toEqual({
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: 'st_1',
      subject_token_type: ACCESS_TOKEN_TYPE,
      audience: 'api',
    });
    expect(built.headers.authorization).toMatch(/^Basic /);
    const typed = buildTokenRequest(p, {
      credentials: { subjectToken: 'id_1', subjectTokenType: 'urn:ietf:params:oauth:token-type:id_token' },
      scopes: [],
    });
    expect(params(typed.body).subject_token_type).toBe('urn:ietf:params:oauth:token-type:id_token');
  });

  it("github_app_installation: the app JWT as a bearer token, GitHub's media type and API version, no body", () => {
    const p = provider({
      grant: 'github_app_installation',
      tokenUrl: 'https://api.github.com/app/installations/{installation_id}/access_tokens',
      tokenUrlHosts: ['api.github.com'],
      clientAuth: 'none',
    });
    expect(buildTokenRequest(p, { grantAssertion: 'h.p.s', scopes: [] })).toEqual({
      headers: {
        accept: 'application/vnd.github+json',
        authorization: 'Bearer h.p.s',
        'x-github-api-version': '2022-11-28',
        'user-agent': 'evergreen-token-refresher',
      },
      body: '',
    });
  });
});

describe('grant assertions (jose)', () => {
  it('a jwt_bearer assertion: iss, sub, aud, scope claim, kid, two minutes, a fresh jti each time', async () => {
    const p = provider({ grant: 'jwt_bearer', clientAuth: 'none' });
    const credentials = { privateKey: RSA_PKCS8, keyId: 'k1', issuer: 'svc@x', subject: 'ada' };
    const first = await signGrantAssertion(p, credentials, { audience: 'https://aud', scope: 'a b' }, NOW);
    const second = await signGrantAssertion(p, credentials, { audience: 'https://aud' }, NOW);
    const { payload, protectedHeader } = await jwtVerify(first, await importSPKI(RSA_SPKI, 'RS256'), {
      currentDate: new Date(NOW),
      audience: 'https://aud',
      issuer: 'svc@x',
      subject: 'ada',
    });
    expect(protectedHeader).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'k1' });
    expect(payload.scope).toBe('a b');
    expect(payload.exp! - payload.iat!).toBe(120);
    expect(decodeJwt(second).jti).not.toBe(payload.jti);
    expect(decodeJwt(second).scope).toBeUndefined();
  });

  it('PS256 and ES256 assertions verify with the matching public key', async () => {
    const p = provider({ grant: 'jwt_bearer', clientAuth: 'none' });
    const ps = await signGrantAssertion(
      p,
      { privateKey: RSA_PKCS8, issuer: 'i', algorithm: 'PS256' },
      { audience: 'a' },
      NOW,
    );
    await expect(
      jwtVerify(ps, await importSPKI(RSA_SPKI, 'PS256'), { currentDate: new Date(NOW) }),
    ).resolves.toBeTruthy();
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const es = await signGrantAssertion(
      p,
      {
        privateKey: ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        issuer: 'i',
        algorithm: 'ES256',
      },
      { audience: 'a' },
      NOW,
    );
    const spki = ec.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await expect(jwtVerify(es, await importSPKI(spki, 'ES256'), { currentDate: new Date(NOW) })).resolves.toBeTruthy();
  });

  it('a GitHub app JWT: RS256 from a PKCS#1 key, iss the App id, iat 60 s back, exp within 10 minutes', async () => {
    const jwt = await signAppJwt(
      provider({ grant: 'github_app_installation', clientAuth: 'none' }),
      { appId: '42', privateKey: RSA_PKCS1 },
      NOW,
    );
    const { payload } = await jwtVerify(jwt, await importSPKI(RSA_SPKI, 'RS256'), { currentDate: new Date(NOW) });
    expect(decodeProtectedHeader(jwt).alg).toBe('RS256');
    expect(payload.iss).toBe('42');
    expect(payload.iat).toBe(NOW / 1000 - 60);
    expect(payload.exp! - NOW / 1000).toBeLessThanOrEqual(600);
    expect(payload.exp! - NOW / 1000).toBeGreaterThan(60);
  });

  it('no key to sign with throws, without quoting anything secret', async () => {
    const p = provider({ grant: 'jwt_bearer', clientAuth: 'none' });
    await expect(signGrantAssertion(p, { issuer: 'i' }, { audience: 'a' }, NOW)).rejects.toThrow(
      'no private key to sign the grant assertion with',
    );
  });
});

describe('credential checks', () => {
  const check = { url: 'https://api.example.com/me' };
  it('an API key in a prefixed header, or in the query; Basic in the Authorization header', () => {
    const header = provider({ grant: 'api_key', apiKey: { name: 'X-Api-Key', prefix: '' }, check });
    expect(buildCheckRequest({ ...header, check: header.check! }, check.url, 'k1')).toEqual({
      url: check.url,
      method: 'GET',
      headers: { accept: 'application/json', 'user-agent': 'evergreen-token-refresher', 'x-api-key': 'k1' },
    });
    const query = provider({
      grant: 'api_key',
      apiKey: { in: 'query', name: 'key' },
      check: { ...check, method: 'POST' },
    });
    expect(buildCheckRequest({ ...query, check: query.check! }, `${check.url}?v=1`, 'k 2')).toMatchObject({
      url: 'https://api.example.com/me?v=1&key=k+2',
      method: 'POST',
    });
    const basic = provider({ grant: 'basic', check });
    expect(buildCheckRequest({ ...basic, check: basic.check! }, check.url, 'YTpi').headers.authorization).toBe(
      'Basic YTpi',
    );
  });
});
