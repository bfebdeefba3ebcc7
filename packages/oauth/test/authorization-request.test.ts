import { describe, expect, it } from 'vitest';
import { DEFAULT_AUTHORIZATION_SHAPE } from '@evergreen/core';
import { buildAuthorizationUrl, pkceChallenge, randomSecret } from '../src/authorization-request.ts';

const provider = {
  clientId: 'client 1',
  authorization: { ...DEFAULT_AUTHORIZATION_SHAPE, params: { access_type: 'offline', state: 'from-the-entry' } },
};

describe('buildAuthorizationUrl', () => {
  it('writes RFC 6749 §4.1.1 with the S256 challenge and the nonce; the entry cannot replace the state', () => {
    const url = new URL(
      buildAuthorizationUrl(provider, {
        endpoint: 'https://id.example.com/authorize?tenant=t1',
        redirectUri: 'https://evergreen.example.com/v1/connect/callback',
        state: 'S',
        scopes: ['openid', 'email'],
        codeChallenge: 'C',
        nonce: 'N',
      }),
    );
    expect(Object.fromEntries(url.searchParams)).toEqual({
      tenant: 't1',
      access_type: 'offline',
      state: 'S',
      response_type: 'code',
      client_id: 'client 1',
      redirect_uri: 'https://evergreen.example.com/v1/connect/callback',
      scope: 'openid email',
      code_challenge: 'C',
      code_challenge_method: 'S256',
      nonce: 'N',
    });
  });

  it("joins scopes with the provider's separator, and leaves out what does not apply", () => {
    const url = new URL(
      buildAuthorizationUrl(
        { clientId: 'c', authorization: { ...DEFAULT_AUTHORIZATION_SHAPE, scopeSeparator: ',' } },
        {
          endpoint: 'https://slack.com/oauth/v2/authorize',
          redirectUri: 'https://e/cb',
          state: 'S',
          scopes: ['a', 'b'],
        },
      ),
    );
    expect(url.searchParams.get('scope')).toBe('a,b');
    expect(url.searchParams.has('code_challenge')).toBe(false);
    expect(url.searchParams.has('nonce')).toBe(false);
  });
});

describe('PKCE', () => {
  it('matches RFC 7636 Appendix B', () => {
    expect(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });

  it('makes 43-character secrets of the unreserved alphabet, never the same twice', () => {
    const secrets = new Set(Array.from({ length: 100 }, randomSecret));
    expect(secrets.size).toBe(100);
    for (const s of secrets) expect(s).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
