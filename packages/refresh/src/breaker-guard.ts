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
import { BreakerTally } from './breaker-tally.ts';
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
  /** How long a working answer admitted closed may wait in process before it is counted in Redis (default 200 ms). */
  tallyFlushMs?: number;
}

/** Whether a refresh may send now: yes (`probe` when it is the open breaker's probe), or not for `retryAfterMs`. */
export type SendPermit =
  { kind: 'send'; probe: boolean } | { kind: 'outage'; retryAfterMs: number } | { kind: 'ramp'; retryAfterMs: number };

/**
 * The engine's side of the provider breakers (core decides, Redis keeps the shared state): asks before a request
 * whether it may go (the breaker, its probe slot, the ramp after a close), and counts each answer, opening or closing
 * the breaker when core's verdict says so. Each transition happens in exactly one process, which logs it, counts it
 * and writes its event. The successes of requests a closed breaker admitted are counted in process and sent in
 * batches (`BreakerTally`); every other answer is counted at once.
 */
export class BreakerGuard {
  readonly #d: BreakerGuardDeps;
  readonly #tally: BreakerTally;

  constructor(deps: BreakerGuardDeps) {
    this.#d = deps;
    this.#tally = new BreakerTally({
      flush: (provider, working) => this.#flushWorking(provider, working),
      ...(deps.tallyFlushMs !== undefined && { flushMs: deps.tallyFlushMs }),
    });
  }

  /** Stops the batches' timer; what is pending is dropped (`BreakerTally.close` says why that is safe). */
  close(): void {
    this.#tally.close();
  }

  /** Sends the pending working answers now (tests; the timer does it within its interval). */
  flush(): Promise<void> {
    return this.#tally.flush();
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
   *
   * A success that is not a probe (so a closed breaker admitted it: an open one sends only probes) waits in the
   * tally: while closed, a success can neither open nor close the breaker, it only dilutes the failure ratio. Every
   * other answer (a failure, a probe, a per-connection answer) is recorded at once, and carries the provider's
   * pending successes in the same script call, so a failure's verdict sees every success this process has had.
   */
  async record(provider: ProviderDefinition, outcome: RefreshOutcome, probe: boolean): Promise<void> {
    const signal = breakerSignal(outcome);
    if (signal === null) return;
    if (signal === 'success' && !probe) {
      this.#tally.add(provider.id);
      return;
    }
    const batched = this.#tally.take(provider.id);
    try {
      const window = await this.#d.breakers.record(
        provider.id,
        { working: batched + (signal === 'failure' ? 0 : 1), failures: signal === 'failure' ? 1 : 0 },
        this.#d.policy,
      );
      // The batched successes came before this answer: on a fresh hash they announce first, as they would have.
      if (window.fresh && (signal === 'success' || batched > 0)) await this.#restored(provider.id, window.now);
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
      }
    } catch (error) {
      this.#d.log.warn({ provider: provider.id, err: safeError(error), batched }, 'provider breaker not updated');
    }
  }

  /**
   * The tally's flush: one provider's batch of successes admitted closed, in one script call. No verdict: working
   * answers never open a breaker, and a batch that finds it open cannot tell whether its requests were answered before
   * the opening or after, so it leaves the close to a probe rather than end an outage on answers older than it. A
   * failed call drops the batch (logged): it only dilutes a failure ratio.
   */
  async #flushWorking(providerId: string, working: number): Promise<void> {
    try {
      const window = await this.#d.breakers.record(providerId, { working, failures: 0 }, this.#d.policy);
      if (window.fresh) await this.#restored(providerId, window.now);
    } catch (error) {
      this.#d.log.warn(
        { provider: providerId, err: safeError(error), batched: working },
        'provider breaker not updated',
      );
    }
  }

  /** Redis lost the breaker (a flush) and the provider works: an outage announced before the loss ends here. */
  async #restored(providerId: string, now: number): Promise<void> {
    await this.#announce('provider.outage_ended', {
      provider: providerId,
      openedAt: null,
      closedAt: new Date(now).toISOString(),
      reason: null,
    });
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
