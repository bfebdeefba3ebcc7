import { describe, it, expect } from 'vitest';
import { parseProviderEntry, resolveProviderEntries } from '../src/provider-entry.ts';
import { resolveRevocationUrl } from '../src/token-url.ts';

const base = { id: 'acme', tokenUrl: 'https://auth.acme.example/token', clientId: 'c', clientSecret: 's' };

describe('revocationUrl', () => {
  it('is optional: a provider without one has null', () => {
    const result = parseProviderEntry(base);
    expect(result.ok && result.provider.revocationUrl).toBeNull();
  });

  it('must be https, except on loopback, like the token URL', () => {
    const plain = parseProviderEntry({ ...base, revocationUrl: 'http://auth.acme.example/revoke' });
    expect(plain.ok).toBe(false);
    expect(!plain.ok && plain.issues.map((i) => i.field)).toEqual(['revocationUrl']);
    expect(parseProviderEntry({ ...base, revocationUrl: 'http://127.0.0.1:8080/revoke' }).ok).toBe(true);
    expect(parseProviderEntry({ ...base, revocationUrl: 'not a url' }).ok).toBe(false);
  });

  it('taking its host from metadata needs tokenUrlHosts', () => {
    const result = parseProviderEntry({ ...base, revocationUrl: '{instance_url}/revoke' });
    expect(!result.ok && result.issues.map((i) => i.field)).toEqual(['tokenUrlHosts']);
  });

  it('one issue for the list when both URLs take their host from metadata', () => {
    const result = parseProviderEntry({
      ...base,
      tokenUrl: '{instance_url}/token',
      revocationUrl: '{instance_url}/revoke',
    });
    expect(!result.ok && result.issues).toEqual([
      {
        field: 'tokenUrlHosts',
        reason:
          'is required: tokenUrl and revocationUrl take their host from metadata ({instance_url}); list the hosts it may reach, such as *.example.com',
      },
    ]);
  });

  it("is filled from the connection's metadata under the token URL's host allow-list", () => {
    const result = parseProviderEntry({
      ...base,
      revocationUrl: '{instance_url}/services/oauth2/revoke',
      tokenUrlHosts: ['*.salesforce.com'],
    });
    if (!result.ok) throw new Error('bad test provider');
    expect(resolveRevocationUrl(result.provider, { instance_url: 'https://na1.my.salesforce.com' })).toEqual({
      ok: true,
      url: 'https://na1.my.salesforce.com/services/oauth2/revoke',
    });
    expect(resolveRevocationUrl(result.provider, { instance_url: 'https://evil.example' })).toMatchObject({
      ok: false,
      field: 'revocationUrl',
    });
    expect(resolveRevocationUrl(result.provider, {})).toMatchObject({ ok: false, field: 'metadata.instance_url' });
  });

  it('null in an entry that extends a built-in turns it off', () => {
    const builtin = { ...base, revocationUrl: 'https://auth.acme.example/revoke' };
    const { providers, issues } = resolveProviderEntries([builtin], [{ id: 'acme', revocationUrl: null }]);
    expect(issues).toEqual([]);
    expect(providers[0]?.revocationUrl).toBeNull();
    expect(resolveProviderEntries([builtin], [{ id: 'acme' }]).providers[0]?.revocationUrl).toBe(
      'https://auth.acme.example/revoke',
    );
  });

  it('resolves to null for a provider without one', () => {
    const result = parseProviderEntry(base);
    if (!result.ok) throw new Error('bad test provider');
    expect(resolveRevocationUrl(result.provider, {})).toBeNull();
  });
});
