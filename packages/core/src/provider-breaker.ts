import type { RefreshOutcome } from './refresh-outcome.ts';

/**
 * The circuit breaker of one provider's token endpoint (docs/reliability.md, "Provider outages"): when most of the
 * provider's recent requests fail for transient reasons it opens, refreshes of that provider wait without being sent,
 * one real refresh goes out as a probe now and then, and a successful probe closes it. Pure: the state comes from
 * Redis (every process shares it), the clock is an argument, every answer a value.
 */
export interface BreakerPolicy {
  /** Failed share of the window's requests that opens the breaker, in (0, 1]. */
  failureRatio: number;
  /** How far back the requests counted for opening go. */
  windowMs: number;
  /** Fewer requests than this in the window never open the breaker (a few bad answers prove nothing). */
  minRequests: number;
  /** While open: one probe (a real refresh) at most this often, across every process. */
  probeIntervalMs: number;
  /** After closing without a declared rate limit: how long requests ramp up before they flow freely. */
  rampMs: number;
}

/** How one classified answer counts toward the breaker. */
export type BreakerSignal =
  /** The endpoint is failing: network error, timeout, 5xx, garbage, an unknown error. */
  | 'failure'
  /** New tokens: the endpoint works. */
  | 'success'
  /** An answer about one connection or our client (`invalid_grant`, `invalid_client`): the endpoint works. */
  | 'answered';

/**
 * What an answer says about the provider as a whole. Per-connection answers count as working requests, never as
 * failures; a 429 is not counted at all: it keeps its own handling (the provider's queue pauses for its Retry-After).
 */
export function breakerSignal(outcome: RefreshOutcome): BreakerSignal | null {
  switch (outcome.kind) {
    case 'success':
      return 'success';
    case 'transient':
      return 'failure';
    case 'reauth':
    case 'fatal':
      return 'answered';
    case 'rate_limited':
      return null;
  }
}

/** The window's counts, as Redis kept them for every process. */
export interface BreakerWindow {
  requests: number;
  failures: number;
}

/** Open now: enough requests in the window, and the failed share at or above the threshold. */
export function shouldOpen(
  window: BreakerWindow,
  policy: Pick<BreakerPolicy, 'failureRatio' | 'minRequests'>,
): boolean {
  return (
    window.requests > 0 &&
    window.requests >= policy.minRequests &&
    window.failures / window.requests >= policy.failureRatio
  );
}

/** Why the breaker opened, for the log line, the event and the board: counts and the last failure's reason. */
export interface BreakerWhy {
  failures: number;
  requests: number;
  windowMs: number;
  /** The classified reason of the failure that tipped it (server_error, timeout, network...). */
  reason: string;
}

/** The shared state: closed (since `closedAt`, null when it never opened or Redis lost it) or open. */
export type BreakerState =
  | { kind: 'closed'; closedAt: number | null }
  | { kind: 'open'; openedAt: number; why: BreakerWhy | null; nextProbeAt: number };

/** What a refresh about to be sent does, given the breaker. */
export type BreakerAdmission =
  /** Send; `perSecond`: the ramp's allowance right now (null: no ramp, requests flow freely). */
  | { kind: 'send'; perSecond: number | null }
  /** A probe is due: send if this caller wins the probe slot (one per interval, across every process). */
  | { kind: 'probe' }
  /** Open, no probe due: do not send; look again in `retryAfterMs`. */
  | { kind: 'hold'; retryAfterMs: number };

/**
 * A held job's queue pauses at most this long at a time, so that workers asleep on the pause notice a close (by a
 * probe in another process) within seconds, not a whole probe interval later. Waking costs a few Redis calls.
 */
export const BREAKER_RECHECK_MS = 5_000;

/** The breaker's answer for a refresh about to be sent at `now`. */
export function admitThroughBreaker(state: BreakerState, now: number, policy: BreakerPolicy): BreakerAdmission {
  if (state.kind === 'open') {
    if (state.nextProbeAt <= now) return { kind: 'probe' };
    return { kind: 'hold', retryAfterMs: Math.max(1, Math.min(state.nextProbeAt - now, BREAKER_RECHECK_MS)) };
  }
  const perSecond = state.closedAt === null ? null : rampAllowance(now - state.closedAt, policy);
  return { kind: 'send', perSecond };
}

/** Requests per second the ramp starts at, right after the breaker closes. */
export const RAMP_START_PER_SECOND = 5;
/** The ramp runs in this many steps over `rampMs`, doubling at each; then the limit goes. */
const RAMP_DOUBLINGS = 6;

/**
 * The ramp after a close, for a provider without a declared rate limit: requests per second allowed `sinceCloseMs`
 * after the breaker closed: RAMP_START_PER_SECOND, doubling every sixth of `rampMs` (5, 10, 20, 40, 80, 160 a second
 * over the default minute), then null: no limit. Nearest expiries are first in line (the wait list's order), so the
 * ramp's slow first seconds serve the tokens that need it most.
 */
export function rampAllowance(sinceCloseMs: number, policy: Pick<BreakerPolicy, 'rampMs'>): number | null {
  if (policy.rampMs <= 0 || sinceCloseMs >= policy.rampMs) return null;
  const step = Math.floor((Math.max(0, sinceCloseMs) / policy.rampMs) * RAMP_DOUBLINGS);
  return RAMP_START_PER_SECOND * 2 ** step;
}

/** What a recorded answer changes: open the breaker (closed, and the window says so), close it, or nothing. */
export type BreakerVerdict = 'open' | 'close' | 'none';

/**
 * After recording `signal`: a success while open closes the breaker (the endpoint works; the engine asks this of a
 * probe's success, and counts the successes of requests a closed breaker admitted in batches that ask for no verdict:
 * they cannot tell whether they were answered before the opening or after); a failure while closed opens it when the
 * window says so.
 */
export function breakerVerdict(
  state: BreakerState['kind'],
  signal: BreakerSignal,
  window: BreakerWindow,
  policy: Pick<BreakerPolicy, 'failureRatio' | 'minRequests'>,
): BreakerVerdict {
  if (state === 'open') return signal === 'success' ? 'close' : 'none';
  return signal === 'failure' && shouldOpen(window, policy) ? 'open' : 'none';
}

/** The window is kept in this many buckets in Redis: old ones drop out as time passes, whole. */
export const BREAKER_BUCKETS = 12;

/** The bucket width for a window: the window in BREAKER_BUCKETS parts, at least a second. */
export function breakerBucketMs(windowMs: number): number {
  return Math.max(1_000, Math.ceil(windowMs / BREAKER_BUCKETS));
}
