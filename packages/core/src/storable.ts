/**
 * The instants Evergreen can store: what `Date#toISOString()` writes with a four-digit year and Postgres's timestamptz
 * reads back, 0001-01-01 to 9999-12-31 (UTC). A provider's `expires_in` of 1e300, or a JWT `exp` in the year 20000, is
 * a number, but not a time any row can hold (`new Date(Infinity).toISOString()` throws; Postgres refuses `+020000-…`).
 */
export const EARLIEST_STORABLE_MS = Date.parse('0001-01-01T00:00:00.000Z');
export const LATEST_STORABLE_MS = Date.parse('9999-12-31T23:59:59.999Z');

export function isStorableTime(ms: number): boolean {
  return Number.isFinite(ms) && ms >= EARLIEST_STORABLE_MS && ms <= LATEST_STORABLE_MS;
}

/** In a `u` regular expression a surrogate matches only alone: a proper pair is one code point. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Text that survives UTF-8, and so encryption (the keyring seals UTF-8 bytes): no lone UTF-16 surrogate, which would
 * come back as U+FFFD.
 */
export function isWellFormedText(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/** Text a Postgres `text` or `jsonb` value can hold: well-formed, and no NUL character. */
export function isStorableText(text: string): boolean {
  return isWellFormedText(text) && !text.includes('\u0000');
}
