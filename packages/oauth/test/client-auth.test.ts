import { describe, it, expect } from 'vitest';
import type { ProviderDefinition } from '@evergreen/core';
import { basicCredentials, buildRefreshRequest } from '../src/client-auth.ts';

function provider(patch: Partial<ProviderDefinition> = {}): ProviderDefinition {
  return {
    id: 'acme',
    tokenUrl: 'https://auth.acme.example/oauth/token',
    clientId: 'acme-client',
    clientSecret: 'acme-secret',
    clientAuth: 'client_secret_basic',
    scope: null,
    refreshBufferSeconds: 300,
    defaultLifetimeSeconds: 3600,
    rateLimit: null,
    ...patch,
  };
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

describe('buildRefreshRequest', () => {
  const REFRESH = 'rt_abc+/= &x';

  it('sends the RFC 6749 §6 refresh grant as a form body', () => {
    const { headers, body } = buildRefreshRequest(provider(), REFRESH);
    expect(headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(headers.accept).toBe('application/json');
    expect(headers['user-agent']).toBe('evergreen-token-refresher');
    expect(params(body)).toEqual({ grant_type: 'refresh_token', refresh_token: REFRESH });
  });

  it('form-encodes the refresh token so "+", "/", "=", "&" and spaces survive', () => {
    const { body } = buildRefreshRequest(provider(), REFRESH);
    expect(body).toBe('grant_type=refresh_token&refresh_token=rt_abc%2B%2F%3D+%26x');
  });

  it('client_secret_basic: credentials in the Authorization header only, never in the body', () => {
    const { headers, body } = buildRefreshRequest(
      provider({ clientId: 'my:client+1 é', clientSecret: 'p:a+s s/é%ü' }),
      REFRESH,
    );
    expect(decodeBasic(headers.authorization as string)).toMatchObject({ id: 'my:client+1 é', secret: 'p:a+s s/é%ü' });
    expect(params(body)).not.toHaveProperty('client_id');
    expect(params(body)).not.toHaveProperty('client_secret');
  });

  it('client_secret_post: client_id and client_secret in the body, no Authorization header', () => {
    const { headers, body } = buildRefreshRequest(
      provider({ clientAuth: 'client_secret_post', clientId: 'my:client+1 é', clientSecret: 'p:a+s s/é%ü' }),
      REFRESH,
    );
    expect(headers).not.toHaveProperty('authorization');
    expect(params(body)).toEqual({
      grant_type: 'refresh_token',
      refresh_token: REFRESH,
      client_id: 'my:client+1 é',
      client_secret: 'p:a+s s/é%ü',
    });
  });

  it('none: client_id in the body, no secret anywhere, no Authorization header', () => {
    const { headers, body } = buildRefreshRequest(provider({ clientAuth: 'none', clientSecret: null }), REFRESH);
    expect(headers).not.toHaveProperty('authorization');
    expect(params(body)).toEqual({ grant_type: 'refresh_token', refresh_token: REFRESH, client_id: 'acme-client' });
  });

  it('none: a configured secret is still not sent', () => {
    const { headers, body } = buildRefreshRequest(
      provider({ clientAuth: 'none', clientSecret: 'should-not-leave' }),
      REFRESH,
    );
    expect(JSON.stringify(headers) + body).not.toContain('should-not-leave');
  });

  it('sends scope when the provider sets one', () => {
    const { body } = buildRefreshRequest(
      provider({ scope: 'openid email https://www.googleapis.com/auth/drive' }),
      REFRESH,
    );
    expect(params(body).scope).toBe('openid email https://www.googleapis.com/auth/drive');
  });

  it('sends no scope when the provider sets none', () => {
    expect(params(buildRefreshRequest(provider({ scope: null }), REFRESH).body)).not.toHaveProperty('scope');
  });

  it('sends each parameter once (RFC 6749 §3.2: repeated parameters are invalid)', () => {
    for (const clientAuth of ['client_secret_basic', 'client_secret_post', 'none'] as const) {
      const { body } = buildRefreshRequest(provider({ clientAuth, scope: 's' }), REFRESH);
      const names = [...new URLSearchParams(body).keys()];
      expect(new Set(names).size).toBe(names.length);
    }
  });
});
