/** How early to refresh, per provider (DESIGN.md invariant 7). All durations in milliseconds. */
export interface RefreshTimingPolicy {
  /** Refresh this long before expiry: 5 minutes unless the provider says otherwise. */
  bufferMs: number;
  /**
   * For short-lived tokens the buffer shrinks to this fraction of the lifetime, so a 2-minute token is refreshed
   * after a minute rather than at once and in a loop; the other half is the room a killed worker's job needs to come
   * back.
   */
  shortLifetimeFraction: number;
  /** Up to this much earlier, at random, so identical expiries (a bulk import) do not stampede a provider. */
  jitterMs: number;
}

export interface RefreshAtInput {
  now: number;
  /** Epoch ms when the access token dies; null when nobody knows. */
  expiresAt: number | null;
  /** Never schedule before this (loop protection after a refresh that granted a uselessly short token). */
  notBefore?: number;
  /** When the expiry is unknown, refresh this long from now (the provider's keep-alive); null: never. */
  unknownExpiryIntervalMs?: number | null;
}

/**
 * When the next refresh should run. Returns null when there is nothing to schedule (expiry unknown and no
 * keep-alive interval). `random` returns [0, 1) and is an argument so tests can pin it.
 */
export function computeRefreshAt(
  input: RefreshAtInput,
  policy: RefreshTimingPolicy,
  random: () => number,
): number | null {
  const { now } = input;
  const notBefore = input.notBefore ?? now;
  if (input.expiresAt === null) {
    const interval = input.unknownExpiryIntervalMs ?? null;
    return interval === null ? null : Math.max(notBefore, now + interval);
  }
  const lifetime = input.expiresAt - now;
  if (lifetime <= 0) return notBefore;
  const buffer = Math.min(policy.bufferMs, lifetime * policy.shortLifetimeFraction);
  const jitter = random() * Math.min(policy.jitterMs, lifetime * 0.1);
  return Math.round(Math.max(notBefore, input.expiresAt - buffer - jitter));
}

export interface BackoffPolicy {
  /** First retry ceiling; doubles per consecutive failure. */
  baseMs: number;
  /** The ceiling never exceeds this (30 s by default). */
  capMs: number;
  /** Quick retries before falling back to the cooldown. */
  attempts: number;
  /**
   * After `attempts` consecutive failures, retry this rarely (± half, at random) for as long as it takes: a transient
   * failure never gives up on a connection, and one broken provider cannot burn thousands of requests a day per
   * connection either.
   */
  cooldownMs: number;
  /**
   * The shortest quick retry: a tenth of the base unless given, so a token endpoint is never retried hot. 0 lets the
   * jitter reach zero (webhook endpoints: a retry there costs nothing but our own request).
   */
  minMs?: number;
}

/**
 * Delay before retry number `failures` (1 for the first failure). Exponential with full jitter
 * (AWS Architecture Blog, "Exponential Backoff and Jitter"), floored at `minMs` (a tenth of the base by default).
 */
export function retryDelayMs(failures: number, policy: BackoffPolicy, random: () => number): number {
  const r = Math.min(Math.max(random(), 0), 1);
  // Rounded down, here and below: the delay stays under its ceiling, so the jitter is uniform over [0, ceiling).
  if (failures > policy.attempts) return Math.floor(policy.cooldownMs * (0.5 + r / 2));
  // 2^52 is past any cap; a larger power overflows to Infinity, and a zero base times Infinity is NaN.
  const exponent = Math.min(Math.max(0, failures - 1), 52);
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** exponent);
  // The floor stays under the ceiling even when the cap is configured below it.
  const floor = Math.min(policy.minMs ?? policy.baseMs / 10, ceiling);
  return Math.floor(Math.max(floor, r * ceiling));
}
