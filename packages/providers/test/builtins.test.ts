import { describe, it, expect } from 'vitest';
import {
  classify,
  PROVIDER_ID_PATTERN,
  providerEntrySchema,
  resolveProviderEntries,
  resolveAuthorizationUrl,
  resolveTokenUrl,
  tokenUrlPlaceholders,
  tokenUrlTemplateProblem,
  type ProviderDefinition,
} from '@evergreen/core';
import { BUILTIN_PROVIDERS } from '../src/index.ts';
import { sampleMetadata } from './sample-metadata.ts';

/** The smallest entry that names a built-in: credentials, and a token URL for the templates that have none. */
function entryFor(id: string): Record<string, unknown> {
  const builtin = BUILTIN_PROVIDERS.find((b) => b.id === id)!;
  if (builtin.grant === 'none') return { id };
  return {
    id,
    clientId: 'c',
    clientSecret: 's',
    ...(builtin.tokenUrl === undefined && { tokenUrl: 'https://auth.example.com/token' }),
  };
}

function resolveAll(): ProviderDefinition[] {
  const { providers, issues } = resolveProviderEntries(
    BUILTIN_PROVIDERS,
    BUILTIN_PROVIDERS.map((b) => entryFor(b.id)),
  );
  expect(issues).toEqual([]);
  return providers;
}

function builtin(id: string): ProviderDefinition {
  const found = resolveAll().find((p) => p.id === id);
  if (!found) throw new Error(`no built-in ${id}`);
  return found;
}

const ids = BUILTIN_PROVIDERS.map((b) => b.id);

/**
 * The first built-ins, each one a user connects through a browser, with a refresh grant and an endpoint of its own
 * (the catalogue's others are checked as data in catalogue.test.ts).
 */
const INTERACTIVE = [
  'google',
  'microsoft',
  'spotify',
  'discord',
  'salesforce',
  'xero',
  'hubspot',
  'github-app',
  'zendesk',
  'slack',
  'zoom',
];

describe('BUILTIN_PROVIDERS', () => {
  it('has unique ids, each a valid provider id', () => {
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(PROVIDER_ID_PATTERN);
  });

  it('holds the documented catalogue', () => {
    expect(ids).toEqual(
      expect.arrayContaining([
        ...INTERACTIVE,
        'custom-json',
        'github-pat',
        'client-credentials',
        'password',
        'json-login',
      ]),
    );
  });

  it.each(ids)('%s is a valid providers-file entry with a display name and no extends', (id) => {
    const entry = BUILTIN_PROVIDERS.find((b) => b.id === id)!;
    expect(providerEntrySchema.safeParse(entry).success).toBe(true);
    expect(entry.displayName).toEqual(expect.any(String));
    expect(entry.extends).toBeUndefined();
  });

  it.each(ids)('%s resolves without issues once the file names it with credentials', (id) => {
    const { providers, issues } = resolveProviderEntries(BUILTIN_PROVIDERS, [entryFor(id)]);
    expect(issues).toEqual([]);
    expect(providers).toHaveLength(1);
    expect(providers[0]).toMatchObject({ id, displayName: BUILTIN_PROVIDERS.find((b) => b.id === id)!.displayName });
  });

  it('all of them resolve together, in order', () => {
    expect(resolveAll().map((p) => p.id)).toEqual(ids);
  });

  it.each(ids)('%s named alone asks only for credentials or a token URL', (id) => {
    const { issues } = resolveProviderEntries(BUILTIN_PROVIDERS, [{ id }]);
    for (const issue of issues) {
      expect(['tokenUrl', 'clientId', 'clientSecret', 'privateKey'].map((f) => `providers[0] (${id}).${f}`)).toContain(
        issue.field,
      );
    }
  });

  it('github-pat needs nothing; custom-json, client-credentials, password and json-login need a token URL', () => {
    expect(resolveProviderEntries(BUILTIN_PROVIDERS, [{ id: 'github-pat' }]).issues).toEqual([]);
    for (const id of ['custom-json', 'client-credentials', 'password', 'json-login']) {
      expect(resolveProviderEntries(BUILTIN_PROVIDERS, [{ id, clientId: 'c', clientSecret: 's' }]).issues).toEqual([
        { field: `providers[0] (${id}).tokenUrl`, reason: 'is required' },
      ]);
    }
  });

  const withUrls = BUILTIN_PROVIDERS.filter((b) => b.tokenUrl !== undefined).map((b) => b.id);

  it.each(withUrls)("%s's token URL template is https", (id) => {
    const template = BUILTIN_PROVIDERS.find((b) => b.id === id)!.tokenUrl!;
    expect(tokenUrlTemplateProblem(template)).toBeNull();
    expect(template.startsWith('https://') || template.startsWith('{')).toBe(true);
  });

  it.each(withUrls)("%s's token URL resolves to an https URL its own host allow-list accepts", (id) => {
    const provider = builtin(id);
    const resolved = resolveTokenUrl(provider, sampleMetadata(provider));
    expect(resolved).toMatchObject({ ok: true });
    if (resolved.ok) expect(new URL(resolved.url).protocol).toBe('https:');
  });

  it('a leading origin placeholder has an https default', () => {
    for (const entry of BUILTIN_PROVIDERS) {
      const first = entry.tokenUrl?.startsWith('{') ? tokenUrlPlaceholders(entry.tokenUrl)[0] : undefined;
      if (first === undefined) continue;
      expect(entry.metadataDefaults?.[first]).toMatch(/^https:\/\//);
    }
  });

  it('templates with placeholders pin their hosts', () => {
    for (const entry of BUILTIN_PROVIDERS) {
      if (entry.tokenUrl === undefined || tokenUrlPlaceholders(entry.tokenUrl).length === 0) continue;
      expect(entry.tokenUrlHosts, entry.id).toEqual(expect.any(Array));
    }
  });

  it('resolving does not change the catalogue', () => {
    const before = JSON.stringify(BUILTIN_PROVIDERS);
    resolveAll();
    resolveProviderEntries(BUILTIN_PROVIDERS, [
      { id: 'slack', clientId: 'c', clientSecret: 's', errors: { x: 'transient' }, request: { params: { a: 'b' } } },
    ]);
    expect(JSON.stringify(BUILTIN_PROVIDERS)).toBe(before);
  });
});

describe('built-in quirks', () => {
  const policy = { defaultRetryAfterMs: 60_000, maxRetryAfterMs: 600_000 };
  const reply = (status: number, body: string, headers: Record<string, string> = {}) =>
    ({ kind: 'response', status, headers, body, truncated: false }) as const;

  it('microsoft: the tenant defaults to common, scopes go with every refresh, the host is pinned', () => {
    const microsoft = builtin('microsoft');
    expect(resolveTokenUrl(microsoft, {})).toEqual({
      ok: true,
      url: 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
    });
    expect(microsoft.request.scope).toBe('connection');
    expect(microsoft.rotation.rotates).toBe('always');
  });

  it("salesforce: the instance URL from each answer names the next refresh's host, within *.salesforce.com", () => {
    const salesforce = builtin('salesforce');
    expect(salesforce.response.metadata).toEqual({ instance_url: 'instance_url' });
    expect(resolveTokenUrl(salesforce, {})).toEqual({
      ok: true,
      url: 'https://login.salesforce.com/services/oauth2/token',
    });
    expect(resolveTokenUrl(salesforce, { instance_url: 'https://acme.my.salesforce.com' })).toEqual({
      ok: true,
      url: 'https://acme.my.salesforce.com/services/oauth2/token',
    });
    expect(resolveTokenUrl(salesforce, { instance_url: 'https://salesforce.com.evil.com' })).toMatchObject({
      ok: false,
      field: 'tokenUrl',
    });
    const outcome = classify(
      reply(
        200,
        JSON.stringify({
          access_token: 'at',
          instance_url: 'https://acme.my.salesforce.com',
          issued_at: '1700000000123',
        }),
      ),
      0,
      policy,
      salesforce,
    );
    expect(outcome).toEqual({
      kind: 'success',
      tokens: {
        accessToken: 'at',
        issuedAt: 1_700_000_000_123,
        metadata: { instance_url: 'https://acme.my.salesforce.com' },
      },
      status: 200,
    });
  });

  it('zendesk: the subdomain is required and pinned to *.zendesk.com', () => {
    const zendesk = builtin('zendesk');
    expect(resolveTokenUrl(zendesk, {})).toMatchObject({ ok: false, field: 'metadata.subdomain' });
    expect(resolveTokenUrl(zendesk, { subdomain: 'acme' })).toEqual({
      ok: true,
      url: 'https://acme.zendesk.com/oauth/tokens',
    });
    expect(resolveTokenUrl(zendesk, { subdomain: 'evil.com/x' })).toMatchObject({
      ok: false,
      field: 'metadata.subdomain',
    });
  });

  it('github-app: bad_refresh_token under HTTP 200 means reauth; a form answer is read', () => {
    const github = builtin('github-app');
    expect(classify(reply(200, '{"error":"bad_refresh_token"}'), 0, policy, github)).toEqual({
      kind: 'reauth',
      reason: 'invalid_grant',
      status: 200,
    });
    expect(
      classify(
        reply(
          200,
          'access_token=ghu_x&expires_in=28800&refresh_token=ghr_y&refresh_token_expires_in=15897600&token_type=bearer',
        ),
        0,
        policy,
        github,
      ),
    ).toMatchObject({
      kind: 'success',
      tokens: { expiresInSeconds: 28_800, refreshTokenExpiresInSeconds: 15_897_600 },
    });
  });

  it('slack: ok false is never a success; its codes mean what they say', () => {
    const slack = builtin('slack');
    expect(classify(reply(200, '{"ok":false,"error":"invalid_refresh_token"}'), 0, policy, slack).kind).toBe('reauth');
    expect(classify(reply(200, '{"ok":false,"error":"ratelimited"}'), 0, policy, slack).kind).toBe('transient');
    expect(classify(reply(200, '{"ok":false,"error":"invalid_client_id"}'), 0, policy, slack)).toMatchObject({
      kind: 'fatal',
      reason: 'invalid_client',
    });
    expect(classify(reply(200, '{"ok":false}'), 0, policy, slack).kind).toBe('transient');
  });

  it('custom-json and json-login read their own field names', () => {
    const custom = resolveProviderEntries(BUILTIN_PROVIDERS, [
      { id: 'custom-json', tokenUrl: 'https://api.example.com/auth/refresh' },
    ]).providers[0]!;
    expect(classify(reply(200, '{"accessToken":"a","refreshToken":"r"}'), 0, policy, custom)).toMatchObject({
      kind: 'success',
      tokens: { accessToken: 'a', refreshToken: 'r' },
    });
    const login = resolveProviderEntries(BUILTIN_PROVIDERS, [
      { id: 'json-login', tokenUrl: 'https://api.example.com/api/login' },
    ]).providers[0]!;
    expect(login).toMatchObject({ grant: 'password', clientAuth: 'none', keepAliveSeconds: 3600 });
    expect(classify(reply(200, '{"token":"jwt","refresh_token":"ignored"}'), 0, policy, login)).toEqual({
      kind: 'success',
      tokens: { accessToken: 'jwt' },
      status: 200,
    });
  });

  it('github-pat never renews', () => {
    expect(builtin('github-pat')).toMatchObject({ grant: 'none', defaultLifetimeSeconds: null, tokenUrl: '' });
  });

  it.each(INTERACTIVE)('%s has an authorization endpoint that resolves from its metadata defaults', (id) => {
    const provider = builtin(id);
    expect(provider.authorizationUrl).not.toBeNull();
    const metadata = id === 'zendesk' ? { subdomain: 'acme' } : {};
    const resolved = resolveAuthorizationUrl(provider, metadata);
    expect(resolved).toMatchObject({ ok: true, url: expect.stringMatching(/^https:\/\//) });
  });

  it('Google asks for offline access and a fresh consent, so that it answers a refresh token', () => {
    expect(builtin('google')).toMatchObject({
      issuer: 'https://accounts.google.com',
      authorization: { params: { access_type: 'offline', prompt: 'consent' }, pkce: 'supported' },
    });
  });

  it("Microsoft's tenant and Salesforce's instance fill their authorization URLs; Slack joins scopes with commas", () => {
    expect(resolveAuthorizationUrl(builtin('microsoft'), { tenant: 'contoso.onmicrosoft.com' })).toEqual({
      ok: true,
      url: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize',
    });
    expect(resolveAuthorizationUrl(builtin('salesforce'), { instance_url: 'https://acme.my.salesforce.com' })).toEqual({
      ok: true,
      url: 'https://acme.my.salesforce.com/services/oauth2/authorize',
    });
    expect(resolveAuthorizationUrl(builtin('salesforce'), { instance_url: 'https://evil.example.com' })).toMatchObject({
      ok: false,
      field: 'authorizationUrl',
    });
    expect(builtin('slack').authorization.scopeSeparator).toBe(',');
  });

  it('credential grants and personal tokens have no authorization side', () => {
    for (const id of ['github-pat', 'client-credentials', 'password', 'json-login', 'custom-json']) {
      expect(builtin(id).authorizationUrl).toBeNull();
    }
  });
});
