import type { TokenSet } from './token-set.ts';

export type ParsedTokenResponse =
  | { kind: 'tokens'; tokens: TokenSet }
  /** An RFC 6749 §5.2 error object, wherever it arrived (some providers send errors with HTTP 200). */
  | { kind: 'oauth_error'; error: string }
  | { kind: 'garbage'; why: 'not_json' | 'not_an_object' | 'no_access_token' | 'bad_expires_in' };

/**
 * Reads an RFC 6749 §5.1 token response. Never throws, never echoes the body: the caller only learns why it is
 * unusable, so nothing secret can leak into a log through an error.
 */
export function parseTokenResponse(body: string): ParsedTokenResponse {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { kind: 'garbage', why: 'not_json' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { kind: 'garbage', why: 'not_an_object' };
  const record = value as Record<string, unknown>;

  if (typeof record.error === 'string' && record.error.length > 0) return { kind: 'oauth_error', error: record.error };
  if (typeof record.access_token !== 'string' || record.access_token.length === 0) {
    return { kind: 'garbage', why: 'no_access_token' };
  }

  const tokens: TokenSet = { accessToken: record.access_token };
  if (typeof record.refresh_token === 'string' && record.refresh_token.length > 0)
    tokens.refreshToken = record.refresh_token;
  if (typeof record.scope === 'string') tokens.scope = record.scope;
  if (typeof record.token_type === 'string') tokens.tokenType = record.token_type;

  if (record.expires_in !== undefined && record.expires_in !== null) {
    const seconds = parseExpiresIn(record.expires_in);
    if (seconds === null) return { kind: 'garbage', why: 'bad_expires_in' };
    tokens.expiresInSeconds = seconds;
  }
  return { kind: 'tokens', tokens };
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
