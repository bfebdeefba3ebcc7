import type { FailureReason, RefreshOutcomeKind } from '@evergreen/core';
import type { RefreshObserver } from '@evergreen/refresh';
import { Counter, Histogram, type Registry } from 'prom-client';

/** Token-endpoint round trips run from a few milliseconds (a local provider) to the HTTP deadline (tens of seconds). */
export const DURATION_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** How late a scheduled refresh started: 0 is the goal, minutes mean the workers cannot keep up. */
export const LATENESS_BUCKETS_SECONDS = [0, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300];

/**
 * Every reason the classifier can give (a Record, so a new reason in @evergreen/core fails to compile here until it
 * is listed). Anything else becomes `none`: label values are a closed set, never free text from a response.
 */
const KNOWN_REASONS: Record<FailureReason, true> = {
  network: true,
  timeout: true,
  server_error: true,
  bad_response: true,
  unexpected_status: true,
  invalid_client: true,
  unauthorized_client: true,
  unsupported_grant_type: true,
  invalid_request: true,
  invalid_scope: true,
  invalid_token_url: true,
  missing_credentials: true,
  invalid_grant: true,
  rate_limited: true,
};
const KNOWN_OUTCOMES: Record<RefreshOutcomeKind, true> = {
  success: true,
  transient: true,
  rate_limited: true,
  reauth: true,
  fatal: true,
};
const KNOWN_TRIGGERS = new Set(['schedule', 'on_demand', 'forced']);

export const NONE = 'none';

export function reasonLabel(reason: string | null): string {
  return reason !== null && Object.hasOwn(KNOWN_REASONS, reason) ? reason : NONE;
}

function outcomeLabel(outcome: string): string {
  return Object.hasOwn(KNOWN_OUTCOMES, outcome) ? outcome : NONE;
}

function triggerLabel(trigger: string): string {
  return KNOWN_TRIGGERS.has(trigger) ? trigger : NONE;
}

/**
 * The refresh engine's observer as Prometheus metrics. Labels carry provider ids, outcome kinds and classified
 * reasons only: never an owner id, a connection id or a token (DESIGN.md invariant 8). Never throws.
 */
export class RefreshMetrics implements RefreshObserver {
  readonly attempts: Counter<'provider' | 'outcome' | 'reason' | 'trigger'>;
  readonly duration: Histogram<'provider' | 'outcome'>;
  readonly latenessSeconds: Histogram<'provider'>;
  readonly lockContentions: Counter;
  readonly breakerTransitions: Counter<'provider' | 'to'>;

  constructor(registry: Registry) {
    this.attempts = new Counter({
      name: 'evergreen_refresh_attempts_total',
      help: 'Requests to token endpoints, by provider, classified outcome, reason (none on success) and trigger.',
      labelNames: ['provider', 'outcome', 'reason', 'trigger'] as const,
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'evergreen_refresh_duration_seconds',
      help: 'Duration of token-endpoint requests, by provider and classified outcome.',
      labelNames: ['provider', 'outcome'] as const,
      buckets: DURATION_BUCKETS_SECONDS,
      registers: [registry],
    });
    this.latenessSeconds = new Histogram({
      name: 'evergreen_refresh_lateness_seconds',
      help: 'How long after its due time a scheduled refresh started (0 when on time).',
      labelNames: ['provider'] as const,
      buckets: LATENESS_BUCKETS_SECONDS,
      registers: [registry],
    });
    this.lockContentions = new Counter({
      name: 'evergreen_lock_contention_total',
      help: "Refresh runs that found the connection's lock held by another process and waited instead.",
      registers: [registry],
    });
    this.breakerTransitions = new Counter({
      name: 'evergreen_provider_breaker_transitions_total',
      help: "Provider circuit breaker transitions made by this process (to: open, closed); the scheduler's evergreen_provider_breaker_open gauge shows the state.",
      labelNames: ['provider', 'to'] as const,
      registers: [registry],
    });
  }

  attempt(event: Parameters<RefreshObserver['attempt']>[0]): void {
    try {
      const outcome = outcomeLabel(event.outcome);
      this.attempts.inc({
        provider: event.provider,
        outcome,
        reason: reasonLabel(event.reason),
        trigger: triggerLabel(event.trigger),
      });
      if (Number.isFinite(event.durationMs) && event.durationMs >= 0) {
        this.duration.observe({ provider: event.provider, outcome }, event.durationMs / 1_000);
      }
    } catch {
      // Metrics must never break a refresh.
    }
  }

  lateness(event: Parameters<RefreshObserver['lateness']>[0]): void {
    try {
      if (!Number.isFinite(event.ms)) return;
      this.latenessSeconds.observe({ provider: event.provider }, Math.max(0, event.ms) / 1_000);
    } catch {
      // Metrics must never break a refresh.
    }
  }

  lockContention(_event: Parameters<RefreshObserver['lockContention']>[0]): void {
    try {
      this.lockContentions.inc();
    } catch {
      // Metrics must never break a refresh.
    }
  }

  breakerTransition(event: Parameters<RefreshObserver['breakerTransition']>[0]): void {
    try {
      this.breakerTransitions.inc({ provider: event.provider, to: event.to === 'open' ? 'open' : 'closed' });
    } catch {
      // Metrics must never break a refresh.
    }
  }
}
