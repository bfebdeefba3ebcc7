import { describe, expect, it } from 'vitest';
import { SharedWindowCount } from '../src/shared-window-count.ts';

const MINUTE = 60_000;
const T0 = 10 * MINUTE; // the start of a window
const ALLOW = { waitMs: null, confirm: null };

describe('SharedWindowCount', () => {
  it("asks Redis about a key's first request in a window, then decides the next ones locally", () => {
    const counts = new SharedWindowCount(80, MINUTE);
    const first = counts.take('k', T0);
    expect(first).toEqual({ waitMs: null, confirm: { keyId: 'k', window: 10, delta: 1 } });
    counts.settle(first.confirm!, 1);
    expect(counts.confirmed(first.confirm!, 1, T0)).toBeNull();
    // (80 - 1) / 8: nine requests may go before Redis has counted them.
    for (let i = 0; i < 9; i++) expect(counts.take('k', T0 + 1)).toEqual(ALLOW);
    expect(counts.take('k', T0 + 2)).toEqual({ waitMs: null, confirm: { keyId: 'k', window: 10, delta: 10 } });
  });

  it('waits for the shared total on every request near the limit, and refuses at it', () => {
    const counts = new SharedWindowCount(3, MINUTE);
    for (let total = 1; total <= 3; total++) {
      const take = counts.take('k', T0);
      expect(take.confirm).toEqual({ keyId: 'k', window: 10, delta: 1 });
      counts.settle(take.confirm!, total);
    }
    expect(counts.take('k', T0 + 3)).toEqual({ waitMs: MINUTE - 3, confirm: null });
  });

  it("refuses a request the others' shared total leaves no room for", () => {
    const counts = new SharedWindowCount(3, MINUTE);
    const first = counts.take('k', T0 + 500);
    counts.settle(first.confirm!, 4); // three from other processes, then ours
    expect(counts.confirmed(first.confirm!, 4, T0 + 500)).toBe(MINUTE - 500);
    expect(counts.take('k', T0 + 501).waitMs).toBe(MINUTE - 501);
  });

  it('counts what it has not sent and what is in flight until Redis answers the total', () => {
    const counts = new SharedWindowCount(80, MINUTE);
    counts.settle(counts.take('k', T0).confirm!, 1);
    counts.take('k', T0);
    counts.take('k', T0);
    const [batch] = counts.drain(T0);
    expect(batch).toEqual({ keyId: 'k', window: 10, delta: 2 });
    for (let i = 0; i < 7; i++) expect(counts.take('k', T0)).toEqual(ALLOW); // 2 in flight + 7 = the allowance
    // The next one goes with the seven unsent, at once.
    const confirm = counts.take('k', T0).confirm;
    expect(confirm).toEqual({ keyId: 'k', window: 10, delta: 8 });
    counts.settle(batch!, 3);
    counts.settle(confirm!, 11);
    expect(counts.drain(T0)).toEqual([]);
    // (80 - 11) / 8: eight more before the next report.
    for (let i = 0; i < 8; i++) expect(counts.take('k', T0)).toEqual(ALLOW);
    expect(counts.drain(T0)).toEqual([{ keyId: 'k', window: 10, delta: 8 }]);
  });

  it("learns other processes' requests from the totals Redis answers", () => {
    const counts = new SharedWindowCount(80, MINUTE);
    counts.settle(counts.take('k', T0).confirm!, 1);
    counts.take('k', T0);
    const [batch] = counts.drain(T0);
    counts.settle(batch!, 79); // 77 requests came from elsewhere
    const last = counts.take('k', T0);
    expect(last.confirm).toEqual({ keyId: 'k', window: 10, delta: 1 });
    counts.settle(last.confirm!, 80);
    expect(counts.take('k', T0).waitMs).not.toBeNull();
  });

  it('sends again what Redis did not count, and keeps counting it meanwhile', () => {
    const counts = new SharedWindowCount(2, MINUTE);
    const first = counts.take('k', T0).confirm!;
    counts.retry(first);
    expect(counts.confirmed(first, null, T0)).toBeNull();
    const second = counts.take('k', T0).confirm!;
    counts.retry(second);
    expect(counts.take('k', T0).waitMs).not.toBeNull();
    expect(counts.drain(T0)).toEqual([{ keyId: 'k', window: 10, delta: 2 }]);
  });

  it('starts every key afresh in a new window and forgets the ended ones', () => {
    const counts = new SharedWindowCount(1, MINUTE);
    counts.settle(counts.take('a', T0).confirm!, 1);
    counts.settle(counts.take('b', T0).confirm!, 1);
    expect(counts.take('a', T0 + 1).waitMs).toBe(MINUTE - 1);
    expect(counts.take('a', T0 + MINUTE).confirm).toEqual({ keyId: 'a', window: 11, delta: 1 });
    expect(counts.drain(T0 + MINUTE)).toEqual([]);
    expect(counts.size).toBe(1);
  });

  it('ignores an answer about a window that has ended', () => {
    const counts = new SharedWindowCount(1, MINUTE);
    const old = counts.take('k', T0).confirm!;
    counts.take('k', T0 + MINUTE);
    counts.settle(old, 50);
    expect(counts.take('k', T0 + MINUTE).waitMs).not.toBeNull(); // refused by its own request in flight, not by 50
    expect(counts.drain(T0 + MINUTE)).toEqual([]);
  });
});
