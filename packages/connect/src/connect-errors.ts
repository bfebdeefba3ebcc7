import { EvergreenError, type InputIssue } from '@evergreen/core';

/** The connect flow cannot run: a variable it needs is missing. Names each; nothing was stored. */
export class ConnectNotConfiguredError extends EvergreenError {
  readonly issues: readonly InputIssue[];

  constructor(issues: readonly InputIssue[]) {
    super(
      'ERR_CONNECT_NOT_CONFIGURED',
      `the connect flow is not configured: ${issues.map((i) => `${i.field}: ${i.reason}`).join('; ')}`,
    );
    this.issues = issues;
  }
}

/** The provider's OpenID Connect discovery failed at the start of a session. */
export class DiscoveryFailedError extends EvergreenError {
  readonly provider: string;

  constructor(provider: string, reason: string) {
    super('ERR_DISCOVERY_FAILED', `provider '${provider}': OpenID Connect discovery failed (${reason})`);
    this.provider = provider;
  }
}

/**
 * How a callback that came back to a known session ended, as the stable `error_code` added to `returnTo`. Never a
 * token, never a provider's body: a provider's own error code is passed on only as `access_denied` or
 * `provider_error`.
 */
export const CONNECT_ERROR_CODES = [
  /** The user (or the provider) refused: `error=access_denied` on the redirect. */
  'access_denied',
  /** Any other `error` the provider redirected with. */
  'provider_error',
  /** The state was right but more than 10 minutes old. */
  'state_expired',
  /** The redirect carried neither a code nor an error. */
  'missing_code',
  /** The token endpoint refused the code, failed, or answered no usable token. */
  'exchange_failed',
  /** The id_token did not verify (signature, iss, aud, exp, nonce), or an OpenID Connect answer had none. */
  'id_token_invalid',
  /** The tokens could not be stored (the connection changed owner, or the store refused them). */
  'store_failed',
] as const;
export type ConnectErrorCode = (typeof CONNECT_ERROR_CODES)[number];

/** Messages for the `error` parameter: what a person reads; `error_code` is for programs. */
export const CONNECT_ERROR_TEXT: Record<ConnectErrorCode, string> = {
  access_denied: 'The authorization was refused.',
  provider_error: 'The provider reported an error.',
  state_expired: 'The connect session expired; start again.',
  missing_code: 'The provider sent no authorization code.',
  exchange_failed: 'The authorization code could not be exchanged for tokens.',
  id_token_invalid: 'The identity token did not verify.',
  store_failed: 'The connection could not be stored.',
};
