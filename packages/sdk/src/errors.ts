import { EvergreenError } from '@evergreen/core';

/** The connection's grant is gone (revoked, expired refresh token): the user must authorize again. */
export class NeedsReauthError extends EvergreenError {
  readonly connectionId: string;

  constructor(connectionId: string) {
    super('ERR_NEEDS_REAUTH', `connection '${connectionId}' needs the user to authorize again`);
    this.connectionId = connectionId;
  }
}

export class DisconnectedError extends EvergreenError {
  readonly connectionId: string;

  constructor(connectionId: string) {
    super('ERR_DISCONNECTED', `connection '${connectionId}' was disconnected`);
    this.connectionId = connectionId;
  }
}

/**
 * A refresh was needed and did not succeed; `reason` is the classified one (server_error, rate_limited, ...), or
 * `provider_outage` when the provider's circuit breaker is open and nothing was sent (retryable, `retryAfterMs` set).
 */
export class RefreshFailedError extends EvergreenError {
  readonly connectionId: string;
  readonly reason: string;
  /** Transient reasons clear up by themselves; Evergreen keeps retrying in the background. */
  readonly retryable: boolean;
  /** For rate_limited: how long the provider asked us to wait; for provider_outage: when to look again. */
  readonly retryAfterMs: number | null;

  constructor(connectionId: string, reason: string, retryable: boolean, retryAfterMs: number | null = null) {
    super(
      'ERR_REFRESH_FAILED',
      `refreshing connection '${connectionId}' failed: ${reason}${retryable ? ' (retrying in the background)' : ''}`,
    );
    this.connectionId = connectionId;
    this.reason = reason;
    this.retryable = retryable;
    this.retryAfterMs = retryAfterMs;
  }
}

/** No valid token within the caller's time bound (a refresh in flight elsewhere took too long, say). */
export class TokenTimeoutError extends EvergreenError {
  readonly connectionId: string;
  readonly timeoutMs: number;

  constructor(connectionId: string, timeoutMs: number) {
    super('ERR_TOKEN_TIMEOUT', `no valid token for connection '${connectionId}' within ${timeoutMs} ms`);
    this.connectionId = connectionId;
    this.timeoutMs = timeoutMs;
  }
}

/** `(ownerId, provider)` names more than one connection (each enqueued with its own id): ask by connection id. */
export class AmbiguousConnectionError extends EvergreenError {
  readonly ownerId: string;
  readonly provider: string;

  constructor(ownerId: string, provider: string) {
    super(
      'ERR_AMBIGUOUS_CONNECTION',
      `several connections of provider '${provider}' belong to owner '${ownerId}'; ask by connection id`,
    );
    this.ownerId = ownerId;
    this.provider = provider;
  }
}
