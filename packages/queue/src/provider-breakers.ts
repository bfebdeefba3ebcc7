import {
  breakerBucketMs,
  type BreakerPolicy,
  type BreakerState,
  type BreakerWhy,
  type BreakerWindow,
} from '@evergreen/core';
import { Keyspace } from './keyspace.ts';

/** Answers to count at once: one answer, or a process's batch of working answers with the failure that flushes it. */
export interface BreakerAnswers {
  /** Answers that prove the endpoint works (new tokens, `invalid_grant`...). */
  working: number;
  /** Transient failures. */
  failures: number;
}

/** What `record` saw: the window after this answer, the state, and whether the hash was new (first use, or lost). */
export interface RecordedAnswer extends BreakerWindow {
  state: BreakerState['kind'];
  fresh: boolean;
  /** Redis's clock. */
  now: number;
}

/**
 * Every provider's circuit breaker, shared by every worker and on-demand reader: one hash per provider (counts of the
 * window in buckets, the state, the next probe), changed only by commands/provider-breaker.lua. Redis losing it (a
 * FLUSHALL, a restart) leaves the breaker closed: harmless, it opens again if the provider is still down.
 *
 * After a close, a provider without a declared rate limit ramps up through a sliding-window log of its own (the send
 * slots' script), at the allowance core's `rampAllowance` gives.
 */
export class ProviderBreakers extends Keyspace {
  /** The state reads in flight, by provider: concurrent callers share one (see `state`). */
  readonly #reads = new Map<string, Promise<BreakerState>>();

  key(providerId: string): string {
    return `${this.prefix}:breaker:${providerId}`;
  }

  rampKey(providerId: string): string {
    return `${this.prefix}:breaker-ramp:${providerId}`;
  }

  /**
   * The breaker's state as every process sees it. One round trip, shared: callers that ask while a read of the same
   * provider is in flight get that read's answer (every refresh asks, so a worker busy on one provider would otherwise
   * send one HMGET per job). Nothing is kept once the read settles, so no answer is older than its own round trip.
   */
  state(providerId: string): Promise<BreakerState> {
    const inFlight = this.#reads.get(providerId);
    if (inFlight) return inFlight;
    const read = this.#read(providerId).finally(() => this.#reads.delete(providerId));
    this.#reads.set(providerId, read);
    return read;
  }

  async #read(providerId: string): Promise<BreakerState> {
    const [state, openedAt, why, nextProbeAt, closedAt] = await this.redis.hmget(
      this.key(providerId),
      'state',
      'openedAt',
      'why',
      'nextProbeAt',
      'closedAt',
    );
    if (state === 'open') {
      return {
        kind: 'open',
        openedAt: Number(openedAt),
        why: parseWhy(why ?? null),
        nextProbeAt: Number(nextProbeAt ?? 0),
      };
    }
    return { kind: 'closed', closedAt: closedAt === null ? null : Number(closedAt) };
  }

  /** Every listed provider's state, in one pipelined round trip (the board, the metrics). */
  async states(providerIds: readonly string[]): Promise<Map<string, BreakerState>> {
    const pipeline = this.redis.pipeline();
    for (const id of providerIds) pipeline.hmget(this.key(id), 'state', 'openedAt', 'why', 'nextProbeAt', 'closedAt');
    const results = (await pipeline.exec()) ?? [];
    const states = new Map<string, BreakerState>();
    providerIds.forEach((id, i) => {
      const [error, fields] = results[i] ?? [null, null];
      if (error) throw error;
      const [state, openedAt, why, nextProbeAt, closedAt] = (fields ?? []) as (string | null)[];
      states.set(
        id,
        state === 'open'
          ? { kind: 'open', openedAt: Number(openedAt), why: parseWhy(why ?? null), nextProbeAt: Number(nextProbeAt) }
          : { kind: 'closed', closedAt: closedAt === null || closedAt === undefined ? null : Number(closedAt) },
      );
    });
    return states;
  }

  /** Counts answers (a 429 is never recorded) in one script call and returns the window as it now stands. */
  async record(
    providerId: string,
    answers: BreakerAnswers,
    policy: Pick<BreakerPolicy, 'windowMs'>,
  ): Promise<RecordedAnswer> {
    const [state, requests, failures, fresh, now] = await this.redis.evergreenProviderBreaker(
      this.key(providerId),
      'record',
      breakerBucketMs(policy.windowMs),
      policy.windowMs,
      answers.working,
      answers.failures,
    );
    return {
      state: state === 'open' ? 'open' : 'closed',
      requests: Number(requests),
      failures: Number(failures),
      fresh: Number(fresh) === 1,
      now: Number(now),
    };
  }

  /** Opens the breaker; the opened-at time when this call did it (once, across every process), else null. */
  async open(
    providerId: string,
    why: BreakerWhy,
    policy: Pick<BreakerPolicy, 'probeIntervalMs'>,
  ): Promise<number | null> {
    const [opened, now] = await this.redis.evergreenProviderBreaker(
      this.key(providerId),
      'open',
      policy.probeIntervalMs,
      JSON.stringify(why),
    );
    return Number(opened) === 1 ? Number(now) : null;
  }

  /** Closes the breaker; when this call did it (once), when it had opened and when it closed, else null. */
  async close(providerId: string): Promise<{ openedAt: number; closedAt: number } | null> {
    const [closed, openedAt, now] = await this.redis.evergreenProviderBreaker(this.key(providerId), 'close');
    return Number(closed) === 1 ? { openedAt: Number(openedAt), closedAt: Number(now) } : null;
  }

  /** Takes the probe slot of an open breaker: 0 when this caller may send now, else the milliseconds to the next. */
  async takeProbe(providerId: string, policy: Pick<BreakerPolicy, 'probeIntervalMs'>): Promise<number> {
    const [taken, wait] = await this.redis.evergreenProviderBreaker(
      this.key(providerId),
      'probe',
      policy.probeIntervalMs,
    );
    return Number(taken) === 1 ? 0 : Math.max(1, Number(wait));
  }

  /** A request slot under the ramp's allowance (requests per second): 0 when taken, else the wait in milliseconds. */
  async takeRampSlot(providerId: string, perSecond: number, member: string): Promise<number> {
    const [wait] = await this.redis.evergreenTakeSendSlot(this.rampKey(providerId), perSecond, 1_000, member, '', 0);
    return wait;
  }
}

function parseWhy(value: string | null): BreakerWhy | null {
  if (value === null) return null;
  try {
    return JSON.parse(value) as BreakerWhy;
  } catch {
    return null;
  }
}
