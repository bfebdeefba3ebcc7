import { createHash, timingSafeEqual } from 'node:crypto';

/** `none`: a public client (RFC 6749 §2.1) or a custom endpoint that does not authenticate clients at all. */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'any' | 'none';

/**
 * The client the provider has registered and how it may authenticate: the provider's side of the exchange, not
 * core's `ConnectionCredentials` (what a connection stores), so the fake never depends on the product it tests.
 */
export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
  accepts: ClientAuthMethod;
}

export type ClientAuthResult =
  | { kind: 'ok' }
  /** `challenge`: answer with `WWW-Authenticate: Basic`, because the client tried the header or it is the only way in. */
  | { kind: 'invalid_client'; challenge: boolean }
  /** RFC 6749 §2.3: a client MUST NOT use more than one authentication method in a request. */
  | { kind: 'invalid_request' };

/** RFC 6749 §2.3.1 client authentication, as strict as a real server so client bugs surface here and not in production. */
export function authenticateClient(
  authorization: string | undefined,
  params: ReadonlyMap<string, string>,
  credentials: ClientCredentials,
): ClientAuthResult {
  const bodyId = params.get('client_id');
  const bodySecret = params.get('client_secret');
  const basicOnly = credentials.accepts === 'client_secret_basic';

  if (credentials.accepts === 'none') {
    // Nothing to prove. A public client still names itself (RFC 6749 §3.2.1), and a wrong name is still refused.
    const named = bodyId === undefined || sameText(bodyId, credentials.clientId);
    return named ? { kind: 'ok' } : { kind: 'invalid_client', challenge: false };
  }

  if (authorization !== undefined) {
    if (bodySecret !== undefined) return { kind: 'invalid_request' };
    if (credentials.accepts === 'client_secret_post') return { kind: 'invalid_client', challenge: true };
    const basic = decodeBasic(authorization);
    if (basic === null) return { kind: 'invalid_client', challenge: true };
    // A client_id in the body next to the header is tolerated (many libraries send it) but must name the same client.
    if (bodyId !== undefined && bodyId !== basic.id) return { kind: 'invalid_client', challenge: true };
    return matches(basic.id, basic.secret, credentials) ? { kind: 'ok' } : { kind: 'invalid_client', challenge: true };
  }

  if (bodyId === undefined && bodySecret === undefined) return { kind: 'invalid_client', challenge: basicOnly };
  if (basicOnly) return { kind: 'invalid_client', challenge: true };
  if (bodyId === undefined || bodySecret === undefined) return { kind: 'invalid_client', challenge: false };
  return matches(bodyId, bodySecret, credentials) ? { kind: 'ok' } : { kind: 'invalid_client', challenge: false };
}

/**
 * `Basic base64(urlencode(id) ":" urlencode(secret))`. The form-urlencoding step (RFC 6749 §2.3.1) is the one
 * clients most often forget; decoding it here means a secret with `:` `+` or `%` only works if the client encoded it.
 */
function decodeBasic(header: string): { id: string; secret: string } | null {
  const match = /^Basic[ ]+([A-Za-z0-9+/=_-]+)[ ]*$/i.exec(header);
  if (match === null || match[1] === undefined) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  const id = formDecode(decoded.slice(0, colon));
  const secret = formDecode(decoded.slice(colon + 1));
  return id === null || secret === null ? null : { id, secret };
}

function formDecode(value: string): string | null {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

function matches(id: string, secret: string, credentials: ClientCredentials): boolean {
  // Both compared, always, in constant time: the fake should not teach anyone that a short-circuit is acceptable.
  const idOk = sameText(id, credentials.clientId);
  const secretOk = sameText(secret, credentials.clientSecret);
  return idOk && secretOk;
}

/** Constant-time comparison of two strings of any length. */
export function sameText(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}
