import { retryDelayMs } from '@evergreen/core';
import { describe, expect, it } from 'vitest';
import { deliveryBackoff, passableEvents } from '../src/index.ts';

describe('retryDelayMs with the delivery backoff', () => {
  const policy = deliveryBackoff({ baseMs: 1_000, maxMs: 3_600_000 });
  const random = (value: number) => () => value;

  it('doubles from the base, with full jitter below the ceiling', () => {
    expect([1, 2, 3, 4].map((a) => retryDelayMs(a, policy, random(0.999_999)))).toEqual([999, 1_999, 3_999, 7_999]);
    expect(retryDelayMs(3, policy, random(0.5))).toBe(2_000);
    expect(retryDelayMs(3, policy, random(0))).toBe(0);
  });

  it('is capped, however many attempts', () => {
    expect(retryDelayMs(13, policy, random(0.999_999))).toBeLessThanOrEqual(3_600_000);
    expect(retryDelayMs(10_000, policy, random(0.5))).toBe(1_800_000);
    expect(retryDelayMs(5, deliveryBackoff({ baseMs: 0, maxMs: 0 }), random(0.5))).toBe(0);
  });
});

describe('passableEvents', () => {
  const e = (id: number, ageMs = 0) => ({ id, kind: 'connection.refreshed', ageMs });

  it('passes a contiguous run', () => {
    expect(passableEvents(4, [e(5), e(6), e(7)], 10_000)).toEqual({ events: [e(5), e(6), e(7)], heldBefore: null });
  });

  it('stops before a young gap: the missing id may still commit', () => {
    expect(passableEvents(4, [e(5), e(7), e(8)], 10_000)).toEqual({ events: [e(5)], heldBefore: 7 });
    expect(passableEvents(4, [e(6)], 10_000)).toEqual({ events: [], heldBefore: 6 });
  });

  it('passes a gap once the event after it is older than the grace period', () => {
    expect(passableEvents(4, [e(5), e(7, 10_000), e(9, 5)], 10_000)).toEqual({
      events: [e(5), e(7, 10_000)],
      heldBefore: 9,
    });
    expect(passableEvents(0, [e(1_000, 60_000)], 10_000).events).toHaveLength(1);
  });
});
