import { ConnectionNotFoundError, EvergreenError, InvalidInputError, type InputIssue } from '@evergreen/core';
import {
  AmbiguousConnectionError,
  DisconnectedError,
  NeedsReauthError,
  RefreshFailedError,
  TokenTimeoutError,
} from '../errors.ts';
import { ApiAuthError, ApiError, ApiRateLimitedError } from './remote-errors.ts';

/** What a failed call answered: its status, its RFC 9457 body (if it was one) and its Retry-After. */
export interface FailedAnswer {
  status: number;
  body: unknown;
  retryAfter: string | null;
}

/** What the call was about, so the typed error names the same things the direct mode's would. */
export interface CallContext {
  /** The connection id, or `provider/ownerId`. */
  connection?: string;
  ownerId?: string;
  provider?: string;
  /** Names the call in an InvalidInputError's message, as the direct mode does (`enqueueConnection`). */
  operation: string;
  /** The bound the caller set, for a TokenTimeoutError. */
  timeoutMs: number;
}

interface ProblemBody {
  code: string;
  detail: string;
  errors?: InputIssue[];
  reason?: string;
}

/**
 * The direct mode's typed error for a problem answer, picked by its stable `code` (the status alone is ambiguous:
 * 409 is needs_reauth, disconnected or ambiguous). Codes the client has no class for become an ApiError.
 */
export function problemError(answer: FailedAnswer, context: CallContext): EvergreenError {
  const problem = readProblem(answer.body);
  const retryAfterSeconds = parseRetryAfter(answer.retryAfter);
  const connection = context.connection ?? '(unknown)';
  switch (problem.code) {
    case 'ERR_CONNECTION_NOT_FOUND':
      return new ConnectionNotFoundError(connection);
    case 'ERR_NEEDS_REAUTH':
      return new NeedsReauthError(connection);
    case 'ERR_DISCONNECTED':
      return new DisconnectedError(connection);
    case 'ERR_AMBIGUOUS_CONNECTION':
      return new AmbiguousConnectionError(context.ownerId ?? '(unknown)', context.provider ?? '(unknown)');
    case 'ERR_REFRESH_FAILED':
      return new RefreshFailedError(connection, problem.reason ?? 'refresh_failed', false);
    case 'ERR_REFRESH_UNAVAILABLE':
      // A transient failure: the service keeps retrying in the background and says when to ask again.
      return new RefreshFailedError(
        connection,
        problem.reason ?? 'transient',
        true,
        retryAfterSeconds === null ? null : retryAfterSeconds * 1_000,
      );
    case 'ERR_TOKEN_TIMEOUT':
      return new TokenTimeoutError(connection, context.timeoutMs);
    case 'ERR_INVALID_INPUT':
      return new InvalidInputError(
        context.operation,
        problem.errors && problem.errors.length > 0 ? problem.errors : [{ field: '(input)', reason: problem.detail }],
      );
  }
  if (answer.status === 401 || answer.status === 403) {
    return new ApiAuthError(problem.code, answer.status, problem.detail, retryAfterSeconds);
  }
  if (answer.status === 429) return new ApiRateLimitedError(problem.code, 429, problem.detail, retryAfterSeconds);
  return new ApiError(problem.code, answer.status, problem.detail, retryAfterSeconds);
}

/** The problem's fields, or a stand-in when the body was not one (a proxy's HTML page, say: never echoed). */
function readProblem(body: unknown): ProblemBody {
  if (typeof body !== 'object' || body === null) return { code: 'ERR_API', detail: 'the answer was not a problem' };
  const b = body as Record<string, unknown>;
  const errors = Array.isArray(b.errors)
    ? b.errors.filter(
        (e): e is InputIssue =>
          typeof e === 'object' &&
          e !== null &&
          typeof (e as InputIssue).field === 'string' &&
          typeof (e as InputIssue).reason === 'string',
      )
    : undefined;
  return {
    code: typeof b.code === 'string' ? b.code : 'ERR_API',
    detail: typeof b.detail === 'string' ? b.detail : 'the answer was not a problem',
    ...(errors && { errors }),
    ...(typeof b.reason === 'string' && { reason: b.reason }),
  };
}

/** RFC 9110 §10.2.3: delay-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null || value.trim() === '') return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1_000));
}
