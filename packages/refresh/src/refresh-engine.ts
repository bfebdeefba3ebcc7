import {
  checkBeforeRefresh,
  followNewerRow,
  lockedRecheckMs,
  lockOutlivesRequest,
  planOutcome,
  refreshLockMs,
  BREAKER_RECHECK_MS,
  type BreakerAdmission,
  type OutcomePlan,
  type ProviderDefinition,
  type RefreshDecision,
} from '@evergreen/core';
import type { RefreshConfig } from '@evergreen/config';
import { safeError, type Logger } from '@evergreen/log';
import type { TokenClient } from '@evergreen/oauth';
import type { ConnectionLock, HeldLock, RefreshQueues, SendSlots } from '@evergreen/queue';
import type { AttemptAudit, ConnectionStore, StoredConnection } from '@evergreen/store';
import { SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { setTimeout as sleep } from 'node:timers/promises';
import { logAttempt, observeAttempt } from './attempt-report.ts';
import { BreakerGuard, type GuardBreakers, type OutageEvents } from './breaker-guard.ts';
import type { OutageCatchUp } from './outage-recovery.ts';
import { RefreshCall } from './refresh-call.ts';
import { NO_OBSERVER, type RefreshObserver } from './refresh-observer.ts';
import { timingPolicyFor } from './timing-policy.ts';

/** What a refresh asks of the store: re-read the row, write the provider's answer (fenced by the row's version). */
export type EngineStore = Pick<ConnectionStore, 'find' | 'recordSuccess' | 'recordFailure'>;
/** The connection's lock: taken, extended for longer phases, released, and asked how long another holder keeps it. */
export type EngineLock = Pick<ConnectionLock, 'acquire' | 'extend' | 'release' | 'remainingMs'>;
/** Providers' declared rate limits, spent right before each request. */
export type EngineSendSlots = Pick<SendSlots, 'take'>;
/** Providers' pauses (a 429's Retry-After), looked at right before each request. */
export type EnginePauses = Pick<RefreshQueues, 'pausedForMs'>;
export type EngineTokens = Pick<TokenClient, 'request' | 'check'>;

export interface RefreshEngineDeps {
  store: EngineStore;
  lock: EngineLock;
  /** Absent: no provider's declared rate limit is applied. */
  sendSlots?: EngineSendSlots;
  /** Absent: a provider's pause holds only the jobs not yet taken (BullMQ's workers wait on it). */
  pauses?: EnginePauses;
  tokens: EngineTokens;
  /** Every provider's circuit breaker (absent: none, every request is sent). */
  breakers?: GuardBreakers;
  /** Where the breakers' outage events are written (the outbox). */
  outageEvents?: OutageEvents;
  /** When a breaker closes: the provider's waiting refreshes put in order of need (nearest expiry first). */
  outageRecovery?: OutageCatchUp;
  providers: ReadonlyMap<string, ProviderDefinition>;
  config: RefreshConfig;
  /** The token request's own deadline: the lock must have at least this much (plus the write) left before we send. */
  httpDeadlineMs: number;
  log: Logger;
  hashOwner: (ownerId: string) => string;
  observer?: RefreshObserver;
  now?: () => number;
  random?: () => number;
}

export interface RunOptions {
  trigger: AttemptAudit['trigger'];
  /** Refresh even if the row says it is not due (a forced or on-demand refresh). */
  force?: boolean;
  /**
   * On-demand: refresh only if the stored access token has less than this left (re-checked under the lock, so a
   * caller that waited for someone else's refresh does not start its own).
   */
  onlyIfExpiringWithinMs?: number;
  /**
   * The connection's provider, when the caller knows it (a worker of that provider's queue): an open breaker then
   * holds the job before any lock or read.
   */
  provider?: string;
}

const tracer = trace.getTracer('evergreen');

/**
 * The refresh of one connection, as DESIGN.md's data flow draws it: lock → load → decide → call → persist →
 * (reschedule, by the caller) → release. The decisions are core's pure functions (`checkBeforeRefresh`,
 * `classify`, `planOutcome`); this class does the I/O between them and reports what happened (log line, observer,
 * span). Every outcome is a value; nothing here knows about BullMQ.
 */
export class RefreshEngine {
  readonly #d: RefreshEngineDeps;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #observer: RefreshObserver;
  readonly #call: RefreshCall;
  readonly #breaker: BreakerGuard | null;

  constructor(deps: RefreshEngineDeps) {
    this.#d = deps;
    this.#observer = deps.observer ?? NO_OBSERVER;
    this.#now = deps.now ?? Date.now;
    this.#random = deps.random ?? Math.random;
    this.#breaker = deps.breakers
      ? new BreakerGuard({
          breakers: deps.breakers,
          policy: deps.config.breaker,
          events: deps.outageEvents,
          recovery: deps.outageRecovery,
          observer: this.#observer,
          log: deps.log,
          now: this.#now,
        })
      : null;
    this.#call = new RefreshCall({
      tokens: deps.tokens,
      lock: deps.lock,
      sendSlots: deps.sendSlots,
      log: deps.log,
      classify: deps.config.classify,
      lockTtlMs: deps.config.lockTtlMs,
      now: this.#now,
    });
  }

  /**
   * One refresh, traced as an `evergreen.refresh` span (OpenTelemetry; a no-op unless the process registered a tracer
   * provider: off by default). Span attributes carry ids, outcomes and reasons, never a token or an owner id.
   */
  async run(connectionId: string, options: RunOptions): Promise<RefreshDecision> {
    const span = tracer.startSpan('evergreen.refresh', {
      attributes: { 'evergreen.connection_id': connectionId, 'evergreen.trigger': options.trigger },
    });
    try {
      const decision = await this.#run(connectionId, options, span);
      span.setAttribute('evergreen.decision', decision.kind);
      if (decision.kind === 'delay') span.setAttribute('evergreen.decision_why', decision.why);
      if (decision.kind === 'stop') {
        span.setAttribute('evergreen.reason', decision.reason);
        span.setStatus({ code: SpanStatusCode.ERROR, message: decision.status });
      }
      return decision;
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'unexpected error' });
      throw error;
    } finally {
      span.end();
    }
  }

  /**
   * Stops the breaker's batching timer. Pending working answers are dropped rather than flushed: they only dilute a
   * failure ratio, so their loss can open a breaker slightly earlier, never later. A success that finishes after
   * this is not counted; any other answer is still recorded at once.
   */
  close(): void {
    this.#breaker?.close();
  }

  /** How long another holder still has the connection's lock (0: nobody): on-demand callers wait on it. */
  lockRemainingMs(connectionId: string): Promise<number> {
    return this.#d.lock.remainingMs(connectionId);
  }

  async #run(connectionId: string, options: RunOptions, span: Span): Promise<RefreshDecision> {
    const known = options.provider === undefined ? undefined : this.#d.providers.get(options.provider);
    const early = known && this.#breaker ? await this.#breaker.admission(known) : null;
    if (early?.kind === 'hold') return { kind: 'provider_outage', retryAfterMs: early.retryAfterMs };
    const lock = await this.#d.lock.acquire(connectionId, this.#lockMs());
    if (!lock) {
      this.#observer.lockContention({ provider: null });
      return this.#lockedElsewhere(connectionId);
    }
    try {
      return await this.#runLocked(
        connectionId,
        lock,
        options,
        span,
        early && known ? { provider: known, admission: early } : null,
      );
    } finally {
      // A failed release only means the TTL frees it later; it must not turn a finished refresh into an error.
      await this.#d.lock
        .release(lock)
        .catch((error: unknown) =>
          this.#d.log.warn({ connection: connectionId, err: safeError(error) }, 'lock release failed'),
        );
    }
  }

  async #runLocked(
    connectionId: string,
    lock: HeldLock,
    options: RunOptions,
    span: Span,
    early: { provider: ProviderDefinition; admission: BreakerAdmission } | null,
  ): Promise<RefreshDecision> {
    const row = await this.#d.store.find(connectionId);
    const now = this.#now();
    const gate = checkBeforeRefresh({
      connection: row,
      providers: this.#d.providers,
      now,
      force: options.force ?? false,
      onlyIfExpiringWithinMs: options.onlyIfExpiringWithinMs,
      unknownProviderRetryMs: this.#d.config.backoff.cooldownMs,
    });
    if (gate.kind === 'skip') {
      if (gate.decision.kind === 'delay' && gate.decision.why === 'unknown_provider') {
        this.#d.log.error(
          { connection: connectionId, provider: row?.provider },
          'provider not configured; will look again later',
        );
      }
      return gate.decision;
    }
    const { connection, provider } = gate;

    if (!(await this.#lockOutlivesRequest(lock))) return { kind: 'delay', runAt: now + 1_000, why: 'locked' };
    let probe = false;
    if (this.#breaker) {
      // The row may name another provider than the caller guessed (a re-enqueue moved it): ask again for that one.
      const admission = early?.provider.id === provider.id ? early.admission : await this.#breaker.admission(provider);
      const permit = await this.#breaker.permit(provider, admission);
      if (permit.kind === 'outage') return { kind: 'provider_outage', retryAfterMs: permit.retryAfterMs };
      if (permit.kind === 'ramp') return { kind: 'rate_limited', retryAfterMs: permit.retryAfterMs };
      probe = permit.probe;
    }
    // A job taken just before the provider said 429 (its lock, its row read under load) must not send into the
    // Retry-After the provider has just announced: only requests already on the wire are in flight.
    const pausedMs = (await this.#d.pauses?.pausedForMs(provider.id)) ?? 0;
    if (pausedMs > 0 && !probe) return { kind: 'rate_limited', retryAfterMs: pausedMs };
    const slotWaitMs = await this.#sendSlotWaitMs(provider);
    if (slotWaitMs > 0) return { kind: 'rate_limited', retryAfterMs: slotWaitMs };

    const { exchange, outcome, presented } = await this.#call.send(provider, connection, lock, now);
    observeAttempt(this.#observer, span, {
      connection,
      provider,
      trigger: options.trigger,
      startedAt: now,
      exchange,
      outcome,
    });
    const audit: AttemptAudit = {
      outcome: outcome.kind,
      reason: outcome.kind === 'success' ? null : outcome.reason,
      httpStatus: outcome.status,
      durationMs: exchange.durationMs,
      trigger: options.trigger,
    };
    const plan = planOutcome({
      outcome,
      connection,
      provider,
      presented,
      startedAt: exchange.startedAt,
      now: this.#now(),
      timing: timingPolicyFor(provider, this.#d.config),
      minIntervalMs: this.#d.config.minIntervalMs,
      backoff: this.#d.config.backoff,
      random: this.#random,
      probe: probe ? { retryAfterMs: Math.min(this.#d.config.breaker.probeIntervalMs, BREAKER_RECHECK_MS) } : undefined,
    });
    const decision = await this.#persist(connection, plan, audit, lock, presented);
    // After the answer is persisted (invariant 5); a request never sent (no usable token URL) says nothing.
    if (this.#breaker && (exchange.durationMs > 0 || exchange.reply.kind === 'response')) {
      await this.#breaker.record(provider, outcome, probe);
    }
    logAttempt(this.#d.log, this.#d.hashOwner, {
      connection,
      provider,
      audit,
      exchange,
      persistedAt: this.#now(),
      failures: plan.failures,
      decision,
    });
    return decision;
  }

  /**
   * The lock must outlive the request: if too little of it is left (a slow Postgres, a paused process), it is
   * extended; false when that fails, and the refresh is given up rather than risk a second holder presenting the same
   * refresh token.
   */
  async #lockOutlivesRequest(lock: HeldLock): Promise<boolean> {
    if (lockOutlivesRequest(lock.expiresAt, this.#now(), this.#d.httpDeadlineMs)) return true;
    return this.#d.lock.extend(lock, this.#lockMs()).catch(() => false);
  }

  /**
   * The provider's declared rate is spent at the moment of sending, so it holds at the provider whatever delayed this
   * job on its way here. Above 0: no slot for that long, so the provider's queue pauses; no attempt is used.
   */
  async #sendSlotWaitMs(provider: ProviderDefinition): Promise<number> {
    if (!provider.rateLimit || !this.#d.sendSlots) return 0;
    return this.#d.sendSlots.take(provider.id, provider.rateLimit);
  }

  /** Invariant 5: the provider's answer is written first, in one fenced statement; scheduling follows from it. */
  async #persist(
    connection: StoredConnection,
    plan: OutcomePlan,
    audit: AttemptAudit,
    lock: HeldLock,
    presented: string | undefined,
  ): Promise<RefreshDecision> {
    if (plan.kind === 'success') {
      const { tokens, schedule } = plan;
      const write = await this.#persistSuccess(lock, () =>
        this.#d.store.recordSuccess(
          connection,
          {
            accessToken: tokens.accessToken,
            refreshToken: tokens.refreshToken,
            replacedRefreshToken: presented,
            expiresAt: toDate(schedule.expiresAt),
            refreshAt: toDate(schedule.refreshAt),
            refreshTokenExpiresAt:
              schedule.refreshTokenExpiresAt === undefined ? undefined : toDate(schedule.refreshTokenExpiresAt),
            refreshTokenWarned: schedule.warnRefreshTokenExpiry,
            metadata: tokens.metadata,
          },
          audit,
          plan.events,
        ),
      );
      if (!write.applied) return this.#fenced(connection, audit.outcome);
      if (schedule.warnRefreshTokenExpiry) {
        this.#d.log.warn(
          {
            connection: connection.id,
            provider: connection.provider,
            owner: this.#d.hashOwner(connection.ownerId),
            refreshTokenExpiresAt: toDate(plan.refreshTokenExpiresAt)?.toISOString(),
          },
          'refresh token expiring',
        );
      }
      return plan.decision;
    }
    if (plan.confirmVersionFirst) {
      // A lost race is not a revocation: if the row moved on while we asked, the grant we used is simply old.
      const current = await this.#d.store.find(connection.id);
      if (!current || current.version !== connection.version) return this.#fenced(connection, audit.outcome);
    }
    const write = await this.#d.store.recordFailure(
      connection,
      { ...plan.write, refreshAt: toDate(plan.write.refreshAt) },
      audit,
      plan.events,
    );
    if (!write.applied) return this.#fenced(connection, audit.outcome);
    return plan.decision;
  }

  /**
   * The provider has already rotated: the new refresh token exists only in this process now. A Postgres blip must
   * not lose it, so the write is retried (holding the lock) for up to one lock TTL before the error is allowed
   * through. Each retry extends the lock by what one request and its write need, not the whole TTL: if this process
   * is killed while it retries, its connection is free again as soon as after any other kill, and the retry presents
   * the rotated-away token within the provider's grace period (Okta's 30 s, which a 30-second hold used up).
   */
  async #persistSuccess<T>(lock: HeldLock, write: () => Promise<T>): Promise<T> {
    const giveUpAt = this.#now() + this.#d.config.lockTtlMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (error) {
        if (this.#now() >= giveUpAt) throw error;
        this.#d.log.warn({ err: safeError(error), attempt }, 'persisting refreshed tokens failed; retrying');
        await sleep(Math.min(2_000, 100 * 2 ** (attempt - 1)));
        await this.#d.lock.extend(lock, this.#lockMs()).catch(() => false);
      }
    }
  }

  /** Our compare-and-set lost: a newer write exists. Follow whatever the row now says. */
  async #fenced(connection: StoredConnection, outcome: string): Promise<RefreshDecision> {
    this.#d.log.warn(
      { connection: connection.id, provider: connection.provider, outcome },
      'refresh write fenced by a newer version',
    );
    return followNewerRow(await this.#d.store.find(connection.id), this.#now());
  }

  async #lockedElsewhere(connectionId: string): Promise<RefreshDecision> {
    const remaining = await this.#d.lock.remainingMs(connectionId);
    return { kind: 'delay', runAt: this.#now() + lockedRecheckMs(remaining), why: 'locked' };
  }

  /** What one request and its write need (see `refreshLockMs`): also how long a killed worker's connection waits. */
  #lockMs(): number {
    return refreshLockMs(this.#d.config.lockTtlMs, this.#d.httpDeadlineMs);
  }
}

function toDate(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}
