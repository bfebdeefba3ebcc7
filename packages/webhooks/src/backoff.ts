export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  /** A number in [0, 1): Math.random in production, a constant in tests. */
  random: () => number;
}

/**
 * How long to wait before the next try after `attempts` failed ones: exponential (base · 2^(attempts−1), capped),
 * with full jitter (uniform between zero and that), so endpoints that failed together do not retry together.
 */
export function retryDelayMs(attempts: number, policy: BackoffPolicy): number {
  const exponent = Math.min(Math.max(attempts - 1, 0), 52);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  const r = Math.min(Math.max(policy.random(), 0), 1);
  return Math.floor(r * ceiling);
}
