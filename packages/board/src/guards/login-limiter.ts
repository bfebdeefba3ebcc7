import { RateLimiterMemory } from 'rate-limiter-flexible';
import { addressKey } from './address-key.ts';

export interface LoginLimits {
  /** Failed logins an address may make within a window; the next request from it waits for the window's end. */
  limit: number;
  windowMs: number;
}

/** Ten wrong guesses a minute per address: nothing to a person who mistyped, slow for a guesser. */
export const DEFAULT_LOGIN_LIMITS: LoginLimits = { limit: 10, windowMs: 60_000 };

/**
 * Counts failed logins per client address (rate-limiter-flexible's in-memory counter: fixed windows, keys expire on
 * their own). Successful logins are not counted. An address over the limit is refused before its credentials are even
 * looked at: were a right guess let through, a guesser would learn from the first 200 among the 429s.
 */
export class LoginLimiter {
  readonly #counter: RateLimiterMemory;
  readonly #limit: number;

  constructor(limits: LoginLimits = DEFAULT_LOGIN_LIMITS) {
    this.#limit = limits.limit;
    this.#counter = new RateLimiterMemory({
      points: limits.limit,
      duration: Math.max(1, Math.ceil(limits.windowMs / 1000)),
    });
  }

  /** Milliseconds until this address may try again, or null when it may now. */
  async blockedFor(ip: string): Promise<number | null> {
    const state = await this.#counter.get(addressKey(ip));
    return state !== null && state.consumedPoints >= this.#limit ? Math.max(1, state.msBeforeNext) : null;
  }

  /** Counts a failure; answers the failures counted in this window. */
  async recordFailure(ip: string): Promise<number> {
    try {
      return (await this.#counter.consume(addressKey(ip))).consumedPoints;
    } catch {
      // consume() rejects once the points are used up: the address is blocked already.
      return this.#limit + 1;
    }
  }
}
