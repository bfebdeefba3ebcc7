import { hashApiKey, parseApiKey } from './api-key-format.ts';
import type { ApiKeyPrincipal } from './principal.ts';

/** Where keys are checked: the store's `ApiKeyStore` (owned here, implemented there, so the dependency points down). */
export interface ApiKeySource {
  /** The principal of a valid, unrevoked key; null for anything else. */
  verify(presentedKey: string): Promise<ApiKeyPrincipal | null>;
}

export interface ApiKeyVerifierOptions {
  /**
   * How long an answer is reused, valid or not. This is the revocation bound: a key revoked anywhere stops working
   * on every process within it. Default 2,000 ms.
   */
  ttlMs?: number;
  /** Answers kept at most (oldest dropped first): a flood of random keys cannot grow the cache without bound. */
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  expiresAt: number;
  answer: Promise<ApiKeyPrincipal | null>;
}

/**
 * The api role's key check: `verify(authorizationKey)` → principal or null. Answers are cached in memory for
 * `ttlMs` (2 s), so a busy key costs one database round trip per process every 2 s instead of one per request, and a
 * revocation is seen everywhere within those 2 s, with no channel to fail between the store and the processes.
 * Concurrent checks of one key share one lookup. A malformed key is refused without a lookup. The cache is keyed by
 * the key's SHA-256, so the process's memory holds no key in clear beyond the request that carried it. A lookup that
 * fails (the database is down) is not cached: the error goes to the caller, and the next request asks again.
 */
export class ApiKeyVerifier {
  readonly #source: ApiKeySource;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();

  constructor(source: ApiKeySource, options: ApiKeyVerifierOptions = {}) {
    this.#source = source;
    this.#ttlMs = options.ttlMs ?? 2_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  async verify(presentedKey: string): Promise<ApiKeyPrincipal | null> {
    if (parseApiKey(presentedKey) === null) return null;
    const cacheKey = hashApiKey(presentedKey);
    const now = this.#now();
    const cached = this.#entries.get(cacheKey);
    if (cached && cached.expiresAt > now) return cached.answer;
    if (cached) this.#entries.delete(cacheKey);

    const answer = this.#source.verify(presentedKey);
    const entry: Entry = { expiresAt: now + this.#ttlMs, answer };
    this.#evictFor(now);
    this.#entries.set(cacheKey, entry);
    answer.catch(() => {
      if (this.#entries.get(cacheKey) === entry) this.#entries.delete(cacheKey);
    });
    return answer;
  }

  /** Forgets every answer (a process that revoked a key itself can make it take effect here at once). */
  clear(): void {
    this.#entries.clear();
  }

  /** Room for one more entry: expired ones go first, then the oldest (a Map iterates in insertion order). */
  #evictFor(now: number): void {
    if (this.#entries.size < this.#maxEntries) return;
    for (const [k, e] of this.#entries) if (e.expiresAt <= now) this.#entries.delete(k);
    for (const k of this.#entries.keys()) {
      if (this.#entries.size < this.#maxEntries) break;
      this.#entries.delete(k);
    }
  }
}
