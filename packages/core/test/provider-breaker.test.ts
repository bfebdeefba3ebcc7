import { describe, expect, it } from 'vitest';
import {
  admitThroughBreaker,
  BREAKER_RECHECK_MS,
  breakerBucketMs,
  breakerSignal,
  breakerVerdict,
  rampAllowance,
  RAMP_START_PER_SECOND,
  shouldOpen,
  type BreakerPolicy,
  type BreakerState,
} from '../src/provider-breaker.ts';
import type { RefreshOutcome } from '../src/refresh-outcome.ts';

const policy: BreakerPolicy = {
  failureRatio: 0.5,
  windowMs: 60_000,
  minRequests: 20,
  probeIntervalMs: 15_000,
  rampMs: 60_000,
};
const NOW = 1_800_000_000_000;

describe('breakerSignal', () => {
  const cases: [RefreshOutcome, ReturnType<typeof breakerSignal>][] = [
    [{ kind: 'success', tokens: { accessToken: 'a' }, status: 200 }, 'success'],
    [{ kind: 'transient', reason: 'server_error', status: 503 }, 'failure'],
    [{ kind: 'transient', reason: 'timeout', status: null }, 'failure'],
    [{ kind: 'transient', reason: 'network', status: null }, 'failure'],
    [{ kind: 'transient', reason: 'bad_response', status: 200 }, 'failure'],
    [{ kind: 'reauth', reason: 'invalid_grant', status: 400 }, 'answered'],
    [{ kind: 'fatal', reason: 'invalid_client', status: 401 }, 'answered'],
    [{ kind: 'rate_limited', reason: 'rate_limited', retryAfterMs: 5_000, status: 429 }, null],
  ];
  it.each(cases)('%o counts as %s', (outcome, signal) => {
    expect(breakerSignal(outcome)).toBe(signal);
  });
});

describe('shouldOpen', () => {
  it('opens when the failed share reaches the threshold with enough requests', () => {
    expect(shouldOpen({ requests: 20, failures: 10 }, policy)).toBe(true);
    expect(shouldOpen({ requests: 20, failures: 20 }, policy)).toBe(true);
  });
  it('stays closed below the threshold', () => {
    expect(shouldOpen({ requests: 20, failures: 9 }, policy)).toBe(false);
  });
  it('stays closed with fewer requests than the minimum, however many failed', () => {
    expect(shouldOpen({ requests: 19, failures: 19 }, policy)).toBe(false);
  });
  it('never opens on an empty window, even with a minimum of 0', () => {
    expect(shouldOpen({ requests: 0, failures: 0 }, { ...policy, minRequests: 0 })).toBe(false);
  });
});

describe('breakerVerdict', () => {
  const full = { requests: 30, failures: 30 };
  it('a failure that tips the window opens a closed breaker', () => {
    expect(breakerVerdict('closed', 'failure', full, policy)).toBe('open');
  });
  it('per-connection answers never open it, however bad the window', () => {
    expect(breakerVerdict('closed', 'answered', full, policy)).toBe('none');
    expect(breakerVerdict('closed', 'success', full, policy)).toBe('none');
  });
  it('a success closes an open breaker; failures and per-connection answers leave it open', () => {
    expect(breakerVerdict('open', 'success', full, policy)).toBe('close');
    expect(breakerVerdict('open', 'failure', full, policy)).toBe('none');
    expect(breakerVerdict('open', 'answered', full, policy)).toBe('none');
  });
});

describe('admitThroughBreaker', () => {
  const open = (nextProbeAt: number): BreakerState => ({
    kind: 'open',
    openedAt: NOW - 60_000,
    why: null,
    nextProbeAt,
  });

  it('a closed breaker that never opened sends freely', () => {
    expect(admitThroughBreaker({ kind: 'closed', closedAt: null }, NOW, policy)).toEqual({
      kind: 'send',
      perSecond: null,
    });
  });
  it('an open breaker whose probe is due lets the caller try for the probe slot', () => {
    expect(admitThroughBreaker(open(NOW), NOW, policy)).toEqual({ kind: 'probe' });
    expect(admitThroughBreaker(open(NOW - 1), NOW, policy)).toEqual({ kind: 'probe' });
  });
  it('an open breaker holds until the next probe, re-checking at least every few seconds', () => {
    expect(admitThroughBreaker(open(NOW + 2_000), NOW, policy)).toEqual({ kind: 'hold', retryAfterMs: 2_000 });
    expect(admitThroughBreaker(open(NOW + 60_000), NOW, policy)).toEqual({
      kind: 'hold',
      retryAfterMs: BREAKER_RECHECK_MS,
    });
  });
  it('right after a close, requests ramp up', () => {
    expect(admitThroughBreaker({ kind: 'closed', closedAt: NOW }, NOW, policy)).toEqual({
      kind: 'send',
      perSecond: RAMP_START_PER_SECOND,
    });
    expect(admitThroughBreaker({ kind: 'closed', closedAt: NOW - 60_000 }, NOW, policy)).toEqual({
      kind: 'send',
      perSecond: null,
    });
  });
});

describe('rampAllowance', () => {
  it('doubles six times over the ramp, then lifts the limit', () => {
    const seen = [0, 10_000, 20_000, 30_000, 40_000, 50_000, 59_999].map((t) => rampAllowance(t, policy));
    expect(seen).toEqual([5, 10, 20, 40, 80, 160, 160]);
    expect(rampAllowance(60_000, policy)).toBeNull();
    expect(rampAllowance(3_600_000, policy)).toBeNull();
  });
  it('never shrinks as time passes', () => {
    let last = 0;
    for (let t = 0; t < 60_000; t += 137) {
      const allowance = rampAllowance(t, policy) ?? Infinity;
      expect(allowance).toBeGreaterThanOrEqual(last);
      last = allowance;
    }
  });
  it('a ramp of 0 means no ramp; a clock that went back counts as the start', () => {
    expect(rampAllowance(0, { rampMs: 0 })).toBeNull();
    expect(rampAllowance(-5_000, policy)).toBe(RAMP_START_PER_SECOND);
  });
});

describe('breakerBucketMs', () => {
  it('splits the window in twelve, at least a second each', () => {
    expect(breakerBucketMs(60_000)).toBe(5_000);
    expect(breakerBucketMs(5_000)).toBe(1_000);
  });
});
