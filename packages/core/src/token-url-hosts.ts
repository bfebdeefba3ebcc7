/**
 * Which hosts a token request may reach when the token URL takes its host from connection metadata. Metadata is
 * written by producers and by providers' answers (Salesforce's `instance_url`), so it never chooses a host alone: the
 * operator's allow-list (`tokenUrlHosts`) does. Addresses inside our own network are the target of such an attack
 * (Redis on 127.0.0.1, a cloud metadata service on 169.254.169.254), so an IP address or a loopback name from metadata
 * is allowed only when the list names it exactly, which local development and tests do.
 */

/** Dotted decimal: WHATWG URL writes every IPv4 form so (`2130706433`, `0x7f.1`, `0177.0.0.1` → `127.0.0.1`). */
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const PATTERN_SHAPE = 'must be a host name, an IP address (IPv6 in brackets), or *. before a domain';

/** A URL's hostname that is an address, not a name: IPv4, or IPv6 (brackets, IPv4-mapped included). */
export function isIpLiteral(hostname: string): boolean {
  return hostname.startsWith('[') || IPV4.test(hostname);
}

/** RFC 6761 §6.3: `localhost` and every name under it are loopback, whatever DNS says. */
function isLoopbackName(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost');
}

/** `*.salesforce.com` matches any subdomain (not the bare domain, never an IP address); anything else exactly. */
export function hostAllowed(host: string, patterns: readonly string[]): boolean {
  const h = host.toLowerCase();
  return patterns.some((p) => {
    const pattern = p.toLowerCase();
    if (!pattern.startsWith('*.')) return h === pattern;
    return !isIpLiteral(h) && h.endsWith(pattern.slice(1)) && h.length > pattern.length - 1;
  });
}

/**
 * Why a host filled in from metadata may not be used, or null. `patterns` null: the provider lists none, which the
 * loader refuses for such templates; refused here too, for definitions made without the loader.
 */
export function metadataHostProblem(hostname: string, patterns: readonly string[] | null): string | null {
  if (patterns === null) return 'takes its host from metadata, and this provider lists no tokenUrlHosts';
  const h = hostname.toLowerCase();
  if (isIpLiteral(h) || isLoopbackName(h)) {
    return patterns.some((p) => p.toLowerCase() === h)
      ? null
      : `host ${h} is an IP address or a loopback name, which metadata may choose only when tokenUrlHosts lists it exactly`;
  }
  return hostAllowed(h, patterns) ? null : `host ${hostname} is not one this provider allows`;
}

/** Checks one `tokenUrlHosts` pattern as written in a providers file: a host as a URL writes it, or `*.` a domain. */
export function hostPatternProblem(pattern: string): string | null {
  const p = pattern.toLowerCase();
  const wildcard = p.startsWith('*.');
  const host = wildcard ? p.slice(2) : p;
  if (host.includes('*')) return '"*" may only start a pattern, followed by a dot (*.example.com)';
  let written: string;
  try {
    written = new URL(`https://${host}/`).hostname;
  } catch {
    return PATTERN_SHAPE;
  }
  if (host === '' || !/^[^/?#@:\\\s]+$|^\[[0-9a-f:.]+\]$/.test(host)) return PATTERN_SHAPE;
  if (written !== host) return `must be written as a URL writes it: ${written}`;
  if (wildcard && (isIpLiteral(host) || !host.includes('.'))) {
    return 'a wildcard must stand before a domain of two labels or more (*.example.com), never an IP address';
  }
  return null;
}
