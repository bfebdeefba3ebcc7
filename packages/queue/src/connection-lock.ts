import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

// Compare-and-delete: only the holder's own token releases the lock, so a holder whose TTL lapsed cannot free a
// lock that someone else now holds.
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const EXTEND = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

export interface HeldLock {
  key: string;
  token: string;
  /** Epoch ms after which the lock may be someone else's. */
  expiresAt: number;
}

/**
 * DESIGN.md invariant 4: at most one refresh of a connection in flight anywhere. A random owner token, a TTL longer
 * than the HTTP deadline plus the write, compare-and-delete release. Not trusted alone: writes are fenced by the
 * row's version.
 */
export class ConnectionLock {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  key(connectionId: string): string {
    return `${this.#prefix}:lock:${connectionId}`;
  }

  async acquire(connectionId: string, ttlMs: number): Promise<HeldLock | null> {
    const key = this.key(connectionId);
    const token = randomBytes(16).toString('base64url');
    const startedAt = Date.now();
    const ok = await this.#redis.set(key, token, 'PX', ttlMs, 'NX');
    return ok === 'OK' ? { key, token, expiresAt: startedAt + ttlMs } : null;
  }

  async release(lock: HeldLock): Promise<boolean> {
    return (await this.#redis.eval(RELEASE, 1, lock.key, lock.token)) === 1;
  }

  async extend(lock: HeldLock, ttlMs: number): Promise<boolean> {
    const startedAt = Date.now();
    const ok = (await this.#redis.eval(EXTEND, 1, lock.key, lock.token, String(ttlMs))) === 1;
    if (ok) lock.expiresAt = startedAt + ttlMs;
    return ok;
  }

  /** Milliseconds until the lock lapses, or 0 if it is gone; used to wait for a refresh in flight elsewhere. */
  async remainingMs(connectionId: string): Promise<number> {
    return Math.max(0, await this.#redis.pttl(this.key(connectionId)));
  }
}
