import type { ProviderDefinition } from './provider-definition.ts';
import { hostAllowed, metadataHostProblem } from './token-url-hosts.ts';

const LOOPBACK_HOSTS = new Set(['localhost', '[::1]', '::1']);
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
/** Scheme, host and port: everything before the path, `{instance_url}` standing for all of it. */
const ORIGIN_PART = /^[^/?#]*(\/\/[^/?#]*)?/;
/**
 * A placeholder inside a host or a path segment: one label or dotted name, nothing that could change the URL's shape
 * (no "/", "@", ":", and no empty or dot-only labels such as "." or "..").
 */
const SEGMENT = /^(?!.*\.\.)[A-Za-z0-9_-][A-Za-z0-9._-]{0,252}(?<!\.)$/;

/** Token URLs must be https, except on loopback, which local development and tests use (DESIGN.md contracts). */
export function tokenUrlProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol === 'https:') return null;
  if (url.protocol !== 'http:') return 'must be an https URL';
  const loopback = LOOPBACK_HOSTS.has(url.hostname) || /^127(\.\d{1,3}){3}$/.test(url.hostname);
  return loopback ? null : 'must be https (plain http is allowed only on loopback hosts)';
}

export function tokenUrlPlaceholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
}

/**
 * The placeholders that decide where the request goes (scheme, host or port); those of the path cannot, since a path
 * value may not hold "/", "@", ":" or dots alone. A template with any needs `tokenUrlHosts`.
 */
export function tokenUrlHostPlaceholders(template: string): string[] {
  return tokenUrlPlaceholders(ORIGIN_PART.exec(template)?.[0] ?? '');
}

/**
 * Checks a template as written in a providers file, with placeholders standing in for plausible values: a loopback
 * address inside (so `http://{host}:8080/token` is left for the run-time check, which sees the real host), an https
 * origin at the start.
 */
export function tokenUrlTemplateProblem(template: string): string | null {
  const sample = template.replace(PLACEHOLDER, (_match, _name, offset: number) =>
    offset === 0 ? 'https://example.com' : '127.0.0.1',
  );
  return tokenUrlProblem(sample);
}

/**
 * Fills the token URL's placeholders from the connection's metadata (then the provider's metadata defaults). A
 * placeholder at the very start stands for a whole origin (`{instance_url}/services/oauth2/token`) and must itself be
 * an https URL; anywhere else it must be a single host label or path segment. The result must pass the https rule and
 * the provider's host allow-list, so metadata can never send a refresh token somewhere else. A host that came from
 * metadata must be on the list, and may be an IP address or a loopback name only when the list names it exactly
 * (token-url-hosts.ts); a host the operator wrote in the template is the operator's choice.
 */
export function resolveTokenUrl(
  provider: Pick<ProviderDefinition, 'tokenUrl' | 'tokenUrlHosts' | 'metadataDefaults'>,
  metadata: Readonly<Record<string, unknown>>,
): { ok: true; url: string } | { ok: false; field: string; reason: string } {
  let problem: { field: string; reason: string } | null = null;
  const url = provider.tokenUrl.replace(PLACEHOLDER, (_match, name: string, offset: number) => {
    const given = metadata[name];
    const value = typeof given === 'string' && given !== '' ? given : provider.metadataDefaults[name];
    if (value === undefined) {
      problem ??= { field: `metadata.${name}`, reason: "is required by this provider's token URL" };
      return 'x';
    }
    if (offset === 0) {
      const origin = originOf(value);
      if (origin === null) problem ??= { field: `metadata.${name}`, reason: 'must be an https URL' };
      return origin ?? 'x';
    }
    if (!SEGMENT.test(value)) {
      problem ??= { field: `metadata.${name}`, reason: 'must be letters, digits, ".", "_" or "-"' };
      return 'x';
    }
    return value;
  });
  if (problem) return { ok: false, ...(problem as { field: string; reason: string }) };
  const urlProblem = tokenUrlProblem(url);
  if (urlProblem) return { ok: false, field: 'tokenUrl', reason: urlProblem };
  // What is checked is what is sent: the URL as WHATWG writes it (`2130706433` becomes `127.0.0.1`).
  const parsed = new URL(url);
  const host = parsed.hostname;
  if (tokenUrlHostPlaceholders(provider.tokenUrl).length > 0) {
    const hostProblem = metadataHostProblem(host, provider.tokenUrlHosts);
    if (hostProblem) return { ok: false, field: 'tokenUrl', reason: hostProblem };
  } else if (provider.tokenUrlHosts !== null && !hostAllowed(host, provider.tokenUrlHosts)) {
    return { ok: false, field: 'tokenUrl', reason: `host ${host} is not one this provider allows` };
  }
  return { ok: true, url: parsed.href };
}

function originOf(value: string): string | null {
  try {
    const url = new URL(value);
    return tokenUrlProblem(url.origin) === null ? url.origin : null;
  } catch {
    return null;
  }
}

/**
 * The provider's RFC 7009 revocation URL for one connection, filled in exactly as the token URL is (same placeholders,
 * https rule and host allow-list), or null when the provider has none.
 */
export function resolveRevocationUrl(
  provider: Pick<ProviderDefinition, 'revocationUrl' | 'tokenUrlHosts' | 'metadataDefaults'>,
  metadata: Readonly<Record<string, unknown>>,
): { ok: true; url: string } | { ok: false; field: string; reason: string } | null {
  if (provider.revocationUrl === null) return null;
  const resolved = resolveTokenUrl({ ...provider, tokenUrl: provider.revocationUrl }, metadata);
  return resolved.ok || resolved.field !== 'tokenUrl' ? resolved : { ...resolved, field: 'revocationUrl' };
}

/**
 * The provider's authorization endpoint for one connect session, filled in from the session's metadata exactly as the
 * token URL is (Microsoft's tenant, Salesforce's instance, Zendesk's subdomain), or null when the provider has none.
 */
export function resolveAuthorizationUrl(
  provider: Pick<ProviderDefinition, 'authorizationUrl' | 'tokenUrlHosts' | 'metadataDefaults'>,
  metadata: Readonly<Record<string, unknown>>,
): { ok: true; url: string } | { ok: false; field: string; reason: string } | null {
  if (provider.authorizationUrl === null) return null;
  const resolved = resolveTokenUrl({ ...provider, tokenUrl: provider.authorizationUrl }, metadata);
  return resolved.ok || resolved.field !== 'tokenUrl' ? resolved : { ...resolved, field: 'authorizationUrl' };
}
