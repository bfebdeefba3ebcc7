import {
  classify,
  eventsForOutcome,
  isLive,
  planRefresh,
  resolveTokenUrl,
  retryDelayMs,
  type ConnectionStatus,
  type ProviderDefinition,
  type RefreshDecision,
  type RefreshOutcome,
  type StopDecision,
} from '@evergreen/core';
import type { EvergreenConfig, RefreshConfig } from '@evergreen/config';
import { ownerHasher, safeError, type Logger } from '@evergreen/log';
import type { Exchange, TokenClient } from '@evergreen/oauth';
import type { ConnectionLock, HeldLock, SendSlots } from '@evergreen/queue';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AttemptAudit, ConnectionStore, StoredConnection } from '@evergreen/store';
import { NO_OBSERVER, type RefreshObserver } from './refresh-observer.ts';
import { SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { missingCredentials } from './missing-credentials.ts';
import { timingPolicyFor } from './timing-policy.ts';

export interface RefreshEngineDeps {
  store: ConnectionStore;
  lock: ConnectionLock;
  /** Providers' declared rate limits, taken right before each request; absent: no limit is applied. */
  sendSlots?: SendSlots;
  tokens: TokenClient;
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
}

/** Successes are routine, provider trouble is worth a look, and a connection that needs a person is an error. */
const LOG_LEVEL = {
  success: 'info',
  transient: 'warn',
  rate_limited: 'warn',
  reauth: 'error',
  fatal: 'error',
} as const;

const tracer = trace.getTracer('evergreen');

/** A job that wakes a little early (clock differences between hosts) still counts as due. */
const DUE_TOLERANCE_MS = 1_000;
/** How long a grace-period replay may wait for a send slot under the provider's rate limit. */
const REPLAY_SLOT_WAIT_MS = 1_000;
/** Time the write after the request may take while the lock must still be ours. */
const WRITE_MARGIN_MS = 1_000;
/** Time from taking the lock to sending: reading the row, taking a send slot. */
const PREPARE_MARGIN_MS = 2_000;
/**
 * How long to wait before looking again when another process holds the connection's lock: holders usually finish
 * within one request, and a dead holder's lock lapses by its TTL.
 */
const LOCKED_RECHECK_MAX_MS = 1_000;

/**
 * The refresh of one connection, as DESIGN.md's data flow draws it: lock → load → decide → call → persist →
 * (reschedule, by the caller) → release. Every outcome is a value; nothing here knows about BullMQ.
 */
export class RefreshEngine {
  readonly #d: RefreshEngineDeps;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #observer: RefreshObserver;

  constructor(deps: RefreshEngineDeps) {
    this.#d = deps;
    this.#observer = deps.observer ?? NO_OBSERVER;
    this.#now = deps.now ?? Date.now;
    this.#random = deps.random ?? Math.random;
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

  async #run(connectionId: string, options: RunOptions, span: Span): Promise<RefreshDecision> {
    const lock = await this.#d.lock.acquire(connectionId, this.#lockMs());
    if (!lock) {
      this.#observer.lockContention({ provider: null });
      return this.#lockedElsewhere(connectionId);
    }
    try {
      return await this.#runLocked(connectionId, lock, options, span);
    } finally {
      // A failed release only means the TTL frees it later; it must not turn a finished refresh into an error.
      await this.#d.lock
        .release(lock)
        .catch((error: unknown) =>
          this.#d.log.warn({ connection: connectionId, err: safeError(error) }, 'lock release failed'),
        );
    }
  }

  /**
   * How long a refresh takes the connection's lock for: what one request and its write need, at most the configured
   * TTL. Nobody releases a killed worker's lock, so this is also how long its connection waits: if the killed request
   * had rotated the refresh token, the retry must present the old one within the provider's grace period (Okta's is
   * 30 s by default), and the 30 s TTL alone used to take all of it. Longer phases (a grace-period replay, retried
   * writes) extend the lock as they go.
   */
  #lockMs(): number {
    return Math.min(this.#d.config.lockTtlMs, this.#d.httpDeadlineMs + WRITE_MARGIN_MS + PREPARE_MARGIN_MS);
  }

  /** How long another holder still has the connection's lock (0: nobody): on-demand callers wait on it. */
  lockRemainingMs(connectionId: string): Promise<number> {
    return this.#d.lock.remainingMs(connectionId);
  }

  async #runLocked(connectionId: string, lock: HeldLock, options: RunOptions, span: Span): Promise<RefreshDecision> {
    const connection = await this.#d.store.find(connectionId);
    if (!connection) return { kind: 'done', why: 'not_found' };
    if (!isLive(connection.status)) return { kind: 'done', why: `status_${connection.status}` };
    if (connection.refreshAt === null && !options.force) return { kind: 'done', why: 'nothing_to_schedule' };

    const now = this.#now();
    // Another path (a forced refresh, a re-enqueue) already moved this connection on: just follow the row.
    if (!options.force && connection.refreshAt !== null && connection.refreshAt.getTime() > now + DUE_TOLERANCE_MS) {
      return { kind: 'delay', runAt: connection.refreshAt.getTime(), why: 'not_due' };
    }

    const provider = this.#d.providers.get(connection.provider);
    if (!provider) {
      this.#d.log.error(
        { connection: connection.id, provider: connection.provider },
        'provider not configured; will look again later',
      );
      return { kind: 'delay', runAt: now + this.#d.config.backoff.cooldownMs, why: 'unknown_provider' };
    }
    if (provider.grant === 'none') return { kind: 'done', why: 'never_expires' };
    if (options.onlyIfExpiringWithinMs !== undefined && connection.accessToken !== null) {
      const left = connection.expiresAt === null ? Infinity : connection.expiresAt.getTime() - now;
      if (left > options.onlyIfExpiringWithinMs) return { kind: 'done', why: 'fresh' };
    }
    if (provider.grant === 'refresh_token' && connection.refreshToken === null)
      return { kind: 'done', why: 'no_refresh_token' };

    // The lock must outlive the request: if too little of it is left (a slow Postgres, a paused process), it is
    // extended; if that fails, give up now rather than risk a second holder presenting the same refresh token.
    if (
      lock.expiresAt - this.#now() < this.#d.httpDeadlineMs + WRITE_MARGIN_MS &&
      !(await this.#d.lock.extend(lock, this.#lockMs()).catch(() => false))
    ) {
      return { kind: 'delay', runAt: now + 1_000, why: 'locked' };
    }

    // The provider's declared rate is spent at the moment of sending, so it holds at the provider whatever delayed
    // this job on its way here. No slot: pause the provider's queue until one frees up; no attempt is used.
    if (provider.rateLimit && this.#d.sendSlots) {
      const wait = await this.#d.sendSlots.take(provider.id, provider.rateLimit);
      if (wait > 0) return { kind: 'rate_limited', retryAfterMs: wait };
    }

    const { exchange, outcome, presented } = await this.#request(provider, connection, lock, now);
    if (options.trigger === 'schedule' && connection.refreshAt !== null) {
      this.#observer.lateness({ provider: provider.id, ms: Math.max(0, now - connection.refreshAt.getTime()) });
    }
    span.setAttributes({
      'evergreen.provider': provider.id,
      'evergreen.outcome': outcome.kind,
      ...(outcome.kind !== 'success' && { 'evergreen.reason': outcome.reason }),
      ...(outcome.status !== null && { 'http.response.status_code': outcome.status }),
    });
    if (exchange.durationMs > 0 || exchange.reply.kind === 'response') {
      this.#observer.attempt({
        provider: provider.id,
        outcome: outcome.kind,
        reason: outcome.kind === 'success' ? null : outcome.reason,
        trigger: options.trigger,
        durationMs: exchange.durationMs,
      });
    }
    const audit: AttemptAudit = {
      outcome: outcome.kind,
      reason: outcome.kind === 'success' ? null : outcome.reason,
      httpStatus: outcome.status,
      durationMs: exchange.durationMs,
      trigger: options.trigger,
    };
    const decision = await this.#persist(connection, provider, outcome, exchange.startedAt, audit, lock, presented);
    // From the answer to its commit: while this lasts, a crash loses a rotated refresh token (docs/reliability.md).
    const commitMs = this.#now() - (exchange.startedAt + exchange.durationMs);
    this.#d.log[LOG_LEVEL[outcome.kind]](
      {
        connection: connection.id,
        provider: provider.id,
        owner: this.#d.hashOwner(connection.ownerId),
        outcome: outcome.kind,
        reason: audit.reason,
        httpStatus: outcome.status,
        ms: exchange.durationMs,
        ...(outcome.kind === 'success' && { commitMs }),
        next: decision.kind,
        ...(decision.kind === 'delay' && { runAt: new Date(decision.runAt).toISOString(), why: decision.why }),
        failures:
          outcome.kind === 'success' ? 0 : connection.consecutiveFailures + (outcome.kind === 'rate_limited' ? 0 : 1),
      },
      'refresh',
    );
    return decision;
  }

  /** Invariant 5: the provider's answer is written first, in one fenced statement; scheduling follows from it. */
  async #persist(
    connection: StoredConnection,
    provider: ProviderDefinition,
    outcome: RefreshOutcome,
    startedAt: number,
    audit: AttemptAudit,
    lock: HeldLock,
    presented: string | undefined,
  ): Promise<RefreshDecision> {
    const now = this.#now();
    switch (outcome.kind) {
      case 'success': {
        const plan = planRefresh({
          now,
          issuedFrom: startedAt,
          tokens: outcome.tokens,
          provider,
          renewable: true,
          current: {
            refreshToken: presented ?? null,
            refreshTokenExpiresAt: connection.refreshTokenExpiresAt?.getTime() ?? null,
            refreshTokenWarned: connection.refreshTokenWarnedAt !== null,
          },
          timing: timingPolicyFor(provider, this.#d.config),
          minIntervalMs: this.#d.config.minIntervalMs,
          random: this.#random,
        });
        const write = await this.#persistSuccess(lock, () =>
          this.#d.store.recordSuccess(
            connection,
            {
              accessToken: outcome.tokens.accessToken,
              refreshToken: outcome.tokens.refreshToken,
              replacedRefreshToken: presented,
              expiresAt: toDate(plan.expiresAt),
              refreshAt: toDate(plan.refreshAt),
              refreshTokenExpiresAt:
                plan.refreshTokenExpiresAt === undefined ? undefined : toDate(plan.refreshTokenExpiresAt),
              refreshTokenWarned: plan.warnRefreshTokenExpiry,
              metadata: outcome.tokens.metadata,
            },
            audit,
            eventsForOutcome({
              connection,
              outcome: 'success',
              reason: null,
              status: 'connected',
              expiresAt: plan.expiresAt,
              refreshTokenExpiresAt: plan.refreshTokenExpiresAt ?? connection.refreshTokenExpiresAt?.getTime() ?? null,
              warnRefreshTokenExpiry: plan.warnRefreshTokenExpiry,
            }),
          ),
        );
        if (!write.applied) return this.#fenced(connection, 'success');
        if (plan.warnRefreshTokenExpiry) {
          this.#d.log.warn(
            {
              connection: connection.id,
              provider: provider.id,
              owner: this.#d.hashOwner(connection.ownerId),
              refreshTokenExpiresAt: new Date(
                (plan.refreshTokenExpiresAt ?? connection.refreshTokenExpiresAt?.getTime()) as number,
              ).toISOString(),
            },
            'refresh token expiring',
          );
        }
        return plan.refreshAt === null
          ? { kind: 'done', why: 'expiry_unknown' }
          : { kind: 'delay', runAt: plan.refreshAt, why: 'scheduled' };
      }
      case 'transient': {
        const failures = connection.consecutiveFailures + 1;
        const runAt = now + retryDelayMs(failures, this.#d.config.backoff, this.#random);
        const status = this.#statusWhileFailing(connection, now);
        const write = await this.#d.store.recordFailure(
          connection,
          { status, refreshAt: new Date(runAt), countsAsFailure: true },
          audit,
          eventsForOutcome({ connection, outcome: 'transient', reason: outcome.reason, status }),
        );
        if (!write.applied) return this.#fenced(connection, 'transient');
        return { kind: 'delay', runAt, why: 'retry' };
      }
      case 'rate_limited': {
        const status = this.#statusWhileFailing(connection, now);
        const write = await this.#d.store.recordFailure(
          connection,
          { status, refreshAt: new Date(now + outcome.retryAfterMs), countsAsFailure: false },
          audit,
          eventsForOutcome({ connection, outcome: 'rate_limited', reason: outcome.reason, status }),
        );
        if (!write.applied) return this.#fenced(connection, 'rate_limited');
        return { kind: 'rate_limited', retryAfterMs: outcome.retryAfterMs };
      }
      case 'reauth':
      case 'fatal': {
        // A lost race is not a revocation: if the row moved on while we asked, the grant we used is simply old.
        const current = await this.#d.store.find(connection.id);
        if (!current || current.version !== connection.version) return this.#fenced(connection, outcome.kind);
        const stop: StopDecision =
          outcome.kind === 'reauth'
            ? { kind: 'stop', status: 'needs_reauth', reason: outcome.reason }
            : { kind: 'stop', status: 'error', reason: outcome.reason };
        const write = await this.#d.store.recordFailure(
          connection,
          { status: stop.status, refreshAt: null, countsAsFailure: true },
          audit,
          eventsForOutcome({ connection, outcome: outcome.kind, reason: outcome.reason, status: stop.status }),
        );
        if (!write.applied) return this.#fenced(connection, outcome.kind);
        return stop;
      }
    }
  }

  /**
   * The provider has already rotated: the new refresh token exists only in this process now. A Postgres blip must
   * not lose it, so the write is retried (holding the lock, extended each time) for up to one lock TTL before the
   * error is allowed through.
   */
  async #persistSuccess<T>(lock: HeldLock, write: () => Promise<T>): Promise<T> {
    const giveUpAt = this.#now() + this.#d.config.lockTtlMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (error) {
        if (this.#now() >= giveUpAt) throw error;
        this.#d.log.warn({ err: safeError(error), attempt }, 'persisting refreshed tokens failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * 2 ** (attempt - 1))));
        await this.#d.lock.extend(lock, this.#d.config.lockTtlMs).catch(() => false);
      }
    }
  }

  /**
   * The token request itself. Nothing is sent when the connection's own data cannot make a request this provider
   * accepts. A provider with a grace period still honours the refresh token the last rotation replaced: if the current
   * one is refused (a rotation the provider did not keep), the previous one is tried, once, with the lock extended
   * first so it still outlives the second request.
   */
  async #request(
    provider: ProviderDefinition,
    connection: StoredConnection,
    lock: HeldLock,
    now: number,
  ): Promise<{ exchange: Exchange; outcome: RefreshOutcome; presented: string | undefined }> {
    const target = resolveTokenUrl(provider, connection.metadata);
    const missing = missingCredentials(provider, connection);
    if (!target.ok || missing) {
      return {
        exchange: { reply: { kind: 'network', timeout: false, code: null }, startedAt: now, durationMs: 0 },
        outcome: { kind: 'fatal', reason: target.ok ? 'missing_credentials' : 'invalid_token_url', status: null },
        presented: connection.refreshToken ?? undefined,
      };
    }
    let presented = connection.refreshToken ?? undefined;
    let exchange = await this.#exchange(provider, target.url, connection, presented);
    let outcome = classify(exchange.reply, this.#now(), this.#d.config.classify, provider);
    if (
      outcome.kind === 'reauth' &&
      this.#previousStillInGrace(provider, connection, now) &&
      (await this.#d.lock.extend(lock, this.#d.config.lockTtlMs).catch(() => false))
    ) {
      if (!(await this.#slotWithin(provider, REPLAY_SLOT_WAIT_MS))) {
        // The replay would break the declared rate: try again shortly, while the grace period still runs.
        const refused = outcome.status ?? 0;
        return {
          exchange,
          outcome: { kind: 'rate_limited', reason: 'rate_limited', retryAfterMs: REPLAY_SLOT_WAIT_MS, status: refused },
          presented,
        };
      }
      presented = connection.previousRefreshToken as string;
      exchange = await this.#exchange(provider, target.url, connection, presented);
      outcome = classify(exchange.reply, this.#now(), this.#d.config.classify, provider);
      this.#d.log.warn(
        { connection: connection.id, provider: provider.id, outcome: outcome.kind },
        'retried with the previous refresh token',
      );
    }
    return { exchange, outcome, presented };
  }

  async #exchange(
    provider: ProviderDefinition,
    url: string,
    connection: StoredConnection,
    refreshToken: string | undefined,
  ): Promise<Exchange> {
    return this.#d.tokens.request(provider, url, {
      ...(refreshToken !== undefined && { refreshToken }),
      ...(connection.credentials && { credentials: connection.credentials }),
      scopes: connection.scopes,
    });
  }

  /** Takes a send slot for this provider, waiting up to `budgetMs` for one; true when taken (or no limit). */
  async #slotWithin(provider: ProviderDefinition, budgetMs: number): Promise<boolean> {
    if (!provider.rateLimit || !this.#d.sendSlots) return true;
    const giveUpAt = this.#now() + budgetMs;
    for (;;) {
      const wait = await this.#d.sendSlots.take(provider.id, provider.rateLimit);
      if (wait === 0) return true;
      if (this.#now() + wait > giveUpAt) return false;
      await sleep(wait);
    }
  }

  #previousStillInGrace(provider: ProviderDefinition, connection: StoredConnection, now: number): boolean {
    return (
      provider.grant === 'refresh_token' &&
      provider.rotation.graceSeconds > 0 &&
      connection.previousRefreshToken !== null &&
      connection.refreshTokenRotatedAt !== null &&
      now - connection.refreshTokenRotatedAt.getTime() <= provider.rotation.graceSeconds * 1_000
    );
  }

  #statusWhileFailing(connection: StoredConnection, now: number): ConnectionStatus {
    return connection.expiresAt !== null && connection.expiresAt.getTime() <= now ? 'token_expired' : 'connected';
  }

  /** Our compare-and-set lost: a newer write exists. Follow whatever the row now says. */
  async #fenced(connection: StoredConnection, outcome: string): Promise<RefreshDecision> {
    this.#d.log.warn(
      { connection: connection.id, provider: connection.provider, outcome },
      'refresh write fenced by a newer version',
    );
    const current = await this.#d.store.find(connection.id);
    if (!current || !isLive(current.status) || current.refreshAt === null) return { kind: 'done', why: 'fenced' };
    return { kind: 'delay', runAt: Math.max(this.#now(), current.refreshAt.getTime()), why: 'fenced' };
  }

  async #lockedElsewhere(connectionId: string): Promise<RefreshDecision> {
    const remaining = await this.#d.lock.remainingMs(connectionId);
    const wait = Math.min(LOCKED_RECHECK_MAX_MS, Math.max(250, remaining + 100));
    return { kind: 'delay', runAt: this.#now() + wait, why: 'locked' };
  }
}

function toDate(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}
