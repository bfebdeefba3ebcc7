import {
  admitThroughBreaker,
  BREAKER_RECHECK_MS,
  breakerSignal,
  breakerVerdict,
  type BreakerAdmission,
  type BreakerPolicy,
  type BreakerWhy,
  type ProviderDefinition,
  type ProviderEventKind,
  type ProviderOutagePayload,
  type RefreshOutcome,
} from '@evergreen/core';
import { safeError, type Logger } from '@evergreen/log';
import type { ProviderBreakers } from '@evergreen/queue';
import { randomBytes } from 'node:crypto';
import type { OutageCatchUp } from './outage-recovery.ts';
import type { RefreshObserver } from './refresh-observer.ts';

export type GuardBreakers = Pick<
  ProviderBreakers,
  'state' | 'record' | 'open' | 'close' | 'takeProbe' | 'takeRampSlot'
>;

/** Where outage events go: the outbox (ConnectionStore.recordProviderOutage), delivered like every other event. */
export interface OutageEvents {
  recordProviderOutage(kind: ProviderEventKind, payload: ProviderOutagePayload): Promise<boolean>;
}

export interface BreakerGuardDeps {
  breakers: GuardBreakers;
  policy: BreakerPolicy;
  events?: OutageEvents | undefined;
  /** When the breaker closes: the waiting refreshes put in order of need, those left in backoff made due. */
  recovery?: OutageCatchUp | undefined;
  observer: RefreshObserver;
  log: Logger;
  now: () => number;
}

/** Whether a refresh may send now: yes (`probe` when it is the open breaker's probe), or not for `retryAfterMs`. */
export type SendPermit =
  { kind: 'send'; probe: boolean } | { kind: 'outage'; retryAfterMs: number } | { kind: 'ramp'; retryAfterMs: number };

/**
 * The engine's side of the provider breakers (core decides, Redis keeps the shared state): asks before a request
 * whether it may go (the breaker, its probe slot, the ramp after a close), and counts each answer, opening or closing
 * the breaker when core's verdict says so. Each transition happens in exactly one process, which logs it, counts it
 * and writes its event.
 */
export class BreakerGuard {
  readonly #d: BreakerGuardDeps;

  constructor(deps: BreakerGuardDeps) {
    this.#d = deps;
  }

  /** The breaker's answer before any work is done (no lock, no row): workers hold a job here, for free. */
  async admission(provider: ProviderDefinition): Promise<BreakerAdmission> {
    return admitThroughBreaker(await this.#d.breakers.state(provider.id), this.#d.now(), this.#d.policy);
  }

  /**
   * Right before the request leaves: a due probe is sent only by the caller that takes the probe slot; during the
   * ramp after a close (a provider without a declared rate limit: one with a limit is paced by its send slots), a
   * request takes a slot under the ramp's allowance.
   */
  async permit(provider: ProviderDefinition, admission: BreakerAdmission): Promise<SendPermit> {
    switch (admission.kind) {
      case 'hold':
        return { kind: 'outage', retryAfterMs: admission.retryAfterMs };
      case 'probe': {
        const wait = await this.#d.breakers.takeProbe(provider.id, this.#d.policy);
        return wait === 0
          ? { kind: 'send', probe: true }
          : { kind: 'outage', retryAfterMs: Math.min(wait, BREAKER_RECHECK_MS) };
      }
      case 'send': {
        if (admission.perSecond === null || provider.rateLimit) return { kind: 'send', probe: false };
        const member = randomBytes(8).toString('base64url');
        const wait = await this.#d.breakers.takeRampSlot(provider.id, admission.perSecond, member);
        return wait === 0 ? { kind: 'send', probe: false } : { kind: 'ramp', retryAfterMs: wait };
      }
    }
  }

  /**
   * Counts one classified answer and makes the transition it calls for. Never throws: a Redis or Postgres blip here
   * costs a late transition, never the refresh, whose answer is already persisted.
   */
  async record(provider: ProviderDefinition, outcome: RefreshOutcome, probe: boolean): Promise<void> {
    const signal = breakerSignal(outcome);
    if (signal === null) return;
    try {
      const window = await this.#d.breakers.record(provider.id, signal, this.#d.policy);
      const verdict = breakerVerdict(window.state, signal, window, this.#d.policy);
      if (verdict === 'open') {
        const reason = outcome.kind === 'transient' ? outcome.reason : 'unknown';
        await this.#open(provider, {
          failures: window.failures,
          requests: window.requests,
          windowMs: this.#d.policy.windowMs,
          reason,
        });
      } else if (verdict === 'close') {
        await this.#close(provider, probe);
      } else if (window.fresh && signal === 'success') {
        // Redis lost the breaker (a flush) and the provider works: an outage announced before the loss ends here.
        await this.#announce('provider.outage_ended', {
          provider: provider.id,
          openedAt: null,
          closedAt: new Date(window.now).toISOString(),
          reason: null,
        });
      }
    } catch (error) {
      this.#d.log.warn({ provider: provider.id, err: safeError(error) }, 'provider breaker not updated');
    }
  }

  async #open(provider: ProviderDefinition, why: BreakerWhy): Promise<void> {
    const openedAt = await this.#d.breakers.open(provider.id, why, this.#d.policy);
    if (openedAt === null) return; // another process opened it first, and told
    this.#d.observer.breakerTransition({ provider: provider.id, to: 'open' });
    const started = {
      provider: provider.id,
      openedAt: new Date(openedAt).toISOString(),
      reason: why.reason,
      failures: why.failures,
      requests: why.requests,
      windowMs: why.windowMs,
    };
    this.#d.log.warn(
      { ...started, probeIntervalMs: this.#d.policy.probeIntervalMs },
      'provider breaker opened: token endpoint failing, refreshes held, probing',
    );
    await this.#announce('provider.outage_started', started);
  }

  async #close(provider: ProviderDefinition, probe: boolean): Promise<void> {
    const closed = await this.#d.breakers.close(provider.id);
    if (!closed) return;
    this.#d.observer.breakerTransition({ provider: provider.id, to: 'closed' });
    const recovery = await this.#recover(provider, closed.openedAt);
    this.#d.log.info(
      {
        provider: provider.id,
        openedAt: new Date(closed.openedAt).toISOString(),
        outageMs: closed.closedAt - closed.openedAt,
        probe,
        rampMs: provider.rateLimit ? 0 : this.#d.policy.rampMs,
        ...recovery,
      },
      'provider breaker closed: token endpoint answers again, refreshes resume',
    );
    await this.#announce('provider.outage_ended', {
      provider: provider.id,
      openedAt: new Date(closed.openedAt).toISOString(),
      closedAt: new Date(closed.closedAt).toISOString(),
      reason: null,
    });
  }

  async #recover(provider: ProviderDefinition, openedAt: number): Promise<{ madeDue?: number; ordered?: number }> {
    if (!this.#d.recovery) return {};
    try {
      return await this.#d.recovery.recover(provider.id, openedAt, this.#d.policy.windowMs);
    } catch (error) {
      // The refreshes then run in the wait list's order, and those in backoff wait out their retry time.
      this.#d.log.warn({ provider: provider.id, err: safeError(error) }, 'recovery order not applied');
      return {};
    }
  }

  async #announce(kind: ProviderEventKind, payload: ProviderOutagePayload): Promise<void> {
    if (!this.#d.events) return;
    try {
      await this.#d.events.recordProviderOutage(kind, payload);
    } catch (error) {
      this.#d.log.error(
        { provider: payload.provider, kind, err: safeError(error) },
        'provider outage event not written',
      );
    }
  }
}
