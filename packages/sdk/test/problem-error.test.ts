import { ConnectionNotFoundError, InvalidInputError } from '@evergreen/core';
import { describe, expect, it } from 'vitest';
import { AmbiguousConnectionError, RefreshFailedError, TokenTimeoutError } from '../src/errors.ts';
import { parseRetryAfter, problemError } from '../src/remote/problem-error.ts';
import { ApiAuthError, ApiError, ApiRateLimitedError } from '../src/remote/remote-errors.ts';

const context = { operation: 'getValidAccessToken', connection: 'c1', timeoutMs: 5_000 };
const answer = (status: number, body: unknown, retryAfter: string | null = null) => ({ status, body, retryAfter });

describe('problemError', () => {
  it('maps a 503 refresh failure onto a retryable RefreshFailedError with its reason and Retry-After', () => {
    const error = problemError(
      answer(503, { code: 'ERR_REFRESH_UNAVAILABLE', detail: 'x', reason: 'server_error' }, '7'),
      context,
    );
    expect(error).toBeInstanceOf(RefreshFailedError);
    expect(error).toMatchObject({ connectionId: 'c1', reason: 'server_error', retryable: true, retryAfterMs: 7_000 });
  });

  it('maps a 429 onto ApiRateLimitedError with retryAfterSeconds', () => {
    const error = problemError(answer(429, { code: 'ERR_RATE_LIMITED', detail: 'slow down' }, '3'), context);
    expect(error).toBeInstanceOf(ApiRateLimitedError);
    expect(error).toMatchObject({ status: 429, code: 'ERR_RATE_LIMITED', retryAfterSeconds: 3 });
  });

  it.each([
    [answer(404, { code: 'ERR_CONNECTION_NOT_FOUND', detail: 'x' }), ConnectionNotFoundError],
    [answer(409, { code: 'ERR_AMBIGUOUS_CONNECTION', detail: 'x' }), AmbiguousConnectionError],
    [answer(503, { code: 'ERR_TOKEN_TIMEOUT', detail: 'x' }), TokenTimeoutError],
    [answer(403, { code: 'ERR_PROVIDER_NOT_ALLOWED', detail: 'x' }), ApiAuthError],
    [answer(500, { code: 'ERR_INTERNAL', detail: 'x' }), ApiError],
    [answer(502, '<html>bad gateway</html>'), ApiError],
  ])('maps %j by its code', (a, type) => expect(problemError(a, context)).toBeInstanceOf(type));

  it('keeps every bad field of a 400', () => {
    const error = problemError(
      answer(400, {
        code: 'ERR_INVALID_INPUT',
        detail: 'x',
        errors: [
          { field: 'ownerId', reason: 'must not be empty' },
          { field: 'expiresIn', reason: 'must be at least 0' },
        ],
      }),
      { ...context, operation: 'enqueueConnection' },
    );
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).issues.map((i) => i.field)).toEqual(['ownerId', 'expiresIn']);
    expect(error.message).toMatch(/^enqueueConnection: ownerId/);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('12')).toBe(12);
    expect(parseRetryAfter(new Date(61_000).toUTCString(), 1_000)).toBe(60);
    expect(parseRetryAfter('soon')).toBeNull();
    expect(parseRetryAfter(null)).toBeNull();
  });
});
