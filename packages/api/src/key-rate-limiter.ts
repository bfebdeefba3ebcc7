import type { Cluster, Redis } from 'ioredis';
import { type CountDelta, SharedWindowCount } from './shared-window-count.ts';

/** Requests a key may make; the next ones wait for the window's end. */
export interface KeyRateLimits {
  perMinute: number;
  /** How often this process reports its requests to the shared count; default 100 ms. */
  flushIntervalMs?: number;
}

export interface KeyRateLimiter {
  /** Counts one request of `keyId`; null when it may go on, else the milliseconds until it may. */
  consume(keyId: string): number | null | Promise<number | null>;
  /** Stops reporting; what is unsent is dropped with the process. */
  close(): void;
}

const WINDOW_MS = 60_000;

/**
 * Fixed one-minute windows per key id, one budget per key across every api process. Requests are decided in memory
 * (SharedWindowCount) and each process reports its counts to Redis every `flushIntervalMs`, one INCRBY per key,
 * reading back the shared total; only a key's first request of a window in a process waits on Redis, to learn what
 * the others have used. A token read thus costs no Redis round trip of its own (it was 11 % of a read's CPU when
 * every request waited on one); the price is that processes learn of each other's requests up to one interval late.
 * While Redis does not answer, each process goes on counting its own: the limit loosens, never turns off.
 */
export function keyRateLimiter(limits: KeyRateLimits, redis: Redis | Cluster, prefix: string): KeyRateLimiter {
  const counts = new SharedWindowCount(limits.perMinute, WINDOW_MS);
  let flushing = false;

  /** Adds `sent` to the shared count; the shared total, or null when Redis did not count it. */
  async function report(sent: CountDelta): Promise<number | null> {
    const key = `${prefix}:api-rate:${sent.keyId}:${sent.window}`;
    try {
      // A window's count outlives the window by one, so a late report still adds to the right total.
      const replies = await redis
        .multi()
        .incrby(key, sent.delta)
        .pexpire(key, 2 * WINDOW_MS)
        .exec();
      const total = replies?.[0]?.[1];
      if (typeof total === 'number' && replies?.[0]?.[0] === null) {
        counts.settle(sent, total);
        return total;
      }
    } catch {
      // Counted again with the next report.
    }
    counts.retry(sent);
    return null;
  }

  const timer = setInterval(() => {
    if (flushing) return;
    const batch = counts.drain(Date.now());
    if (batch.length === 0) return;
    flushing = true;
    void Promise.all(batch.map(report)).finally(() => {
      flushing = false;
    });
  }, limits.flushIntervalMs ?? 100);
  timer.unref();

  return {
    consume(keyId) {
      const take = counts.take(keyId, Date.now());
      if (take.confirm === null) return take.waitMs;
      const sent = take.confirm;
      return report(sent).then((total) => counts.confirmed(sent, total, Date.now()));
    },
    close: () => clearInterval(timer),
  };
}
