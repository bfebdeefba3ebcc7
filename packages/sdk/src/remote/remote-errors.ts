import { EvergreenError } from '@evergreen/core';

/**
 * The token service answered with a problem that is not one of the client's typed errors (or could not be reached:
 * `status` 0). `code` is the problem's stable code; `detail` its human text, which never carries a token or key.
 */
export class ApiError extends EvergreenError {
  readonly status: number;
  readonly detail: string;
  /** From Retry-After, when the service sent one. */
  readonly retryAfterSeconds: number | null;

  constructor(code: string, status: number, detail: string, retryAfterSeconds: number | null = null) {
    super(code, status === 0 ? detail : `the token service answered ${status} ${code}: ${detail}`);
    this.status = status;
    this.detail = detail;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** 401 (no valid key: unknown, revoked, malformed) or 403 (the key lacks the route's scope or the provider). */
export class ApiAuthError extends ApiError {}

/** 429: the key exceeded its request rate; `retryAfterSeconds` says when it may go on. */
export class ApiRateLimitedError extends ApiError {}

/** A call the remote client cannot offer over HTTP (`subscribe`: events go to signed webhooks instead). */
export class NotAvailableRemotelyError extends EvergreenError {
  readonly method: string;

  constructor(method: string, instead: string) {
    super('ERR_NOT_AVAILABLE_REMOTELY', `${method} is not available through the token service: ${instead}`);
    this.method = method;
  }
}
