import type { ProviderDefinition, RefreshDecision, RefreshOutcome } from '@evergreen/core';
import type { Logger } from '@evergreen/log';
import type { Exchange } from '@evergreen/oauth';
import type { AttemptAudit, StoredConnection } from '@evergreen/store';
import type { Span } from '@opentelemetry/api';
import type { RefreshObserver } from './refresh-observer.ts';

/** Successes are routine, provider trouble is worth a look, and a connection that needs a person is an error. */
const LOG_LEVEL = {
  success: 'info',
  transient: 'warn',
  rate_limited: 'warn',
  reauth: 'error',
  fatal: 'error',
} as const;

export interface ObservedAttempt {
  connection: StoredConnection;
  provider: ProviderDefinition;
  trigger: AttemptAudit['trigger'];
  /** When the refresh started (after the row was read): a scheduled one's lateness counts to here. */
  startedAt: number;
  exchange: Exchange;
  outcome: RefreshOutcome;
}

/**
 * Metrics and trace of one attempt, as soon as the answer is classified. A request that was never sent (no usable
 * token URL, missing credentials) is not an attempt. Nothing here is secret: ids, outcomes, reasons, times.
 */
export function observeAttempt(observer: RefreshObserver, span: Span, attempt: ObservedAttempt): void {
  const { connection, provider, exchange, outcome } = attempt;
  if (attempt.trigger === 'schedule' && connection.refreshAt !== null) {
    observer.lateness({ provider: provider.id, ms: Math.max(0, attempt.startedAt - connection.refreshAt.getTime()) });
  }
  span.setAttributes({
    'evergreen.provider': provider.id,
    'evergreen.outcome': outcome.kind,
    ...(outcome.kind !== 'success' && { 'evergreen.reason': outcome.reason }),
    ...(outcome.status !== null && { 'http.response.status_code': outcome.status }),
  });
  if (exchange.durationMs > 0 || exchange.reply.kind === 'response') {
    observer.attempt({
      provider: provider.id,
      outcome: outcome.kind,
      reason: outcome.kind === 'success' ? null : outcome.reason,
      trigger: attempt.trigger,
      durationMs: exchange.durationMs,
    });
  }
}

export interface LoggedAttempt {
  connection: StoredConnection;
  provider: ProviderDefinition;
  audit: AttemptAudit;
  exchange: Exchange;
  /** When the write was acknowledged (or fenced). */
  persistedAt: number;
  /** The failure streak as written. */
  failures: number;
  decision: RefreshDecision;
}

/** The `refresh` log line, one per attempt: what was asked, what came back, and what happens next. */
export function logAttempt(log: Logger, hashOwner: (ownerId: string) => string, attempt: LoggedAttempt): void {
  const { connection, audit, exchange, decision } = attempt;
  // From the answer to its commit: while this lasts, a crash loses a rotated refresh token (docs/reliability.md).
  const commitMs = attempt.persistedAt - (exchange.startedAt + exchange.durationMs);
  log[LOG_LEVEL[audit.outcome]](
    {
      connection: connection.id,
      provider: attempt.provider.id,
      owner: hashOwner(connection.ownerId),
      outcome: audit.outcome,
      reason: audit.reason,
      httpStatus: audit.httpStatus,
      ms: exchange.durationMs,
      ...(audit.outcome === 'success' && { commitMs }),
      next: decision.kind,
      ...(decision.kind === 'delay' && { runAt: new Date(decision.runAt).toISOString(), why: decision.why }),
      failures: attempt.failures,
    },
    'refresh',
  );
}
