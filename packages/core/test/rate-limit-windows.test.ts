import { describe, expect, it } from 'vitest';
import { limiterWindowFor } from '../src/rate-limit-windows.ts';

/** Worst case of fixed windows of `w.max` jobs each: how many starts fit in one span of `span` ms. */
function worstInSpan(w: { max: number; durationMs: number }, span: number): number {
  // Windows laid back to back, every job at the very start of its window but the first window's at its very end.
  const windowsTouched = Math.ceil(span / w.durationMs) + 1;
  return windowsTouched * w.max;
}

describe('limiterWindowFor', () => {
  it.each([
    [2, 1_000],
    [3, 1_000],
    [10, 1_000],
    [20, 1_000],
    [100, 60_000],
    [1_000, 1_000],
    [7, 333],
  ])('never lets more than %i requests into any %i ms, whatever the timing', (max, durationMs) => {
    const w = limiterWindowFor({ max, durationMs });
    expect(worstInSpan(w, durationMs)).toBeLessThanOrEqual(max);
    expect(w.max).toBeGreaterThanOrEqual(1);
  });

  it('keeps at least 80 % of the declared rate from a max of 10 up', () => {
    for (const max of [10, 11, 25, 50, 99, 100, 1_000]) {
      const w = limiterWindowFor({ max, durationMs: 1_000 });
      const rate = (w.max * 1_000) / w.durationMs;
      expect(rate / max).toBeGreaterThanOrEqual(0.8);
    }
  });

  it('keeps one job per declared window when the declared max is 1', () => {
    expect(limiterWindowFor({ max: 1, durationMs: 5_000 })).toEqual({ max: 1, durationMs: 5_000 });
  });

  it('halves a max of 2 or 3 into one job per window', () => {
    expect(limiterWindowFor({ max: 2, durationMs: 1_000 })).toEqual({ max: 1, durationMs: 1_000 });
    expect(limiterWindowFor({ max: 3, durationMs: 1_000 })).toEqual({ max: 1, durationMs: 500 });
  });
});
