import type { ConnectionStatus } from './connection-status.ts';
import type { FatalReason } from './refresh-outcome.ts';

/** Why a connection's job runs again later. */
export type DelayReason =
  /** The refresh succeeded: the next one, at the planned time. */
  | 'scheduled'
  /** Another path (a forced refresh, a re-enqueue) moved the row on: follow its `refresh_at`. */
  | 'not_due'
  /** A transient failure: the backoff's next try. */
  | 'retry'
  /** Another process holds the connection's lock (or ours could not be kept long enough): look again shortly. */
  | 'locked'
  /** Our write lost the compare-and-set to a newer one: follow what the row now says. */
  | 'fenced'
  /** The row names a provider this process is not configured for: look again after the cooldown. */
  | 'unknown_provider';

/** Why a connection's job ends without a next run. */
export type DoneReason =
  | 'not_found'
  /** The row is not live (needs_reauth, error, disconnected): it waits for a person or a new enqueue. */
  | `status_${ConnectionStatus}`
  /** The row has no next refresh and nobody forced one. */
  | 'nothing_to_schedule'
  /** The provider's tokens never expire (grant `none`). */
  | 'never_expires'
  /** An on-demand caller asked for a token that turned out fresh enough (re-checked under the lock). */
  | 'fresh'
  | 'no_refresh_token'
  /** Refreshed, but nothing says when the new token expires and the provider declares no keep-alive. */
  | 'expiry_unknown'
  /** Our write was fenced and the newer row has no next refresh. */
  | 'fenced';

/** What the job that ran a refresh should do next: the worker maps each kind onto BullMQ at the edge. */
export type RefreshDecision =
  /** Run the connection's job again at `runAt` (the next refresh, a retry, or a re-check). */
  | { kind: 'delay'; runAt: number; why: DelayReason }
  /** The provider said 429 (or its declared rate is spent): pause its whole queue this long; no attempt is used. */
  | { kind: 'rate_limited'; retryAfterMs: number }
  /**
   * The provider's breaker is open (its token endpoint is down): nothing was sent. Like a 429, the provider's queue
   * pauses this long and the job waits without using an attempt; on-demand callers get a retryable error.
   */
  | { kind: 'provider_outage'; retryAfterMs: number }
  /** Nothing left to schedule: the connection is gone, not live, or never expires. */
  | { kind: 'done'; why: DoneReason }
  /** The connection needs a person: no retry. */
  | StopDecision;

/** A refresh token the provider refused needs the user again; a refusal of our client needs an operator. */
export type StopDecision =
  | { kind: 'stop'; status: 'needs_reauth'; reason: 'invalid_grant' }
  | { kind: 'stop'; status: 'error'; reason: FatalReason };
