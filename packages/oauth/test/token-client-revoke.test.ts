import { freePort as closedPort } from '@evergreen/test-support/free-port';
import { afterEach, describe, expect, it } from 'vitest';
import { parseProviderEntry, type ProviderDefinition, type ProviderEntry } from '@evergreen/core';
import { FakeProvider } from '@evergreen/fake-provider';
import { TokenClient } from '../src/index.ts';

const started: FakeProvider[] = [];
const clients: TokenClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(started.splice(0).map((f) => f.close()));
});

async function fake(): Promise<FakeProvider> {
  const provider = await FakeProvider.start();
  started.push(provider);
  return provider;
}

function client(deadlineMs = 10_000): TokenClient {
  const c = new TokenClient({
    connectTimeoutMs: 2_000,
    headersTimeoutMs: 10_000,
    bodyTimeoutMs: 10_000,
    deadlineMs,
    maxResponseBytes: 64 * 1024,
  });
  clients.push(c);
  return c;
}

function definition(fakeProvider: { tokenUrl: string; revocationUrl: string }, patch: Partial<ProviderEntry> = {}) {
  const result = parseProviderEntry({
    id: 'fake',
    tokenUrl: fakeProvider.tokenUrl,
    revocationUrl: fakeProvider.revocationUrl,
    clientId: 'client-id',
    clientSecret: 'client-secret',
    ...patch,
  });
  if (!result.ok) throw new Error(`bad test provider: ${JSON.stringify(result.issues)}`);
  return result.provider as ProviderDefinition & { revocationUrl: string };
}

describe('TokenClient.revoke (RFC 7009) against a real server', () => {
  it("revokes a refresh token's grant, with the client authenticated as for a token request", async () => {
    const provider = await fake();
    const grant = provider.issue();
    for (const clientAuth of ['client_secret_basic', 'client_secret_post'] as const) {
      const p = definition(provider, { clientAuth });
      const outcome = await client().revoke(p, p.revocationUrl, {
        token: grant.refreshToken,
        tokenTypeHint: 'refresh_token',
      });
      expect(outcome).toEqual({ revoked: true });
    }
    expect(provider.grant(grant.grantId)?.revoked).toBe(true);
    expect(provider.revocations.map((r) => r.tokenTypeHint)).toEqual(['refresh_token', 'refresh_token']);
  });

  it('§2.2: a token the server does not know is answered 200, so counts as revoked', async () => {
    const provider = await fake();
    const p = definition(provider);
    const outcome = await client().revoke(p, p.revocationUrl, { token: 'unknown', tokenTypeHint: 'access_token' });
    expect(outcome).toEqual({ revoked: true });
    expect(provider.revocations[0]?.outcome).toBe('unknown_token');
  });

  it('a wrong client secret: not revoked, not retryable, and the grant lives', async () => {
    const provider = await fake();
    const grant = provider.issue();
    const p = definition(provider, { clientSecret: 'wrong' });
    const outcome = await client().revoke(p, p.revocationUrl, {
      token: grant.refreshToken,
      tokenTypeHint: 'refresh_token',
    });
    expect(outcome).toEqual({ revoked: false, retryable: false, status: 401, code: null });
    expect(provider.grant(grant.grantId)?.revoked).toBe(false);
  });

  it('a hanging server and a closed port come back as retryable values within the deadline, never a throw', async () => {
    const provider = await fake();
    provider.injectFaults([{ kind: 'hang' }]);
    const p = definition(provider);
    const hung = await client(300).revoke(p, p.revocationUrl, { token: 't', tokenTypeHint: 'refresh_token' });
    expect(hung).toMatchObject({ revoked: false, retryable: true, status: null });
    const url = `http://127.0.0.1:${await closedPort()}/revoke`;
    const refused = await client().revoke(p, url, { token: 't', tokenTypeHint: 'refresh_token' });
    expect(refused).toEqual({ revoked: false, retryable: true, status: null, code: 'ECONNREFUSED' });
  });
});
