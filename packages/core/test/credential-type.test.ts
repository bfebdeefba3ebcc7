import { describe, expect, it } from 'vitest';
import {
  basicToken,
  classifyCheck,
  credentialTypeOf,
  renewalUrlTemplate,
  renewsConnections,
  serveCredential,
} from '../src/credential-type.ts';
import { classify, type ClassifyPolicy } from '../src/classify.ts';
import { DEFAULT_RESPONSE_SHAPE, GRANTS } from '../src/provider-definition.ts';
import { parseProviderEntry, type ProviderEntry } from '../src/provider-entry.ts';
import type { TokenEndpointReply } from '../src/token-endpoint-reply.ts';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const policy: ClassifyPolicy = { defaultRetryAfterMs: 60_000, maxRetryAfterMs: 600_000 };
const reply = (status: number, body = '', headers: Record<string, string> = {}): TokenEndpointReply => ({
  kind: 'response',
  status,
  headers,
  body,
  truncated: false,
});

function entry(raw: ProviderEntry) {
  const result = parseProviderEntry(raw);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.provider;
}

describe('credential types', () => {
  it('every grant serves as one of three types: api_key, basic, or a bearer token', () => {
    expect(Object.fromEntries(GRANTS.map((g) => [g, credentialTypeOf(g)]))).toEqual({
      refresh_token: 'bearer',
      client_credentials: 'bearer',
      password: 'bearer',
      none: 'bearer',
      api_key: 'api_key',
      basic: 'basic',
      jwt_bearer: 'bearer',
      github_app_installation: 'bearer',
      token_exchange: 'bearer',
    });
  });

  it('a static credential is renewed (checked) only with a check; one that never expires, never', () => {
    const check = { url: 'https://api.example.com/me' };
    expect(renewsConnections(entry({ id: 'k', grant: 'api_key' }))).toBe(false);
    expect(renewsConnections(entry({ id: 'k', grant: 'api_key', check }))).toBe(true);
    expect(renewsConnections(entry({ id: 'b', grant: 'basic', check }))).toBe(true);
    expect(renewsConnections(entry({ id: 'n', grant: 'none', clientAuth: 'none' }))).toBe(false);
    expect(renewsConnections(entry({ id: 'j', grant: 'jwt_bearer', tokenUrl: 'https://t', clientAuth: 'none' }))).toBe(
      true,
    );
  });

  it('the URL a renewal reaches: the check URL for static credentials, else the token URL', () => {
    const check = { url: 'https://{subdomain}.example.com/me' };
    expect(renewalUrlTemplate(entry({ id: 'k', grant: 'api_key', check, tokenUrlHosts: ['*.example.com'] }))).toBe(
      check.url,
    );
    expect(renewalUrlTemplate(entry({ id: 'k', grant: 'api_key' }))).toBeNull();
    expect(renewalUrlTemplate(entry({ id: 'n', grant: 'none', clientAuth: 'none' }))).toBeNull();
    expect(
      renewalUrlTemplate(entry({ id: 'j', grant: 'jwt_bearer', tokenUrl: 'https://t.example', clientAuth: 'none' })),
    ).toBe('https://t.example');
  });

  it('serves an API key where the provider takes it: a prefixed header or a query parameter', () => {
    const header = entry({ id: 'k', grant: 'api_key', apiKey: { name: 'Authorization', prefix: 'Token token=' } });
    expect(serveCredential(header, 'k_1')).toEqual({
      type: 'api_key',
      tokenType: 'ApiKey',
      apiKey: 'k_1',
      send: { in: 'header', name: 'Authorization', value: 'Token token=k_1' },
    });
    const query = entry({ id: 'k', grant: 'api_key', apiKey: { in: 'query', name: 'api_key' } });
    expect(serveCredential(query, 'k_2').send).toEqual({ in: 'query', name: 'api_key', value: 'k_2' });
    // The default: RFC 6750's bearer header.
    expect(serveCredential(entry({ id: 'k', grant: 'api_key' }), 'k_3').send.value).toBe('Bearer k_3');
  });

  it('serves a Basic login back as username and password (a colon in the password survives), and the header', () => {
    const token = basicToken('alice', 'pa:ss wörd');
    expect(Buffer.from(token, 'base64').toString('utf8')).toBe('alice:pa:ss wörd');
    expect(serveCredential(entry({ id: 'b', grant: 'basic' }), token)).toEqual({
      type: 'basic',
      tokenType: 'Basic',
      username: 'alice',
      password: 'pa:ss wörd',
      send: { in: 'header', name: 'Authorization', value: `Basic ${token}` },
    });
  });

  it('serves every OAuth grant as a bearer token', () => {
    expect(
      serveCredential(entry({ id: 'o', tokenUrl: 'https://t', clientId: 'c', clientSecret: 's' }), 'at_1'),
    ).toEqual({
      type: 'bearer',
      tokenType: 'Bearer',
      send: { in: 'header', name: 'Authorization', value: 'Bearer at_1' },
    });
  });
});

describe('classifyCheck', () => {
  const check = { revokedStatuses: [401, 403] };
  it('a 2xx keeps the credential as the "new" token', () => {
    expect(classifyCheck(reply(200), NOW, policy, check, 'k')).toEqual({
      kind: 'success',
      tokens: { accessToken: 'k' },
      status: 200,
    });
    expect(classifyCheck(reply(204), NOW, policy, check, 'k').kind).toBe('success');
  });

  it('only the statuses the entry lists mean revoked', () => {
    for (const status of [401, 403]) {
      expect(classifyCheck(reply(status), NOW, policy, check, 'k')).toEqual({
        kind: 'reauth',
        reason: 'invalid_grant',
        status,
      });
    }
    expect(classifyCheck(reply(404), NOW, policy, check, 'k')).toEqual({
      kind: 'transient',
      reason: 'unexpected_status',
      status: 404,
    });
    expect(classifyCheck(reply(404), NOW, policy, { revokedStatuses: [404] }, 'k').kind).toBe('reauth');
  });

  it('network failures, 5xx and 429 are never a revocation', () => {
    expect(classifyCheck({ kind: 'network', timeout: true, code: null }, NOW, policy, check, 'k').kind).toBe(
      'transient',
    );
    expect(classifyCheck(reply(503), NOW, policy, check, 'k').kind).toBe('transient');
    expect(classifyCheck(reply(429, '', { 'retry-after': '7' }), NOW, policy, check, 'k')).toMatchObject({
      kind: 'rate_limited',
      retryAfterMs: 7_000,
    });
  });
});

describe('classify with statusErrors (GitHub installation tokens)', () => {
  const rules = {
    response: { ...DEFAULT_RESPONSE_SHAPE, accessToken: 'token' },
    errors: {},
    statusErrors: { '401': 'invalid_grant', '404': 'invalid_grant' } as const,
  };
  const body = JSON.stringify({ message: 'Not Found', documentation_url: 'https://docs.github.com' });

  it('a listed status without an OAuth error body takes its meaning', () => {
    expect(classify(reply(404, body, { 'content-type': 'application/json' }), NOW, policy, rules)).toEqual({
      kind: 'reauth',
      reason: 'invalid_grant',
      status: 404,
    });
    expect(classify(reply(401, body), NOW, policy, rules).kind).toBe('reauth');
  });

  it('5xx and unlisted statuses stay transient; a 2xx is never looked up', () => {
    expect(classify(reply(502, body), NOW, policy, rules).kind).toBe('transient');
    expect(classify(reply(403, body), NOW, policy, rules).kind).toBe('transient');
    expect(classify(reply(201, JSON.stringify({ token: 't' })), NOW, policy, rules).kind).toBe('success');
  });
});
