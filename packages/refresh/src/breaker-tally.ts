/** How long a working answer counted in process waits, at most, before it reaches the provider's breaker in Redis. */
export const BREAKER_TALLY_FLUSH_MS = 200;

export interface BreakerTallyOptions {
  /**
   * Sends one provider's pending working answers in one script call, and reports its own failure (the breaker guard
   * logs a warning): what it was given is no longer pending either way, and a rejection is ignored here.
   */
  flush: (provider: string, working: number) => Promise<void>;
  /** How long the first pending answer waits before the timer flushes everything pending. */
  flushMs?: number;
}

/**
 * The working answers of one process not yet counted in Redis, per provider: the successes of requests a closed
 * breaker admitted (no probe). They only dilute a failure ratio, so rather than a script call each, they wait here,
 * at most `flushMs`, and go in one call per provider: on the timer, or with the next answer of that provider
 * recorded at once (a failure above all, so its verdict sees every success this process has had: `take`). No I/O of
 * its own: the flush is the caller's.
 */
export class BreakerTally {
  readonly #flush: BreakerTallyOptions['flush'];
  readonly #flushMs: number;
  readonly #pending = new Map<string, number>();
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(options: BreakerTallyOptions) {
    this.#flush = options.flush;
    this.#flushMs = options.flushMs ?? BREAKER_TALLY_FLUSH_MS;
  }

  /** One more working answer of `provider`; the timer starts with the first one pending. */
  add(provider: string): void {
    // Closed: Redis is going away with the process, and these counts only dilute a ratio (see `close`).
    if (this.#closed) return;
    this.#pending.set(provider, (this.#pending.get(provider) ?? 0) + 1);
    // Unref'd: a process with nothing else to do exits rather than wait 200 ms to send counts it can lose.
    this.#timer ??= setTimeout(() => {
      this.#timer = null;
      void this.flush();
    }, this.#flushMs).unref();
  }

  /** The provider's pending working answers, taken out: the caller sends them with the answer it records now. */
  take(provider: string): number {
    const working = this.#pending.get(provider) ?? 0;
    this.#pending.delete(provider);
    return working;
  }

  /** How many working answers of `provider` wait. */
  pending(provider: string): number {
    return this.#pending.get(provider) ?? 0;
  }

  /**
   * Sends everything pending now, one call per provider, and settles when they have. Never rejects, and nothing stays
   * pending whether the calls work or not: a lost batch only dilutes a failure ratio less.
   */
  async flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const batches = [...this.#pending];
    this.#pending.clear();
    await Promise.allSettled(batches.map(([provider, working]) => this.#flush(provider, working)));
  }

  /**
   * Stops the timer and drops what is pending, unsent: working answers only dilute a failure ratio, so losing a
   * fraction of a second of them can open a breaker slightly earlier, never later; and a flush at close would race
   * the Redis client's disconnect for nothing a breaker needs.
   */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#pending.clear();
  }
}
