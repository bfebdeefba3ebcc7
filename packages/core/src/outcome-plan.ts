import { eventsForOutcome, type EventSpec } from './connection-event.ts';
import { isLive, type ConnectionStatus } from './connection-status.ts';
import type { RefreshDecision, StopDecision } from './refresh-decision.ts';
import type { RefreshOutcome, RefreshOutcomeKind } from './refresh-outcome.ts';
import { planRefresh, type RefreshPlan, type RefreshPlanInput } from './refresh-plan.ts';
import { retryDelayMs, type BackoffPolicy, type RefreshTimingPolicy } from './timing.ts';
import type { TokenSet } from './token-set.ts';

/** What the plan reads of the connection's row (the one the request was made for), as the store returns it. */
export interface OutcomeRow {
  id: string;
  ownerId: string;
  provider: string;
  status: ConnectionStatus;
  consecutiveFailures: number;
  expiresAt: Date | null;
  refreshTokenExpiresAt: Date | null;
  refreshTokenWarnedAt: Date | null;
}

export interface OutcomePlanInput {
  outcome: RefreshOutcome;
  connection: OutcomeRow;
  provider: RefreshPlanInput['provider'];
  /** The refresh token the request presented (the previous one after a grace-period replay; none: credential grant). */
  presented: string | undefined;
  /** When the request started: a new token's lifetime counts from there, not from its arrival. */
  startedAt: number;
  now: number;
  timing: RefreshTimingPolicy;
  /** Never refresh one connection again sooner than this after a success (loop guard). */
  minIntervalMs: number;
  backoff: BackoffPolicy;
  random: () => number;
  /**
   * The request was the probe of the provider's open breaker (docs/reliability.md): a transient failure says the
   * provider is still down, nothing about this connection. Its job is held like the others (due, first in line), so
   * `retryAfterMs` is when its provider's queue looks again.
   */
  probe?: { retryAfterMs: number } | undefined;
}

/** New tokens: write them with their schedule, then follow `decision` (unless the write is fenced). */
export interface SuccessPlan {
  kind: 'success';
  tokens: TokenSet;
  schedule: RefreshPlan;
  /** The refresh token's lapse as the events and the expiry warning report it: the answer's, else the row's. */
  refreshTokenExpiresAt: number | null;
  events: EventSpec[];
  decision: RefreshDecision;
  failures: 0;
}

/** A failure: write the status and next run, then follow `decision` (unless the write is fenced). */
export interface FailurePlan {
  kind: 'failure';
  /** `refreshAt`: the next run, epoch ms (null: none); `countsAsFailure`: whether the failure streak grows. */
  write: { status: ConnectionStatus; refreshAt: number | null; countsAsFailure: boolean };
  /**
   * Re-read the row before writing, and follow it if its version moved: a grant refused because another path already
   * refreshed with it is a lost race, not a revocation.
   */
  confirmVersionFirst: boolean;
  events: EventSpec[];
  decision: RefreshDecision;
  /** The failure streak once written. */
  failures: number;
}

export type OutcomePlan = SuccessPlan | FailurePlan;

/**
 * DESIGN.md invariants 6 and 7 for one classified answer: what the row becomes (status, tokens, next run, failure
 * streak), which events go with the write, and what the job does next. Pure: the clock and `random` are arguments.
 */
export function planOutcome(input: OutcomePlanInput): OutcomePlan {
  const { outcome, connection, now } = input;
  switch (outcome.kind) {
    case 'success': {
      const schedule = planRefresh({
        now,
        issuedFrom: input.startedAt,
        tokens: outcome.tokens,
        provider: input.provider,
        renewable: true,
        current: {
          refreshToken: input.presented ?? null,
          refreshTokenExpiresAt: connection.refreshTokenExpiresAt?.getTime() ?? null,
          refreshTokenWarned: connection.refreshTokenWarnedAt !== null,
        },
        timing: input.timing,
        minIntervalMs: input.minIntervalMs,
        random: input.random,
      });
      const refreshTokenExpiresAt =
        schedule.refreshTokenExpiresAt ?? connection.refreshTokenExpiresAt?.getTime() ?? null;
      return {
        kind: 'success',
        tokens: outcome.tokens,
        schedule,
        refreshTokenExpiresAt,
        events: eventsForOutcome({
          connection,
          outcome: 'success',
          reason: null,
          status: 'connected',
          expiresAt: schedule.expiresAt,
          refreshTokenExpiresAt,
          warnRefreshTokenExpiry: schedule.warnRefreshTokenExpiry,
        }),
        decision:
          schedule.refreshAt === null
            ? { kind: 'done', why: 'expiry_unknown' }
            : { kind: 'delay', runAt: schedule.refreshAt, why: 'scheduled' },
        failures: 0,
      };
    }
    case 'transient': {
      if (input.probe) {
        // The provider is still down: no streak, no backoff, no cooldown. The row stays due, so the connection is
        // refreshed as soon as the breaker closes instead of waiting out a retry time written during the outage.
        const status = statusWhileFailing(connection, now);
        return {
          kind: 'failure',
          write: { status, refreshAt: now, countsAsFailure: false },
          confirmVersionFirst: false,
          events: eventsForOutcome({ connection, outcome: 'rate_limited', reason: outcome.reason, status }),
          decision: { kind: 'provider_outage', retryAfterMs: input.probe.retryAfterMs },
          failures: connection.consecutiveFailures,
        };
      }
      const failures = failuresAfter(outcome.kind, connection.consecutiveFailures);
      const runAt = now + retryDelayMs(failures, input.backoff, input.random);
      const status = statusWhileFailing(connection, now);
      return {
        kind: 'failure',
        write: { status, refreshAt: runAt, countsAsFailure: true },
        confirmVersionFirst: false,
        events: eventsForOutcome({ connection, outcome: outcome.kind, reason: outcome.reason, status }),
        decision: { kind: 'delay', runAt, why: 'retry' },
        failures,
      };
    }
    case 'rate_limited': {
      // A 429 says nothing about the grant: it pauses the provider and leaves the failure streak alone.
      const status = statusWhileFailing(connection, now);
      return {
        kind: 'failure',
        write: { status, refreshAt: now + outcome.retryAfterMs, countsAsFailure: false },
        confirmVersionFirst: false,
        events: eventsForOutcome({ connection, outcome: outcome.kind, reason: outcome.reason, status }),
        decision: { kind: 'rate_limited', retryAfterMs: outcome.retryAfterMs },
        failures: failuresAfter(outcome.kind, connection.consecutiveFailures),
      };
    }
    case 'reauth':
    case 'fatal': {
      const decision: StopDecision =
        outcome.kind === 'reauth'
          ? { kind: 'stop', status: 'needs_reauth', reason: outcome.reason }
          : { kind: 'stop', status: 'error', reason: outcome.reason };
      return {
        kind: 'failure',
        write: { status: decision.status, refreshAt: null, countsAsFailure: true },
        confirmVersionFirst: true,
        events: eventsForOutcome({
          connection,
          outcome: outcome.kind,
          reason: outcome.reason,
          status: decision.status,
        }),
        decision,
        failures: failuresAfter(outcome.kind, connection.consecutiveFailures),
      };
    }
  }
}

/** While refreshes fail, a connection stays `connected` until its access token lapses, then is `token_expired`. */
export function statusWhileFailing(connection: { expiresAt: Date | null }, now: number): ConnectionStatus {
  return connection.expiresAt !== null && connection.expiresAt.getTime() <= now ? 'token_expired' : 'connected';
}

/** The failure streak after an outcome: a success ends it, a 429 leaves it alone, anything else adds one. */
export function failuresAfter(outcome: RefreshOutcomeKind, consecutiveFailures: number): number {
  if (outcome === 'success') return 0;
  return outcome === 'rate_limited' ? consecutiveFailures : consecutiveFailures + 1;
}

/**
 * Our compare-and-set lost, so a newer write exists: follow whatever the row now says (`current`, re-read; null when
 * it is gone).
 */
export function followNewerRow(
  current: { status: ConnectionStatus; refreshAt: Date | null } | null,
  now: number,
): RefreshDecision {
  if (!current || !isLive(current.status) || current.refreshAt === null) return { kind: 'done', why: 'fenced' };
  return { kind: 'delay', runAt: Math.max(now, current.refreshAt.getTime()), why: 'fenced' };
}
