import type { RefreshOutcomeKind } from '@evergreen/core';

/**
 * What the engine reports as it works, for metrics and traces. Implementations must be cheap and must never throw;
 * nothing passed here is secret (no token, no owner id).
 */
export interface RefreshObserver {
  /** One request to a token endpoint, classified. */
  attempt(event: {
    provider: string;
    outcome: RefreshOutcomeKind;
    reason: string | null;
    trigger: 'schedule' | 'on_demand' | 'forced';
    durationMs: number;
  }): void;
  /** A scheduled refresh started this long after the time it was due (0 when on time or early). */
  lateness(event: { provider: string; ms: number }): void;
  /** Another process held the connection's lock, so this run waited instead of refreshing. */
  lockContention(event: { provider: string | null }): void;
  /** This process opened or closed a provider's breaker (each transition is reported by one process only). */
  breakerTransition(event: { provider: string; to: 'open' | 'closed' }): void;
}

export const NO_OBSERVER: RefreshObserver = {
  attempt: () => {},
  lateness: () => {},
  lockContention: () => {},
  breakerTransition: () => {},
};
