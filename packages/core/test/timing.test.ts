import { describe, it, expect } from 'vitest';
import { computeRefreshAt, retryDelayMs, type BackoffPolicy, type RefreshTimingPolicy } from '../src/timing.ts';

const S = 1_000;
const MIN = 60 * S;
const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);

const policy: RefreshTimingPolicy = { bufferMs: 5 * MIN, shortLifetimeFraction: 0.5, jitterMs: 30 * S };
const zero = () => 0;
const high = () => 0.999;
const fixed = (value: number) => () => value;

describe('computeRefreshAt', () => {
  describe('the 5-minute buffer', () => {
    it('refreshes a one-hour token exactly five minutes before it expires when jitter is pinned to 0', () => {
      const expiresAt = NOW + 60 * MIN;
      expect(computeRefreshAt({ now: NOW, expiresAt }, policy, zero)).toBe(expiresAt - 5 * MIN);
    });

    it('uses the provider-specific buffer it is given', () => {
      const expiresAt = NOW + 60 * MIN;
      expect(computeRefreshAt({ now: NOW, expiresAt }, { ...policy, bufferMs: 10 * MIN }, zero)).toBe(
        expiresAt - 10 * MIN,
      );
    });

    it('keeps the full buffer for a token whose lifetime is exactly buffer / fraction (10 minutes)', () => {
      const expiresAt = NOW + 10 * MIN;
      expect(computeRefreshAt({ now: NOW, expiresAt }, policy, zero)).toBe(expiresAt - 5 * MIN);
    });

    it('returns a whole number of milliseconds', () => {
      const expiresAt = NOW + 60 * MIN + 1;
      const at = computeRefreshAt({ now: NOW, expiresAt }, policy, fixed(0.123456789));
      expect(Number.isInteger(at)).toBe(true);
    });
  });

  describe('short lifetimes', () => {
    it('clamps the buffer to half the lifetime for a 2-minute token, refreshing after one minute rather than at once', () => {
      const expiresAt = NOW + 2 * MIN;
      expect(computeRefreshAt({ now: NOW, expiresAt }, policy, zero)).toBe(NOW + 1 * MIN);
    });

    it('clamps the buffer to the configured fraction of a 6-minute token', () => {
      const expiresAt = NOW + 6 * MIN;
      expect(computeRefreshAt({ now: NOW, expiresAt }, { ...policy, shortLifetimeFraction: 0.25 }, zero)).toBe(
        expiresAt - 1.5 * MIN,
      );
    });

    it('never schedules a short-lived token in the past even when buffer plus jitter exceed its lifetime', () => {
      const expiresAt = NOW + 100 * S;
      const at = computeRefreshAt({ now: NOW, expiresAt }, { ...policy, shortLifetimeFraction: 0.95 }, high);
      expect(at).toBe(NOW);
    });

    it('schedules a 1-second token no later than its expiry and no earlier than now', () => {
      const expiresAt = NOW + S;
      for (const r of [0, 0.5, 0.999]) {
        const at = computeRefreshAt({ now: NOW, expiresAt }, policy, fixed(r)) as number;
        expect(at).toBeGreaterThanOrEqual(NOW);
        expect(at).toBeLessThan(expiresAt);
      }
    });
  });

  describe('jitter', () => {
    it('with random pinned near 1 refreshes up to jitterMs earlier, never later', () => {
      const expiresAt = NOW + 60 * MIN;
      expect(computeRefreshAt({ now: NOW, expiresAt }, policy, high)).toBe(
        Math.round(expiresAt - 5 * MIN - 0.999 * 30 * S),
      );
    });

    it('is bounded by 10% of the lifetime when that is smaller than jitterMs', () => {
      // 2-minute token: buffer clamps to 60 s, jitter to at most 12 s (10% of 120 s) rather than 30 s.
      const expiresAt = NOW + 2 * MIN;
      expect(computeRefreshAt({ now: NOW, expiresAt }, policy, high)).toBe(
        Math.round(expiresAt - 60 * S - 0.999 * 12 * S),
      );
    });

    it('is bounded by jitterMs when that is smaller than 10% of the lifetime', () => {
      const expiresAt = NOW + 24 * 60 * MIN;
      expect(computeRefreshAt({ now: NOW, expiresAt }, policy, high)).toBe(
        Math.round(expiresAt - 5 * MIN - 0.999 * 30 * S),
      );
    });

    it('only ever moves the refresh earlier, within min(jitterMs, 10% of lifetime), for any random value', () => {
      for (const lifetime of [30 * S, 2 * MIN, 7 * MIN, 60 * MIN, 24 * 60 * MIN]) {
        const expiresAt = NOW + lifetime;
        const unjittered = computeRefreshAt({ now: NOW, expiresAt }, policy, zero) as number;
        const maxJitter = Math.min(policy.jitterMs, lifetime * 0.1);
        for (let i = 0; i < 100; i++) {
          const r = i / 100;
          const at = computeRefreshAt({ now: NOW, expiresAt }, policy, fixed(r)) as number;
          expect(at).toBeLessThanOrEqual(unjittered);
          expect(at).toBeGreaterThanOrEqual(Math.floor(unjittered - maxJitter));
        }
      }
    });

    it('with jitterMs 0 gives the same time whatever random returns', () => {
      const expiresAt = NOW + 60 * MIN;
      const noJitter = { ...policy, jitterMs: 0 };
      expect(computeRefreshAt({ now: NOW, expiresAt }, noJitter, high)).toBe(expiresAt - 5 * MIN);
      expect(computeRefreshAt({ now: NOW, expiresAt }, noJitter, zero)).toBe(expiresAt - 5 * MIN);
    });

    it('spreads identical expiries of a bulk import over distinct times', () => {
      const expiresAt = NOW + 60 * MIN;
      const times = new Set<number | null>();
      for (let i = 0; i < 50; i++) times.add(computeRefreshAt({ now: NOW, expiresAt }, policy, fixed(i / 50)));
      expect(times.size).toBe(50);
    });
  });

  describe('notBefore', () => {
    it('is a floor: a computed time earlier than notBefore becomes notBefore', () => {
      const expiresAt = NOW + 2 * MIN;
      const notBefore = NOW + 90 * S;
      expect(computeRefreshAt({ now: NOW, expiresAt, notBefore }, policy, zero)).toBe(notBefore);
    });

    it('does not delay a refresh that is already later than notBefore', () => {
      const expiresAt = NOW + 60 * MIN;
      expect(computeRefreshAt({ now: NOW, expiresAt, notBefore: NOW + 10 * S }, policy, zero)).toBe(
        expiresAt - 5 * MIN,
      );
    });
  });

  describe('expired tokens', () => {
    it('refreshes a token that has already expired now', () => {
      expect(computeRefreshAt({ now: NOW, expiresAt: NOW - 10 * MIN }, policy, high)).toBe(NOW);
    });

    it('refreshes a token expiring exactly now at once', () => {
      expect(computeRefreshAt({ now: NOW, expiresAt: NOW }, policy, zero)).toBe(NOW);
    });

    it('refreshes an expired token at notBefore when one is given', () => {
      expect(computeRefreshAt({ now: NOW, expiresAt: NOW - S, notBefore: NOW + 10 * S }, policy, zero)).toBe(
        NOW + 10 * S,
      );
    });
  });

  describe('unknown expiry', () => {
    it('schedules nothing without a keep-alive interval', () => {
      expect(computeRefreshAt({ now: NOW, expiresAt: null }, policy, zero)).toBeNull();
    });

    it('schedules nothing when the keep-alive interval is null', () => {
      expect(computeRefreshAt({ now: NOW, expiresAt: null, unknownExpiryIntervalMs: null }, policy, high)).toBeNull();
    });

    it('refreshes one keep-alive interval from now', () => {
      const day = 24 * 60 * MIN;
      expect(computeRefreshAt({ now: NOW, expiresAt: null, unknownExpiryIntervalMs: day }, policy, high)).toBe(
        NOW + day,
      );
    });

    it('respects notBefore when it is later than now plus the interval', () => {
      expect(
        computeRefreshAt({ now: NOW, expiresAt: null, unknownExpiryIntervalMs: S, notBefore: NOW + MIN }, policy, zero),
      ).toBe(NOW + MIN);
    });
  });
});

describe('retryDelayMs', () => {
  const backoff: BackoffPolicy = { baseMs: S, capMs: 30 * S, attempts: 8, cooldownMs: 5 * MIN };

  it('doubles the ceiling per consecutive failure: 1 s, 2 s, 4 s, 8 s, 16 s (random pinned near 1)', () => {
    expect([1, 2, 3, 4, 5].map((f) => retryDelayMs(f, backoff, high))).toEqual([999, 1998, 3996, 7992, 15984]);
  });

  it('caps the ceiling at capMs (30 s) once doubling would exceed it', () => {
    expect(retryDelayMs(6, backoff, high)).toBe(Math.round(0.999 * 30 * S));
    expect(retryDelayMs(8, backoff, high)).toBe(Math.round(0.999 * 30 * S));
  });

  it('uses full jitter: the delay is random × ceiling, anywhere between the floor and the ceiling', () => {
    for (const failures of [1, 3, 5, 8]) {
      const ceiling = Math.min(backoff.capMs, backoff.baseMs * 2 ** (failures - 1));
      expect(retryDelayMs(failures, backoff, fixed(0.5))).toBe(Math.round(ceiling / 2));
      for (let i = 0; i < 100; i++) {
        const delay = retryDelayMs(failures, backoff, fixed(i / 100));
        expect(delay).toBeGreaterThanOrEqual(backoff.baseMs / 10);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  it('floors the delay at a tenth of the base so a retry is never hot (random pinned to 0)', () => {
    for (let failures = 1; failures <= backoff.attempts; failures++) {
      expect(retryDelayMs(failures, backoff, zero)).toBe(100);
    }
  });

  it('treats failure count 0 like the first failure', () => {
    expect(retryDelayMs(0, backoff, high)).toBe(999);
  });

  it('after the quick attempts are used up, waits the cooldown ±50 %: half of it with random 0', () => {
    expect(retryDelayMs(9, backoff, zero)).toBe(150_000);
  });

  it('after the quick attempts are used up, waits just under the full cooldown with random near 1', () => {
    expect(retryDelayMs(9, backoff, high)).toBe(Math.round(5 * MIN * (0.5 + 0.999 / 2)));
    expect(retryDelayMs(1_000, backoff, high)).toBe(Math.round(5 * MIN * (0.5 + 0.999 / 2)));
  });

  it('stays at the cap, finite, for very many quick attempts', () => {
    const many = { ...backoff, attempts: 10_000 };
    expect(retryDelayMs(5_000, many, high)).toBe(Math.round(0.999 * 30 * S));
  });

  it('lets the jitter reach zero when minMs is 0, and stays finite with a zero base however many failures', () => {
    expect(retryDelayMs(3, { ...backoff, minMs: 0 }, zero)).toBe(0);
    expect(retryDelayMs(3, { ...backoff, minMs: 0 }, high)).toBe(3996);
    const free = { baseMs: 0, capMs: 0, attempts: Number.POSITIVE_INFINITY, cooldownMs: 0, minMs: 0 };
    expect(retryDelayMs(10_000, free, high)).toBe(0);
  });

  it('returns whole milliseconds', () => {
    expect(Number.isInteger(retryDelayMs(3, backoff, fixed(0.3333333)))).toBe(true);
    expect(Number.isInteger(retryDelayMs(30, backoff, fixed(0.3333333)))).toBe(true);
  });
});
