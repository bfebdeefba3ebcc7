import { describe, it, expect } from 'vitest';
import { parseProviderEntry, type ProviderDefinition, type ProviderEntry } from '@evergreen/core';
import { classifyRevocation } from '../src/revocation-outcome.ts';
import { buildRevocationRequest } from '../src/revocation-request.ts';
import { basicCredentials } from '../src/token-request.ts';

function provider(entry: Partial<ProviderEntry> = {}): ProviderDefinition {
  const result = parseProviderEntry({
    id: 'acme',
    tokenUrl: 'https://auth.acme.example/oauth/token',
    revocationUrl: 'https://auth.acme.example/oauth/revoke',
    clientId: 'acme-client',
    clientSecret: 'acme-secret',
    ...entry,
  });
  if (!result.ok) throw new Error(`bad test provider: ${JSON.stringify(result.issues)}`);
  return result.provider;
}

describe('buildRevocationRequest', () => {
  it('RFC 7009 §2.1: a form of token and token_type_hint, the client in basic auth', () => {
    const built = buildRevocationRequest(provider(), { token: 'rt-1', tokenTypeHint: 'refresh_token' });
    expect(built.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(built.headers.authorization).toBe(basicCredentials('acme-client', 'acme-secret'));
    expect(Object.fromEntries(new URLSearchParams(built.body))).toEqual({
      token: 'rt-1',
      token_type_hint: 'refresh_token',
    });
  });

  it("authenticates as the token request does: client_secret_post, a connection's own client", () => {
    const post = buildRevocationRequest(provider({ clientAuth: 'client_secret_post' }), {
      token: 'at-1',
      tokenTypeHint: 'access_token',
    });
    expect(post.headers.authorization).toBeUndefined();
    expect(Object.fromEntries(new URLSearchParams(post.body))).toEqual({
      token: 'at-1',
      token_type_hint: 'access_token',
      client_id: 'acme-client',
      client_secret: 'acme-secret',
    });
    const own = buildRevocationRequest(provider(), {
      token: 'rt-2',
      tokenTypeHint: 'refresh_token',
      credentials: { clientId: 'own', clientSecret: 'own-secret' },
    });
    expect(own.headers.authorization).toBe(basicCredentials('own', 'own-secret'));
  });

  it("is a form even when the provider's token request is JSON", () => {
    const built = buildRevocationRequest(provider({ request: { format: 'json' } }), {
      token: 'rt-3',
      tokenTypeHint: 'refresh_token',
    });
    expect(built.headers['content-type']).toBe('application/x-www-form-urlencoded');
  });
});

describe('classifyRevocation', () => {
  const reply = (status: number) => ({ kind: 'response' as const, status, headers: {}, body: '', truncated: false });

  it.each([
    [200, { revoked: true }],
    [503, { revoked: false, retryable: true, status: 503, code: null }],
    [500, { revoked: false, retryable: true, status: 500, code: null }],
    [429, { revoked: false, retryable: true, status: 429, code: null }],
    [400, { revoked: false, retryable: false, status: 400, code: null }],
    [401, { revoked: false, retryable: false, status: 401, code: null }],
  ])('status %i', (status, expected) => {
    expect(classifyRevocation(reply(status))).toEqual(expected);
  });

  it('a network failure is retryable and carries only its code', () => {
    expect(classifyRevocation({ kind: 'network', timeout: true, code: 'ECONNRESET' })).toEqual({
      revoked: false,
      retryable: true,
      status: null,
      code: 'ECONNRESET',
    });
  });
});
