/** One key's count in the current window, as this process knows it. */
interface KeyCount {
  window: number;
  /** The shared total as Redis last answered it (every process's requests flushed so far, ours included). */
  shared: number;
  /** Ours, sent to Redis and not answered yet. */
  sending: number;
  /** Ours, not sent yet. */
  pending: number;
  /** Whether Redis has answered a total in this window: until then, other processes' requests are unknown. */
  known: boolean;
}

/** Requests of one key to add to the shared count of one window. */
export interface CountDelta {
  keyId: string;
  window: number;
  delta: number;
}

/** See `#unconfirmedAllowance`. */
const UNCONFIRMED_SHARE = 8;

/**
 * What a request may do: go on, or wait `waitMs`. `confirm`: the first request of a key in this process's window,
 * already counted as sent; the caller reports it at once and asks `confirmed` whether it fit in the shared total, so
 * a process that has just started (or not seen the key this window) learns the others' count before it trusts itself.
 */
export type Take = { waitMs: null; confirm: CountDelta | null } | { waitMs: number; confirm: null };

/**
 * Fixed-window request counts per key, shared by every process through Redis but mostly decided locally: a request
 * is allowed when the last known shared total plus this process's own unreported requests is under the limit, and
 * while those unreported requests stay within a share of what is left (`#unconfirmedAllowance`) it waits on no Redis
 * round trip. They go out in batches (`drain`, then `settle` with the total Redis answers). Beyond that share, and for
 * a key's first request of a window, the request is reported at once and waits for the total (`confirm`). So the
 * limit is exact in one process, and processes bursting at once overshoot it by at most their allowances, which
 * shrink to nothing near the limit. While Redis does not answer, each process keeps counting its own: the limit
 * loosens by the number of processes, never turns off. Pure: the caller supplies the clock and does the I/O.
 */
export class SharedWindowCount {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #counts = new Map<string, KeyCount>();

  constructor(limit: number, windowMs: number) {
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  /** Counts one request of `keyId` at `nowMs`. */
  take(keyId: string, nowMs: number): Take {
    const window = Math.floor(nowMs / this.#windowMs);
    let count = this.#counts.get(keyId);
    if (count === undefined || count.window !== window) {
      count = { window, shared: 0, sending: 0, pending: 0, known: false };
      this.#counts.set(keyId, count);
    }
    if (count.shared + count.sending + count.pending >= this.#limit) {
      return { waitMs: this.#untilNext(window, nowMs), confirm: null };
    }
    if (count.sending + count.pending + 1 > this.#unconfirmedAllowance(count)) {
      const confirm = { keyId, window, delta: count.pending + 1 };
      count.sending += confirm.delta;
      count.pending = 0;
      return { waitMs: null, confirm };
    }
    count.pending += 1;
    return { waitMs: null, confirm: null };
  }

  /**
   * How many of its own requests this process may let through before Redis has counted them: an eighth of what is
   * left of the budget as last known, so processes that burst at once overshoot by little, and a request near the
   * limit waits for the shared total. None before the first total of the window: other processes may have used it all.
   */
  #unconfirmedAllowance(count: KeyCount): number {
    if (!count.known) return 0;
    return Math.floor((this.#limit - count.shared) / UNCONFIRMED_SHARE);
  }

  /** After `settle` of a `confirm`: null when the request fit in the shared total, else how long it must wait. */
  confirmed(sent: CountDelta, total: number | null, nowMs: number): number | null {
    return total !== null && total > this.#limit ? this.#untilNext(sent.window, nowMs) : null;
  }

  /** The requests to send now; they count as in flight until `settle` or `retry`. Forgets windows that have ended. */
  drain(nowMs: number): CountDelta[] {
    const current = Math.floor(nowMs / this.#windowMs);
    const deltas: CountDelta[] = [];
    for (const [keyId, count] of this.#counts) {
      if (count.window < current && count.sending === 0) {
        this.#counts.delete(keyId);
      } else if (count.pending > 0) {
        deltas.push({ keyId, window: count.window, delta: count.pending });
        count.sending += count.pending;
        count.pending = 0;
      }
    }
    return deltas;
  }

  /** Redis counted `sent` and answered the window's shared total, which includes it. */
  settle(sent: CountDelta, total: number): void {
    const count = this.#current(sent);
    if (count === undefined) return;
    count.sending -= sent.delta;
    count.known = true;
    // Answers may arrive out of order; totals only grow within a window.
    count.shared = Math.max(count.shared, total);
  }

  /** Redis did not count `sent`: it goes out with the next batch. */
  retry(sent: CountDelta): void {
    const count = this.#current(sent);
    if (count === undefined) return;
    count.sending -= sent.delta;
    count.pending += sent.delta;
  }

  /** Keys with a count held; for tests and the memory bound. */
  get size(): number {
    return this.#counts.size;
  }

  #untilNext(window: number, nowMs: number): number {
    return Math.max(1, (window + 1) * this.#windowMs - nowMs);
  }

  #current(sent: CountDelta): KeyCount | undefined {
    const count = this.#counts.get(sent.keyId);
    return count !== undefined && count.window === sent.window ? count : undefined;
  }
}
