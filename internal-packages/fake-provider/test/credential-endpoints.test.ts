import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { providerStarter } from './provider-starter.ts';

const start = providerStarter();
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PUBLIC_PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** An RS256 JWT signed with node:crypto alone, so the fake is checked independently of the client's jose. */
function jwt(claims: Record<string, unknown>, key = privateKey): string {
  const input = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}
const now = () => Math.floor(Date.now() / 1000);
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

describe('the JWT bearer grant', () => {
  it('answers an access token for a good assertion, and invalid_grant for a replayed jti, a wrong key or aud', async () => {
    const provider = await start({ clientAuth: 'none', jwtBearer: { publicKeyPem: PUBLIC_PEM, issuer: 'svc' } });
    const claims = { iss: 'svc', aud: provider.tokenUrl, exp: now() + 60, jti: randomUUID(), scope: 'a b' };
    const post = (assertion: string) =>
      fetch(provider.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: JWT_BEARER, assertion }).toString(),
      });
    const ok = await post(jwt(claims));
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { access_token: string; scope: string };
    expect(provider.isAccessTokenValid(body.access_token)).toBe(true);
    expect(body.scope).toBe('a b');
    for (const bad of [
      jwt(claims), // the same jti again
      jwt({ ...claims, jti: randomUUID() }, other),
      jwt({ ...claims, jti: randomUUID(), aud: 'https://elsewhere' }),
      jwt({ ...claims, jti: randomUUID(), exp: now() - 1 }),
    ]) {
      const refused = await post(bad);
      expect(refused.status).toBe(400);
      expect(await refused.json()).toEqual({ error: 'invalid_grant' });
    }
    expect(provider.credentialEndpoints.assertions).toHaveLength(5);
  });
});

describe("GitHub's installation token endpoint", () => {
  const path = (id: string) => `/app/installations/${id}/access_tokens`;
  it('201 with a one-hour token for a good app JWT; 401 for a JWT too long-lived or badly signed; 404 once removed', async () => {
    const provider = await start({ githubApp: { appId: '42', publicKeyPem: PUBLIC_PEM, installations: ['7'] } });
    const post = (token: string, id = '7') =>
      fetch(`${provider.url}${path(id)}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    const good = { iss: '42', iat: now() - 60, exp: now() + 540 };
    const ok = await post(jwt(good));
    expect(ok.status).toBe(201);
    const body = (await ok.json()) as { token: string; expires_at: string };
    expect(Date.parse(body.expires_at) - Date.now()).toBeGreaterThan(3500_000);
    expect((await post(jwt({ ...good, exp: now() + 3600 }))).status).toBe(401);
    expect((await post(jwt(good, other))).status).toBe(401);
    expect((await post(jwt({ ...good, iss: '43' }))).status).toBe(401);
    expect((await post(jwt(good), '8')).status).toBe(404);
    provider.credentialEndpoints.removeInstallation('7');
    expect((await post(jwt(good))).status).toBe(404);
  });
});

describe('the credential check', () => {
  it('200 for a known key in its header, the refused status once revoked; Basic logins too', async () => {
    const provider = await start({
      credentialCheck: {
        apiKeys: ['k1'],
        header: 'authorization',
        prefix: 'Token ',
        basicUsers: { ann: 'pw' },
        refusedStatus: 403,
      },
    });
    const check = (authorization: string) => fetch(`${provider.url}/check`, { headers: { authorization } });
    expect((await check('Token k1')).status).toBe(200);
    expect((await check('Token k2')).status).toBe(403);
    expect((await check(`Basic ${Buffer.from('ann:pw').toString('base64')}`)).status).toBe(200);
    expect((await check(`Basic ${Buffer.from('ann:no').toString('base64')}`)).status).toBe(403);
    provider.credentialEndpoints.revokeApiKey('k1');
    expect((await check('Token k1')).status).toBe(403);
  });

  it('reads the key from a query parameter when told to', async () => {
    const provider = await start({ credentialCheck: { apiKeys: ['k1'], query: 'api_key' } });
    expect((await fetch(`${provider.url}/check?api_key=k1`)).status).toBe(200);
    expect((await fetch(`${provider.url}/check?api_key=k2`)).status).toBe(401);
  });
});

describe('token exchange', () => {
  it('exchanges a known subject token, refuses it once revoked', async () => {
    const provider = await start({ clientAuth: 'none', tokenExchange: { subjectTokens: ['st1'] } });
    const post = () =>
      fetch(provider.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
          subject_token: 'st1',
          subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        }).toString(),
      });
    expect((await post()).status).toBe(200);
    provider.credentialEndpoints.revokeSubjectToken('st1');
    const refused = await post();
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: 'invalid_grant' });
  });
});
