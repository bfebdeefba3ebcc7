import type { IncomingHttpHeaders } from 'node:http';

/** Methods that change nothing: never guarded. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const isMutation = (method: string): boolean => !SAFE_METHODS.has(method.toUpperCase());

export interface CsrfRefusal {
  error: 'ERR_CROSS_SITE_REQUEST' | 'ERR_CROSS_ORIGIN_REQUEST' | 'ERR_CSRF_HEADER_REQUIRED';
  message: string;
}

const first = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

const mediaType = (contentType: string | undefined): string => (contentType ?? '').split(';')[0]!.trim().toLowerCase();

/** The host:port an Origin names, or null when it names none (`null`, garbage). */
function originHost(origin: string): string | null {
  try {
    const url = new URL(origin);
    return url.origin === 'null' ? null : url.host;
  } catch {
    return null;
  }
}

/**
 * Whether a mutation may be a forged cross-site request, which a browser that logged in with basic credentials would
 * send with those credentials. Refused when:
 * - the browser says it came from another site (`Sec-Fetch-Site` other than `same-origin` or `none`);
 * - its `Origin` is not the board's own (compared by host and port with `Host`: the scheme is not known behind a
 *   TLS-terminating proxy, so a proxy must pass the Host header through);
 * - it is a request a page on another origin may send without a CORS preflight (which the board never grants): a POST
 *   whose content type is not `application/json` and that carries no `x-evergreen-request` header (forms send
 *   text/plain, urlencoded or multipart; a no-cors fetch sends none). PUT, PATCH and DELETE always need a preflight,
 *   which is what lets Bull Board's bodyless PUTs through.
 * Bearer requests skip the last rule: a browser never attaches a bearer token by itself, and a page that sets one
 * needs a preflight, so such a request comes from a script that holds the token (curl, automation).
 */
export function csrfRefusal(method: string, headers: IncomingHttpHeaders): CsrfRefusal | null {
  if (!isMutation(method)) return null;
  const site = first(headers['sec-fetch-site'])?.toLowerCase();
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return {
      error: 'ERR_CROSS_SITE_REQUEST',
      message: `refused a ${method} sent from another site (Sec-Fetch-Site: ${site})`,
    };
  }
  const origin = first(headers.origin);
  if (origin !== undefined) {
    const host = first(headers.host)?.toLowerCase();
    if (host === undefined || originHost(origin) !== host) {
      return {
        error: 'ERR_CROSS_ORIGIN_REQUEST',
        message: `refused a ${method} whose Origin is not this board's (${host ?? 'no Host header'})`,
      };
    }
  }
  if (/^bearer\s/i.test(first(headers.authorization) ?? '')) return null;
  if (method.toUpperCase() !== 'POST') return null;
  if (mediaType(first(headers['content-type'])) === 'application/json') return null;
  if (headers['x-evergreen-request'] !== undefined) return null;
  return {
    error: 'ERR_CSRF_HEADER_REQUIRED',
    message: 'send Content-Type: application/json or an x-evergreen-request header with a POST (forms are refused)',
  };
}
