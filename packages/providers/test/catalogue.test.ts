import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  CLIENT_AUTH_METHODS,
  ERROR_MEANINGS,
  resolveAuthorizationUrl,
  resolveProviderEntries,
  resolveRevocationUrl,
  resolveTokenUrl,
  tokenUrlHostPlaceholders,
  tokenUrlPlaceholders,
  type ProviderDefinition,
  type ProviderEntry,
} from '@evergreen/core';
import { BUILTIN_PROVIDERS, CATALOGUE, renderCatalogue, replaceGenerated } from '../src/index.ts';
import { sampleMetadata } from './sample-metadata.ts';

/**
 * The catalogue checked as data: what every named provider must say, and the rules its URLs must keep. A new entry
 * that breaks one fails here, naming itself, before any connection uses it.
 */

/** The metadata names a URL template may use, each with one meaning across the catalogue. */
const PLACEHOLDERS = {
  /** One label under the provider's own domain (acme.zendesk.com). */
  subdomain: 'one host label',
  /** A whole host name: an Okta org, an Auth0 tenant, a data centre's accounts server. */
  domain: 'a host name',
  /** A directory tenant in a path (Microsoft). */
  tenant: 'a path segment',
  /** A whole https origin, filled in from each answer (Salesforce). */
  instance_url: 'an https origin',
  /** A Shopify shop's name. */
  shop: 'one host label',
  region: 'a region code',
  realm: 'a path segment',
} as const;

const named: ProviderEntry[] = CATALOGUE.flatMap((section) => [...section.providers]);
const namedIds = named.map((entry) => entry.id);

function resolved(entry: ProviderEntry): ProviderDefinition {
  const { providers, issues } = resolveProviderEntries(BUILTIN_PROVIDERS, [
    { id: entry.id, clientId: 'client', clientSecret: 'secret' },
  ]);
  expect(issues, entry.id).toEqual([]);
  return providers[0]!;
}

const urlsOf = (p: ProviderDefinition) =>
  (
    [
      ['tokenUrl', p.tokenUrl],
      ['authorizationUrl', p.authorizationUrl],
      ['revocationUrl', p.revocationUrl],
    ] as const
  ).filter((pair): pair is [(typeof pair)[0], string] => pair[1] !== null);

describe('the catalogue', () => {
  it('names at least 60 providers besides the generic entries, in at least ten categories', () => {
    expect(namedIds.length).toBeGreaterThanOrEqual(60);
    expect(CATALOGUE.length).toBeGreaterThanOrEqual(10);
    expect(new Set(CATALOGUE.map((s) => s.category)).size).toBe(CATALOGUE.length);
  });

  it('every named provider is a built-in, and every id is used once across the built-ins', () => {
    const ids = BUILTIN_PROVIDERS.map((b) => b.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(namedIds));
  });

  it('each category file holds its own category (catalogue/<category>.ts)', () => {
    for (const section of CATALOGUE) {
      const file = fileURLToPath(new URL(`../src/catalogue/${section.category}.ts`, import.meta.url));
      const text = readFileSync(file, 'utf8');
      for (const entry of section.providers) expect(text, entry.id).toContain(`id: '${entry.id}'`);
    }
  });

  describe.each(namedIds)('%s', (id) => {
    const entry = named.find((e) => e.id === id)!;

    it('resolves through the real resolver once the file adds credentials', () => {
      expect(resolved(entry).id).toBe(id);
    });

    it("has a display name and its source: an https page of the provider's documentation", () => {
      expect(entry.displayName?.trim()).toBeTruthy();
      expect(entry.source).toEqual(expect.any(String));
      const url = new URL(entry.source!);
      expect(url.protocol).toBe('https:');
      // Another integration project's provider list is never a source: the provider's own pages are.
      expect(url.hostname).not.toMatch(/nango|pipedream|merge\.dev|paragon|composio/);
    });

    it('states its client authentication, rotation and lifetime rather than inheriting them silently', () => {
      expect(CLIENT_AUTH_METHODS).toContain(entry.clientAuth);
      expect(entry.rotation?.rotates).toMatch(/^(always|sometimes|never)$/);
      const p = resolved(entry);
      if (p.rotation.graceSeconds > 0) expect(p.rotation.rotates).not.toBe('never');
      if (p.defaultLifetimeSeconds === null && p.response.refreshToken !== null) {
        // Unknown expiry is fine only when the provider issues no refresh token, or a keep-alive refreshes anyway.
        expect(p.keepAliveSeconds ?? p.response.expiresAt ?? 'an expires_in to read').not.toBeNull();
      }
    });

    it('has https URLs only, and an authorization endpoint for the connect flow', () => {
      const p = resolved(entry);
      expect(p.authorizationUrl).not.toBeNull();
      for (const [field, template] of urlsOf(p)) {
        const sample = template.replace(/^\{[a-z_]+\}/, 'https://origin.example').replace(/\{[a-z_]+\}/g, 'x');
        expect(new URL(sample).protocol, `${id}.${field}`).toBe('https:');
      }
      if (p.issuer !== null) expect(new URL(p.issuer).protocol).toBe('https:');
    });

    it('uses only the shared placeholder names, each pinned by tokenUrlHosts or given a default', () => {
      const p = resolved(entry);
      for (const [field, template] of urlsOf(p)) {
        for (const name of tokenUrlPlaceholders(template)) {
          expect(Object.keys(PLACEHOLDERS), `${id}.${field} {${name}}`).toContain(name);
          const inHost = tokenUrlHostPlaceholders(template).includes(name);
          if (inHost) expect(p.tokenUrlHosts, `${id}.${field} {${name}}`).toEqual(expect.any(Array));
          else expect(p.metadataDefaults[name], `${id}.${field} {${name}} needs a default`).toBeDefined();
        }
      }
    });

    it('fills its URLs from plausible metadata, and refuses a host off its list', () => {
      const p = resolved(entry);
      const metadata = sampleMetadata(p);
      expect(resolveTokenUrl(p, metadata)).toMatchObject({ ok: true });
      expect(resolveAuthorizationUrl(p, metadata)).toMatchObject({ ok: true });
      const revocation = resolveRevocationUrl(p, metadata);
      if (revocation !== null) expect(revocation).toMatchObject({ ok: true });
      for (const name of tokenUrlHostPlaceholders(p.tokenUrl)) {
        // A whole host or origin off the list; for a label, a value that would end the host early.
        const evil = { instance_url: 'https://evil.example.com', domain: 'evil.example.com' }[name] ?? 'evil.com/x';
        expect(resolveTokenUrl(p, { ...metadata, [name]: evil }), `${id} {${name}}`).toMatchObject({ ok: false });
      }
    });

    it("maps error codes only to known meanings, and never remaps a standard code to 'transient'", () => {
      for (const [code, meaning] of Object.entries(entry.errors ?? {})) {
        expect(ERROR_MEANINGS).toContain(meaning);
        if (code === 'invalid_grant') expect(meaning).toBe('invalid_grant');
      }
    });

    it('joins scopes with a space or a comma, and asks for PKCE in a way the connect flow knows', () => {
      const p = resolved(entry);
      expect([' ', ',']).toContain(p.authorization.scopeSeparator);
      expect(['required', 'supported', 'unsupported']).toContain(p.authorization.pkce);
    });
  });
});

describe('docs/providers.md', () => {
  it('holds exactly what `pnpm docs:providers` generates from the catalogue', () => {
    const page = readFileSync(fileURLToPath(new URL('../../../docs/providers.md', import.meta.url)), 'utf8');
    const expected = replaceGenerated(page, renderCatalogue(BUILTIN_PROVIDERS, CATALOGUE));
    expect(page === expected, 'docs/providers.md is out of date: run `pnpm docs:providers` and commit it').toBe(true);
  });

  it('lists every built-in with its category and source link', () => {
    const table = renderCatalogue(BUILTIN_PROVIDERS, CATALOGUE);
    for (const section of CATALOGUE) {
      for (const entry of section.providers) {
        const line = table.split('\n').find((l) => l.startsWith(`| \`${entry.id}\` |`));
        expect(line, entry.id).toContain(`| ${section.category} |`);
        expect(line, entry.id).toContain(`[docs](${entry.source})`);
      }
    }
  });

  it('refuses a page without the generated section, so the script never writes half a page', () => {
    expect(() => replaceGenerated('# Providers\n', 'x')).toThrow(/generated/);
  });
});
