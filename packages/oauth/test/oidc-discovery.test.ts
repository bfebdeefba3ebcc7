import { describe, expect, it } from 'vitest';
import { parseDiscoveryDocument } from '../src/oidc-discovery.ts';

const issuer = 'https://id.example.com';
const doc = {
  issuer,
  authorization_endpoint: 'https://id.example.com/auth',
  token_endpoint: 'https://id.example.com/token',
  jwks_uri: 'https://id.example.com/jwks',
};

describe('parseDiscoveryDocument', () => {
  it('reads the endpoints, the revocation endpoint when there is one', () => {
    expect(parseDiscoveryDocument(issuer, JSON.stringify(doc))).toEqual({
      ok: true,
      configuration: {
        issuer,
        authorizationEndpoint: doc.authorization_endpoint,
        tokenEndpoint: doc.token_endpoint,
        jwksUri: doc.jwks_uri,
        revocationEndpoint: null,
      },
    });
  });

  it.each([
    [{ ...doc, issuer: 'https://other.example.com' }, 'discovery document names another issuer'],
    [{ ...doc, token_endpoint: 'http://id.example.com/token' }, "discovery document's token_endpoint must be https"],
    [{ ...doc, jwks_uri: undefined }, 'discovery document has no jwks_uri'],
    [{ ...doc, revocation_endpoint: 7 }, "discovery document's revocation_endpoint is not a string"],
  ])('refuses a document that %#', (bad, reason) => {
    const result = parseDiscoveryDocument(issuer, JSON.stringify(bad));
    expect(result.ok).toBe(false);
    expect((result as { reason: string }).reason).toContain(reason);
  });

  it('refuses what is not a JSON object', () => {
    expect(parseDiscoveryDocument(issuer, '<html>')).toEqual({
      ok: false,
      reason: 'discovery document is not a JSON object',
    });
    expect(parseDiscoveryDocument(issuer, '[]')).toEqual({
      ok: false,
      reason: 'discovery document is not a JSON object',
    });
  });
});
