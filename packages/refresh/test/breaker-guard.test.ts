import {
  resolveProviderEntries,
  type BreakerPolicy,
  type BreakerState,
  type ProviderDefinition,
  type RefreshOutcome,
} from '@evergreen/core';
import { createLogger } from '@evergreen/log';
import type { BreakerAnswers, RecordedAnswer } from '@evergreen/queue';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BreakerGuard, type GuardBreakers } from '../src/breaker-guard.ts';

/**
 * The guard's recording of answers, over a breaker in memory: which answers reach Redis at once, which wait in the
 * process's tally, and what each call decides. The script itself is tested in packages/queue; the whole breaker
 * across worker processes in test/provider-outage.
 */

const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);
const policy: BreakerPolicy = {
  failureRatio: 0.5,
  windowMs: 60_000,
  minRequests: 20,
  probeIntervalMs: 15_000,
  rampMs: 60_000,
};

const acme: ProviderDefinition = (() => {
  const { providers } = resolveProviderEntries(
    [],
    [{ id: 'acme', tokenUrl: 'https://acme.example/token', clientId: 'c', clientSecret: 's' }],
  );
  return providers[0]!;
})();

const SUCCESS: RefreshOutcome = { kind: 'success', tokens: { accessToken: 'at' }, status: 200 };
const FAILURE: RefreshOutcome = { kind: 'transient', reason: 'server_error', status: 503 };
const INVALID_GRANT: RefreshOutcome = { kind: 'reauth', reason: 'invalid_grant', status: 400 };
const RATE_LIMITED: RefreshOutcome = { kind: 'rate_limited', reason: 'rate_limited', retryAfterMs: 1_000, status: 429 };

/** One provider's breaker in memory, with every `record` call written down. */
class MemoryBreakers implements GuardBreakers {
  readonly records: BreakerAnswers[] = [];
  state_: BreakerState = { kind: 'closed', closedAt: null };
  window = { requests: 0, failures: 0 };
  /** The next record finds no hash (Redis lost it). */
  fresh = false;
  /** Records throw (Redis away). */
  down = false;

  async state(): Promise<BreakerState> {
    return this.state_;
  }
  async record(_p: string, answers: BreakerAnswers): Promise<RecordedAnswer> {
    if (this.down) throw new Error('redis away');
    this.records.push(answers);
    this.window = {
      requests: this.window.requests + answers.working + answers.failures,
      failures: this.window.failures + answers.failures,
    };
    const fresh = this.fresh;
    this.fresh = false;
    return { ...this.window, state: this.state_.kind, fresh, now: NOW };
  }
  async open(): Promise<number | null> {
    if (this.state_.kind === 'open') return null;
    this.state_ = { kind: 'open', openedAt: NOW, why: null, nextProbeAt: NOW + policy.probeIntervalMs };
    return NOW;
  }
  async close(): Promise<{ openedAt: number; closedAt: number } | null> {
    if (this.state_.kind !== 'open') return null;
    const { openedAt } = this.state_;
    this.state_ = { kind: 'closed', closedAt: NOW };
    return { openedAt, closedAt: NOW };
  }
  async takeProbe(): Promise<number> {
    return 0;
  }
  async takeRampSlot(): Promise<number> {
    return 0;
  }
}

function setup() {
  const breakers = new MemoryBreakers();
  const announced: string[] = [];
  const transitions: string[] = [];
  const lines: Record<string, unknown>[] = [];
  const guard = new BreakerGuard({
    breakers,
    policy,
    events: {
      recordProviderOutage: async (kind) => {
        announced.push(kind);
        return true;
      },
    },
    observer: {
      attempt: () => {},
      lateness: () => {},
      lockContention: () => {},
      breakerTransition: (e) => transitions.push(e.to),
    },
    log: createLogger({
      level: 'info',
      destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
    }),
    now: () => NOW,
  });
  return { guard, breakers, announced, transitions, lines };
}

describe('BreakerGuard: recording answers', () => {
  const guards: BreakerGuard[] = [];
  afterEach(() => {
    vi.useRealTimers();
    for (const g of guards.splice(0)) g.close();
  });
  const make = () => {
    const s = setup();
    guards.push(s.guard);
    return s;
  };

  it('successes a closed breaker admitted wait in the process and reach Redis in one call within 200 ms', async () => {
    vi.useFakeTimers();
    const { guard, breakers } = make();
    for (let i = 0; i < 5; i++) await guard.record(acme, SUCCESS, false);
    expect(breakers.records).toEqual([]);
    await vi.advanceTimersByTimeAsync(200);
    expect(breakers.records).toEqual([{ working: 5, failures: 0 }]);
  });

  it("a failure carries the process's pending successes in its own call, and its verdict counts them", async () => {
    const { guard, breakers, transitions } = make();
    // 19 requests, 10 failed: one more failure alone would make 11 of 20 and open it.
    breakers.window = { requests: 19, failures: 10 };
    for (let i = 0; i < 3; i++) await guard.record(acme, SUCCESS, false);
    await guard.record(acme, FAILURE, false);
    expect(breakers.records).toEqual([{ working: 3, failures: 1 }]);
    expect(breakers.window).toEqual({ requests: 23, failures: 11 });
    expect(breakers.state_.kind).toBe('closed');
    expect(transitions).toEqual([]);
    // Nothing is left for the timer to send.
    await guard.flush();
    expect(breakers.records).toHaveLength(1);
  });

  it('a failure past the threshold still opens it at once', async () => {
    const { guard, breakers, announced, transitions } = make();
    breakers.window = { requests: 19, failures: 10 };
    await guard.record(acme, FAILURE, false);
    expect(breakers.records).toEqual([{ working: 0, failures: 1 }]);
    expect(breakers.state_.kind).toBe('open');
    expect(transitions).toEqual(['open']);
    expect(announced).toEqual(['provider.outage_started']);
  });

  it("a probe's success is recorded at once and closes the breaker", async () => {
    const { guard, breakers, announced, transitions } = make();
    breakers.state_ = { kind: 'open', openedAt: NOW - 60_000, why: null, nextProbeAt: NOW };
    await guard.record(acme, SUCCESS, true);
    expect(breakers.records).toEqual([{ working: 1, failures: 0 }]);
    expect(breakers.state_.kind).toBe('closed');
    expect(transitions).toEqual(['closed']);
    expect(announced).toEqual(['provider.outage_ended']);
  });

  it('per-connection answers are recorded at once, 429s not at all', async () => {
    const { guard, breakers } = make();
    await guard.record(acme, SUCCESS, false);
    await guard.record(acme, INVALID_GRANT, false);
    await guard.record(acme, RATE_LIMITED, false);
    expect(breakers.records).toEqual([{ working: 2, failures: 0 }]);
  });

  it('a batch that finds the hash fresh announces the outage Redis forgot as ended', async () => {
    const { guard, breakers, announced } = make();
    breakers.fresh = true;
    await guard.record(acme, SUCCESS, false);
    expect(announced).toEqual([]);
    await guard.flush();
    expect(breakers.records).toEqual([{ working: 1, failures: 0 }]);
    expect(announced).toEqual(['provider.outage_ended']);
  });

  it('a failure that flushes successes onto a fresh hash announces the end first, as they would have', async () => {
    const { guard, breakers, announced } = make();
    breakers.fresh = true;
    await guard.record(acme, SUCCESS, false);
    await guard.record(acme, FAILURE, false);
    expect(announced).toEqual(['provider.outage_ended']);
  });

  it('a batch that finds the breaker open leaves it open: only a probe closes it', async () => {
    const { guard, breakers, announced, transitions } = make();
    await guard.record(acme, SUCCESS, false);
    // Another process opened it meanwhile: these successes may predate the failures that did.
    breakers.state_ = { kind: 'open', openedAt: NOW, why: null, nextProbeAt: NOW + 15_000 };
    await guard.flush();
    expect(breakers.records).toEqual([{ working: 1, failures: 0 }]);
    expect(breakers.state_.kind).toBe('open');
    expect(transitions).toEqual([]);
    expect(announced).toEqual([]);
  });

  it('a flush that fails logs a warning and drops its counts', async () => {
    const { guard, breakers, lines } = make();
    await guard.record(acme, SUCCESS, false);
    await guard.record(acme, SUCCESS, false);
    breakers.down = true;
    await guard.flush();
    expect(lines.find((l) => l.msg === 'provider breaker not updated')).toMatchObject({
      level: 'warn',
      provider: 'acme',
      batched: 2,
    });
    breakers.down = false;
    await guard.record(acme, FAILURE, false);
    expect(breakers.records).toEqual([{ working: 0, failures: 1 }]);
  });

  it('close drops the pending successes: nothing is sent after it', async () => {
    vi.useFakeTimers();
    const { guard, breakers } = make();
    await guard.record(acme, SUCCESS, false);
    guard.close();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(breakers.records).toEqual([]);
  });
});
