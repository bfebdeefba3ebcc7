import { describe, expect, it } from 'vitest';
import { percentile, round, summary } from './stats.ts';

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('percentile (nearest rank)', () => {
  it('gives the textbook nearest-rank values', () => {
    // The worked example of the nearest-rank method: 15, 20, 35, 40, 50.
    const sorted = [15, 20, 35, 40, 50];
    expect(percentile(sorted, 5)).toBe(15);
    expect(percentile(sorted, 30)).toBe(20);
    expect(percentile(sorted, 40)).toBe(20);
    expect(percentile(sorted, 50)).toBe(35);
    expect(percentile(sorted, 100)).toBe(50);
  });

  it('gives p50, p99, p0 and p100 of 1..100', () => {
    const sorted = range(100);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(sorted, 0)).toBe(1);
    expect(percentile(sorted, 100)).toBe(100);
  });

  it('does not skip a rank when p / 100 × n rounds a hair above a whole number', () => {
    // (7 / 100) * 100 = 7.000000000000001 in floating point: ceil used to make that rank 8.
    expect(percentile(range(100), 7)).toBe(7);
    expect(percentile(range(200), 7)).toBe(14);
    expect(percentile(range(300), 7)).toBe(21);
    // p99.9 of 1,000 values is the 999th, not the maximum.
    expect(percentile(range(1_000), 99.9)).toBe(999);
    expect(percentile(range(3_000), 1.1)).toBe(33);
  });

  it('picks the element at rank ceil(p × n / 100) for every n ≤ 300 and p with one decimal', () => {
    const wrong: string[] = [];
    for (let n = 1; n <= 300; n++) {
      const sorted = range(n);
      for (let p10 = 0; p10 <= 1_000; p10++) {
        // Integer arithmetic: ceil(p10 × n / 1000) exactly, at least rank 1.
        const rank = Math.max(1, Math.floor((p10 * n + 999) / 1_000));
        const got = percentile(sorted, p10 / 10);
        if (got !== rank) wrong.push(`p${p10 / 10} of ${n}: ${got}, not ${rank}`);
      }
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  it('clamps p outside [0, 100] to the ends', () => {
    expect(percentile([1, 2, 3], -5)).toBe(1);
    expect(percentile([1, 2, 3], 150)).toBe(3);
  });

  it('is NaN for no values', () => {
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('summary', () => {
  it('sorts numerically (not as strings) and reports n, p50, p99, max', () => {
    const values = [...range(100)].reverse();
    expect(summary(values)).toEqual({ n: 100, p50: 50, p99: 99, max: 100 });
    // A string sort would put 100 before 9.
    expect(summary([9, 100, 10])).toEqual({ n: 3, p50: 10, p99: 100, max: 100 });
  });

  it('leaves its input in place', () => {
    const values = [3, 1, 2];
    summary(values);
    expect(values).toEqual([3, 1, 2]);
  });

  it('is NaN throughout (and n 0) for no values', () => {
    const s = summary([]);
    expect(s.n).toBe(0);
    expect(s.p50).toBeNaN();
    expect(s.p99).toBeNaN();
    expect(s.max).toBeNaN();
  });

  it('handles a single value', () => {
    expect(summary([42])).toEqual({ n: 1, p50: 42, p99: 42, max: 42 });
  });
});

describe('round', () => {
  it('rounds to one decimal by default and to the digits asked for', () => {
    expect(round(1234.5678)).toBe(1234.6);
    expect(round(1234.5678, 2)).toBe(1234.57);
    expect(round(1234.5678, 0)).toBe(1235);
    expect(round(0.04)).toBe(0);
    expect(round(0.05, 1)).toBe(0.1);
  });
});
