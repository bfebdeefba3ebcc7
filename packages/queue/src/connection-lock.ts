import { randomBytes } from 'node:crypto';
import { Keyspace } from './keyspace.ts';

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
export class ConnectionLock extends Keyspace {
  key(connectionId: string): string {
    return `${this.prefix}:lock:${connectionId}`;
  }

  async acquire(connectionId: string, ttlMs: number): Promise<HeldLock | null> {
    const key = this.key(connectionId);
    const token = randomBytes(16).toString('base64url');
    const startedAt = Date.now();
    const ok = await this.redis.set(key, token, 'PX', ttlMs, 'NX');
    return ok === 'OK' ? { key, token, expiresAt: startedAt + ttlMs } : null;
  }

  /** Compare-and-delete (commands/release-lock.lua): a holder whose TTL lapsed cannot free someone else's lock. */
  async release(lock: HeldLock): Promise<boolean> {
    return (await this.redis.evergreenReleaseLock(lock.key, lock.token)) === 1;
  }

  /** Only the owner extends (commands/extend-lock.lua). */
  async extend(lock: HeldLock, ttlMs: number): Promise<boolean> {
    const startedAt = Date.now();
    const ok = (await this.redis.evergreenExtendLock(lock.key, lock.token, ttlMs)) === 1;
    if (ok) lock.expiresAt = startedAt + ttlMs;
    return ok;
  }

  /** Milliseconds until the lock lapses, or 0 if it is gone; used to wait for a refresh in flight elsewhere. */
  async remainingMs(connectionId: string): Promise<number> {
    return Math.max(0, await this.redis.pttl(this.key(connectionId)));
  }
}
