import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdTokenVerifier, readIdToken } from '../src/id-token.ts';

/** OpenID Connect Core §3.1.3.7 against a JWKS served on 127.0.0.1: each check fails on its own claim. */
describe('IdTokenVerifier', () => {
  const issuer = 'https://id.example.com';
  let server: Server;
  let jwksUri: string;
  let key: CryptoKey;
  let otherKey: CryptoKey;
  const verifier = new IdTokenVerifier({ timeoutMs: 2_000 });

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    key = pair.privateKey;
    otherKey = (await generateKeyPair('RS256')).privateKey;
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256' }] });
    server = createServer((_req, res) => res.setHeader('content-type', 'application/json').end(jwks));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUri = `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const token = (claims: Record<string, unknown> = {}, signWith: CryptoKey = key, expiresIn = '5m') =>
    new SignJWT({ nonce: 'n-1', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer((claims.iss as string) ?? issuer)
      .setAudience((claims.aud as string | string[]) ?? 'client-1')
      .setSubject('user-1')
      .setIssuedAt()
      .setExpirationTime(expiresIn)
      .sign(signWith);
  const expected = () => ({ issuer, clientId: 'client-1', nonce: 'n-1', jwksUri });

  it('accepts a token signed by the issuer for this client with this nonce', async () => {
    const checked = await verifier.verify(await token(), expected());
    expect(checked).toMatchObject({ ok: true, claims: { sub: 'user-1', iss: issuer } });
  });

  it.each([
    ['signature', async () => token({}, otherKey)],
    ['issuer', async () => token({ iss: 'https://other.example.com' })],
    ['audience', async () => token({ aud: 'client-2' })],
    ['audience', async () => token({ aud: ['client-1', 'client-2'] })], // several audiences and no azp
    ['expired', async () => token({}, key, '-2m')],
    ['nonce', async () => token({ nonce: 'n-2' })],
    ['malformed', async () => 'not.a.jwt'],
  ])('refuses a token whose %s is wrong', async (reason, make) => {
    expect(await verifier.verify(await make(), expected())).toEqual({ ok: false, reason });
  });

  it('says the JWKS was unavailable when nothing answers there', async () => {
    const checked = await verifier.verify(await token(), { ...expected(), jwksUri: 'http://127.0.0.1:9/jwks' });
    expect(checked).toEqual({ ok: false, reason: 'jwks_unavailable' });
  });
});

describe('readIdToken', () => {
  it('finds the id_token of a JSON or form answer, and nothing else', () => {
    expect(readIdToken('{"access_token":"a","id_token":"x.y.z"}')).toBe('x.y.z');
    expect(readIdToken('access_token=a&id_token=x.y.z')).toBe('x.y.z');
    expect(readIdToken('{"access_token":"a"}')).toBeNull();
    expect(readIdToken('{"id_token":7}')).toBeNull();
  });
});
