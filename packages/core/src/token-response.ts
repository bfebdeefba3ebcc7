import { DEFAULT_RESPONSE_SHAPE, type AbsoluteTimeFormat, type ResponseShape } from './provider-definition.ts';
import { isStorableText, isWellFormedText } from './storable.ts';
import type { TokenSet } from './token-set.ts';

export type ParsedTokenResponse =
  | { kind: 'tokens'; tokens: TokenSet }
  /** An error code, wherever it arrived (RFC 6749 §5.2 under 400, GitHub's and Slack's under 200). */
  | { kind: 'oauth_error'; error: string }
  | { kind: 'garbage'; why: 'not_json' | 'not_an_object' | 'no_access_token' | 'bad_token' | 'bad_expires_in' };

/**
 * Reads a token response through the provider's response shape. JSON, or form-urlencoded (GitHub answers so unless
 * asked for JSON). Never throws, never echoes the body: the caller only learns why it is unusable, so nothing secret
 * can leak into a log through an error.
 */
export function parseTokenResponse(
  body: string,
  shape: ResponseShape = DEFAULT_RESPONSE_SHAPE,
  contentType = '',
): ParsedTokenResponse {
  const record = decodeBody(body, contentType);
  if (record === 'not_json' || record === 'not_an_object') return { kind: 'garbage', why: record };

  const error = at(record, shape.error);
  if (typeof error === 'string' && error.length > 0) return { kind: 'oauth_error', error };
  if (shape.successFlag !== null && at(record, shape.successFlag) !== true) {
    return { kind: 'oauth_error', error: 'unsuccessful' };
  }
  const accessToken = at(record, shape.accessToken);
  if (typeof accessToken !== 'string' || accessToken.length === 0) return { kind: 'garbage', why: 'no_access_token' };

  const tokens: TokenSet = { accessToken };
  const refreshToken = shape.refreshToken === null ? undefined : at(record, shape.refreshToken);
  if (typeof refreshToken === 'string' && refreshToken.length > 0) tokens.refreshToken = refreshToken;
  // A JSON escape can make a lone surrogate, which UTF-8 (and so the keyring) cannot carry: such a token would be
  // stored changed, or not at all. It is no token.
  if (!isWellFormedText(accessToken) || (tokens.refreshToken !== undefined && !isWellFormedText(tokens.refreshToken))) {
    return { kind: 'garbage', why: 'bad_token' };
  }
  const scope = at(record, 'scope');
  if (typeof scope === 'string') tokens.scope = scope;
  const tokenType = at(record, 'token_type');
  if (typeof tokenType === 'string') tokens.tokenType = tokenType;

  const expiresIn = shape.expiresIn === null ? undefined : at(record, shape.expiresIn);
  if (expiresIn !== undefined && expiresIn !== null) {
    const n = parseExpiresIn(expiresIn);
    if (n === null) return { kind: 'garbage', why: 'bad_expires_in' };
    tokens.expiresInSeconds = shape.expiresInUnit === 'milliseconds' ? n / 1_000 : n;
  }
  const expiresAt = shape.expiresAt === null ? undefined : at(record, shape.expiresAt);
  if (expiresAt !== undefined && expiresAt !== null) {
    const ms = parseAbsoluteTime(expiresAt, shape.expiresAtFormat);
    if (ms === null) return { kind: 'garbage', why: 'bad_expires_in' };
    tokens.expiresAt = ms;
  }
  const issuedAt = shape.issuedAt === null ? undefined : at(record, shape.issuedAt);
  const issuedMs = issuedAt === undefined ? null : parseAbsoluteTime(issuedAt, shape.issuedAtFormat);
  if (issuedMs !== null) tokens.issuedAt = issuedMs;
  const rtExpiresIn = shape.refreshTokenExpiresIn === null ? undefined : at(record, shape.refreshTokenExpiresIn);
  const rtSeconds = rtExpiresIn === undefined ? null : parseExpiresIn(rtExpiresIn);
  if (rtSeconds !== null) tokens.refreshTokenExpiresInSeconds = rtSeconds;

  const metadata: Record<string, string> = {};
  for (const [key, path] of Object.entries(shape.metadata)) {
    const value = at(record, path);
    // Merged into a jsonb column, which refuses NUL and lone surrogates: such a value is left out.
    if (typeof value === 'string' && value.length > 0 && isStorableText(value)) metadata[key] = value;
  }
  if (Object.keys(metadata).length > 0) tokens.metadata = metadata;
  return { kind: 'tokens', tokens };
}

function decodeBody(body: string, contentType: string): Record<string, unknown> | 'not_json' | 'not_an_object' {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    const looksLikeForm =
      contentType.includes('x-www-form-urlencoded') || /^[\w.%+-]+=[^<>{}\s]*(&|$)/.test(body.trim());
    if (!looksLikeForm) return 'not_json';
    return Object.fromEntries(new URLSearchParams(body.trim()));
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not_an_object';
  return value as Record<string, unknown>;
}

/** A dotted path into the body (`authed_user.access_token`). */
function at(record: Record<string, unknown>, path: string): unknown {
  let current: unknown = record;
  for (const key of path.split('.')) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** `expires_in` arrives as a number or, from some providers, a numeric string. */
export function parseExpiresIn(value: unknown): number | null {
  // Plain decimal only: Number() would also read "0x10" and "1e3".
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value)
        ? Number(value)
        : NaN;
  return Number.isFinite(n) && n >= 0 ? n : null;
}

/** An absolute time in epoch seconds, epoch milliseconds (number or numeric string) or ISO 8601, as epoch ms. */
export function parseAbsoluteTime(value: unknown, format: AbsoluteTimeFormat): number | null {
  if (format === 'iso8601') {
    if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(value)) return null;
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? null : ms;
  }
  const n = parseExpiresIn(value);
  if (n === null) return null;
  // 1e306 epoch seconds is a finite number but overflows to Infinity in milliseconds: not a time.
  const ms = Math.round(format === 'epoch_seconds' ? n * 1_000 : n);
  return Number.isFinite(ms) ? ms : null;
}
