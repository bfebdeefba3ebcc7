import { EvergreenError, InvalidInputError, type InputIssue } from '@evergreen/core';
import { ConnectNotConfiguredError } from '@evergreen/connect';
import { RefreshFailedError } from '@evergreen/sdk';
import { InsufficientScopeError, RateLimitedError, UnauthorizedError } from './api-errors.ts';

/** RFC 9457 problem details, with Evergreen's stable `code` and, for a 400, every bad field. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: InputIssue[];
  /** A failed refresh's classified reason (RFC 9457 §3.2 extension member), so clients can type the error. */
  reason?: string;
}

export interface ProblemReply {
  status: number;
  headers: Record<string, string>;
  body: Problem;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Seconds a caller should wait after a transient refresh failure without a provider's Retry-After. */
const TRANSIENT_RETRY_AFTER_SECONDS = 5;

/** Every code the API answers with: its status and a title that does not vary between occurrences (RFC 9457 §3.1.3). */
const PROBLEMS: Record<string, { status: number; title: string }> = {
  ERR_INVALID_INPUT: { status: 400, title: 'The request is not valid' },
  ERR_UNAUTHORIZED: { status: 401, title: 'A valid API key is required' },
  ERR_INSUFFICIENT_SCOPE: { status: 403, title: 'The API key lacks a scope' },
  ERR_PROVIDER_NOT_ALLOWED: { status: 403, title: 'The API key may not use this provider' },
  ERR_CONNECTION_NOT_FOUND: { status: 404, title: 'No such connection' },
  ERR_NOT_FOUND: { status: 404, title: 'No such route' },
  ERR_METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  ERR_NEEDS_REAUTH: { status: 409, title: 'The connection needs the user to authorize again' },
  ERR_DISCONNECTED: { status: 409, title: 'The connection was disconnected' },
  ERR_AMBIGUOUS_CONNECTION: { status: 409, title: 'Several connections match' },
  ERR_PAYLOAD_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'The request body must be JSON' },
  ERR_RATE_LIMITED: { status: 429, title: 'Too many requests' },
  ERR_INTERNAL: { status: 500, title: 'Internal error' },
  ERR_DISCOVERY_FAILED: { status: 502, title: "The provider's OpenID Connect discovery failed" },
  ERR_CONNECT_NOT_CONFIGURED: { status: 503, title: 'The connect flow is not configured' },
  ERR_REFRESH_FAILED: { status: 502, title: 'The provider refused to refresh the token' },
  ERR_REFRESH_UNAVAILABLE: { status: 503, title: 'The token could not be refreshed for now' },
  ERR_TOKEN_TIMEOUT: { status: 503, title: 'No valid token in time' },
};

/** A stable, non-dereferenceable type URI per code (RFC 9457 §3.1.1 allows any URI; this one never moves). */
export const problemType = (code: string): string => `urn:evergreen:problem:${code.toLowerCase().replace(/_/g, '-')}`;

export function problem(
  code: string,
  detail: string,
  extra: { errors?: InputIssue[]; status?: number; reason?: string } = {},
): Problem {
  const known = PROBLEMS[code] ?? PROBLEMS.ERR_INTERNAL!;
  return {
    type: problemType(code),
    title: known.title,
    status: extra.status ?? known.status,
    detail,
    code,
    ...(extra.errors !== undefined && { errors: extra.errors }),
    ...(extra.reason !== undefined && { reason: extra.reason }),
  };
}

/**
 * What an error answers. Messages of Evergreen's errors never carry a token (core's rule), so they are the detail;
 * anything else is a 500 whose detail says nothing of the cause.
 */
export function toProblemReply(error: unknown): ProblemReply {
  const headers: Record<string, string> = {};
  if (error instanceof InvalidInputError) {
    return { status: 400, headers, body: problem(error.code, error.message, { errors: [...error.issues] }) };
  }
  if (error instanceof ConnectNotConfiguredError) {
    return { status: 503, headers, body: problem(error.code, error.message, { errors: [...error.issues] }) };
  }
  if (error instanceof UnauthorizedError) {
    // RFC 6750 §3: a challenge on every 401; an error code only when a token was presented.
    headers['www-authenticate'] = error.presented
      ? 'Bearer realm="evergreen", error="invalid_token"'
      : 'Bearer realm="evergreen"';
  }
  if (error instanceof InsufficientScopeError) {
    headers['www-authenticate'] = `Bearer realm="evergreen", error="insufficient_scope", scope="${error.scope}"`;
  }
  if (error instanceof RateLimitedError) headers['retry-after'] = String(error.retryAfterSeconds);
  if (error instanceof RefreshFailedError && error.retryable) {
    // A transient failure clears up on its own (Evergreen retries in the background): worth asking again later.
    const seconds =
      error.retryAfterMs === null ? TRANSIENT_RETRY_AFTER_SECONDS : Math.max(1, Math.ceil(error.retryAfterMs / 1000));
    headers['retry-after'] = String(seconds);
    return {
      status: 503,
      headers,
      body: problem('ERR_REFRESH_UNAVAILABLE', error.message, { reason: error.reason }),
    };
  }
  if (error instanceof EvergreenError && error.code === 'ERR_TOKEN_TIMEOUT') {
    headers['retry-after'] = String(TRANSIENT_RETRY_AFTER_SECONDS);
  }
  if (error instanceof EvergreenError && PROBLEMS[error.code] !== undefined) {
    const body = problem(
      error.code,
      error.message,
      error instanceof RefreshFailedError ? { reason: error.reason } : {},
    );
    return { status: body.status, headers, body };
  }
  return { status: 500, headers, body: problem('ERR_INTERNAL', 'internal error; see the api logs') };
}
