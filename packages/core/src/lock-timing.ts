/** Time the write after the request may take while the lock must still be ours. */
export const WRITE_MARGIN_MS = 1_000;
/** Time from taking the lock to sending: reading the row, taking a send slot. */
export const PREPARE_MARGIN_MS = 2_000;
/** The longest wait before looking again at a connection whose lock another process holds. */
export const LOCKED_RECHECK_MAX_MS = 1_000;
/** The shortest such wait: a lock about to lapse is not polled in a hot loop. */
export const LOCKED_RECHECK_MIN_MS = 250;

/**
 * How long a refresh takes the connection's lock for: what one request and its write need, at most the configured
 * TTL. Nobody releases a killed worker's lock, so this is also how long its connection waits: if the killed request
 * had rotated the refresh token, the retry must present the old one within the provider's grace period (Okta's is
 * 30 s by default), which a lock held for the whole TTL could use up. Longer phases (a grace-period replay, retried
 * writes) extend the lock as they go.
 */
export function refreshLockMs(lockTtlMs: number, httpDeadlineMs: number): number {
  return Math.min(lockTtlMs, httpDeadlineMs + WRITE_MARGIN_MS + PREPARE_MARGIN_MS);
}

/**
 * Whether a lock that lapses at `lockExpiresAt` outlives a request sent at `now` and its write. When it does not (a
 * slow Postgres, a paused process), the lock must be extended before sending, or the refresh given up: a second
 * holder must never present the same refresh token.
 */
export function lockOutlivesRequest(lockExpiresAt: number, now: number, httpDeadlineMs: number): boolean {
  return lockExpiresAt - now >= httpDeadlineMs + WRITE_MARGIN_MS;
}

/**
 * How long to wait before looking again when another process holds the connection's lock for `remainingMs` more:
 * holders usually finish within one request, and a dead holder's lock lapses by its TTL.
 */
export function lockedRecheckMs(remainingMs: number): number {
  return Math.min(LOCKED_RECHECK_MAX_MS, Math.max(LOCKED_RECHECK_MIN_MS, remainingMs + 100));
}
