import { EvergreenError } from '@evergreen/core';
import type { ApiScope } from './api-key-verifier.ts';

/** No key, a malformed Authorization header, or a key the verifier does not know (RFC 6750 §3.1 invalid_token). */
export class UnauthorizedError extends EvergreenError {
  /** Whether a key was presented at all: RFC 6750 sends no error code to a request that had none. */
  readonly presented: boolean;

  constructor(presented: boolean) {
    super(
      'ERR_UNAUTHORIZED',
      presented ? 'the API key is not valid (unknown, revoked or malformed)' : 'send Authorization: Bearer <API key>',
    );
    this.presented = presented;
  }
}

/** The key is valid but was not granted the route's scope (RFC 6750 §3.1 insufficient_scope). */
export class InsufficientScopeError extends EvergreenError {
  readonly scope: ApiScope;

  constructor(scope: ApiScope) {
    super('ERR_INSUFFICIENT_SCOPE', `this API key lacks the scope '${scope}'`);
    this.scope = scope;
  }
}

/** The key is confined to other providers than the one a new connection names. */
export class ProviderNotAllowedError extends EvergreenError {
  readonly provider: string;

  constructor(provider: string) {
    super('ERR_PROVIDER_NOT_ALLOWED', `this API key may not manage connections of provider '${provider}'`);
    this.provider = provider;
  }
}

/** (ownerId, provider) names more than one connection: the caller must ask by id. */
export class AmbiguousConnectionError extends EvergreenError {
  constructor() {
    super(
      'ERR_AMBIGUOUS_CONNECTION',
      'several connections have this owner and provider; read the token by connection id',
    );
  }
}

/** The key made more requests than its rate allows; `retryAfterSeconds` says when it may go on. */
export class RateLimitedError extends EvergreenError {
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number) {
    super('ERR_RATE_LIMITED', `this API key exceeded its request rate; retry in ${retryAfterSeconds} s`);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
