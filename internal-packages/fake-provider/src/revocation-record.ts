/** One request to /revoke (RFC 7009), as the server saw it, so tests can assert on what the client sent. */
export interface RevocationRecord {
  /** Epoch milliseconds at which the request arrived. */
  at: number;
  /** The `token` parameter sent, or null when none was. */
  tokenPresented: string | null;
  tokenTypeHint: string | null;
  /** The grant the token belongs to (refresh or access token), when it belongs to one. */
  grantId: string | null;
  /** The HTTP status sent, or 0 when a `hang` or `reset` fault meant none was. */
  status: number;
  outcome: 'revoked' | 'unknown_token' | 'bad_client' | 'bad_request' | 'fault';
}
