import type { FaultKind } from './faults.ts';

/** `bad_client` also covers wrong user credentials (the password grant and the login endpoint). */
export type TokenRequestOutcome =
  'ok' | 'reused' | 'revoked' | 'unknown_token' | 'bad_client' | 'bad_request' | 'bad_grant' | 'fault';

/**
 * One request to /token (or to the login endpoint), as the server saw it, so tests can assert on what the client
 * actually sent and when.
 */
export interface TokenRequestRecord {
  /** Epoch milliseconds at which the request arrived. */
  at: number;
  /** The grant the presented refresh token belongs to, when it belongs to one. */
  grantId: string | null;
  /** Read from the configured refresh token field; null at the login endpoint. */
  refreshTokenPresented: string | null;
  /** The grant type sent; null when none was, when the endpoint takes none, and at the login endpoint. */
  grantType: string | null;
  /** The `scope` parameter sent, if any. */
  scope: string | null;
  /** The request body's media type (`application/json`, `application/x-www-form-urlencoded`), null when none was said. */
  mediaType: string | null;
  /** The HTTP status sent, or 0 when a `hang` or `reset` fault meant none was. */
  status: number;
  outcome: TokenRequestOutcome;
  /** The fault this request consumed: `delay` keeps the normal outcome, every other kind has outcome `fault`. */
  fault: FaultKind | null;
}
