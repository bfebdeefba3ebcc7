import type { TokenSet } from './token-set.ts';

/** Retried with backoff: the provider or the network had a bad moment (DESIGN.md invariant 6). */
export type TransientReason = 'network' | 'timeout' | 'server_error' | 'bad_response' | 'unexpected_status';
/** Our own configuration is wrong: no retry, an operator must act. */
export type FatalReason =
  | 'invalid_client'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_request'
  | 'invalid_scope'
  /** The connection's metadata cannot make a token URL this provider allows. */
  | 'invalid_token_url'
  /** A credential grant without the credentials it needs. */
  | 'missing_credentials';
export type FailureReason = TransientReason | FatalReason | 'invalid_grant' | 'rate_limited';

export type RefreshOutcome =
  | { kind: 'success'; tokens: TokenSet; status: number }
  | { kind: 'transient'; reason: TransientReason; status: number | null }
  | { kind: 'rate_limited'; reason: 'rate_limited'; retryAfterMs: number; status: number }
  | { kind: 'reauth'; reason: 'invalid_grant'; status: number | null }
  | { kind: 'fatal'; reason: FatalReason; status: number | null };

export type RefreshOutcomeKind = RefreshOutcome['kind'];
