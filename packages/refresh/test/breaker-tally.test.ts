import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BreakerTally } from '../src/breaker-tally.ts';

/** A tally whose flushes are written down (provider → working answers), each call one entry. */
function tally(flushMs = 200) {
  const flushed: [string, number][] = [];
  const t = new BreakerTally({
    flush: async (provider, working) => {
      flushed.push([provider, working]);
    },
    flushMs,
  });
  return { t, flushed };
}

/** Timers that keep the process alive (an unref'd one is not listed). */
const refTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('BreakerTally', () => {
  describe('on a fake clock', () => {
    beforeEach(() => {
      vi.useFakeTimers();
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it("sends each provider's pending count in one call, one interval after the first", async () => {
      const { t, flushed } = tally();
      t.add('acme');
      await vi.advanceTimersByTimeAsync(150);
      t.add('acme');
      t.add('beta');
      t.add('acme');
      expect(flushed).toEqual([]);
      await vi.advanceTimersByTimeAsync(50);
      expect(flushed).toEqual([
        ['acme', 3],
        ['beta', 1],
      ]);
      expect(t.pending('acme')).toBe(0);
    });

    it('arms the timer only while something is pending', async () => {
      const { t, flushed } = tally();
      await vi.advanceTimersByTimeAsync(1_000);
      expect(flushed).toEqual([]);
      expect(vi.getTimerCount()).toBe(0);
      t.add('acme');
      expect(vi.getTimerCount()).toBe(1);
      await vi.advanceTimersByTimeAsync(200);
      expect(vi.getTimerCount()).toBe(0);
      t.add('acme');
      await vi.advanceTimersByTimeAsync(200);
      expect(flushed).toEqual([
        ['acme', 1],
        ['acme', 1],
      ]);
    });

    it("take hands the provider's count to the caller, and the timer then sends only the rest", async () => {
      const { t, flushed } = tally();
      t.add('acme');
      t.add('acme');
      t.add('beta');
      expect(t.take('acme')).toBe(2);
      expect(t.take('acme')).toBe(0);
      await vi.advanceTimersByTimeAsync(200);
      expect(flushed).toEqual([['beta', 1]]);
    });

    it('a flush that fails keeps nothing pending, and the next one sends only what came after', async () => {
      const calls: number[] = [];
      const t = new BreakerTally({
        flush: async (_provider, working) => {
          calls.push(working);
          if (calls.length === 1) throw new Error('redis away');
        },
      });
      t.add('acme');
      t.add('acme');
      await t.flush();
      expect(t.pending('acme')).toBe(0);
      t.add('acme');
      await vi.advanceTimersByTimeAsync(200);
      expect(calls).toEqual([2, 1]);
    });

    it('close stops the timer and drops what is pending, unsent; later answers are not kept', async () => {
      const { t, flushed } = tally();
      t.add('acme');
      t.close();
      expect(vi.getTimerCount()).toBe(0);
      t.add('acme');
      expect(t.pending('acme')).toBe(0);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(flushed).toEqual([]);
    });
  });

  it('flush sends at once and cancels the timer', async () => {
    const { t, flushed } = tally(60_000);
    t.add('acme');
    await t.flush();
    expect(flushed).toEqual([['acme', 1]]);
    await t.flush();
    expect(flushed).toEqual([['acme', 1]]);
  });

  it('its timer never keeps a process alive', () => {
    const { t } = tally();
    const before = refTimers();
    t.add('acme');
    expect(refTimers()).toBe(before);
    t.close();
  });
});
