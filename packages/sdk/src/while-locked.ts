import type { ConnectionLock, HeldLock } from '@evergreen/queue';

const POLL_MS = 100;

/**
 * Runs `fn` holding the connection's refresh lock, waiting up to `waitMs` for a refresh in flight elsewhere to end:
 * what must not interleave with a refresh (revoking the refresh token a worker is exchanging, which would leave the
 * rotated one alive at the provider). When Redis cannot be asked, or the lock is not had in time, `fn` runs all the
 * same (`locked: false`): the row's version still fences any refresh's write, so the worst left is a grant the
 * provider keeps.
 */
export async function whileLocked<T>(
  lock: Pick<ConnectionLock, 'acquire' | 'release' | 'remainingMs'>,
  connectionId: string,
  options: { ttlMs: number; waitMs: number },
  fn: (locked: boolean) => Promise<T>,
): Promise<T> {
  const held = await acquireWithin(lock, connectionId, options).catch(() => null);
  try {
    return await fn(held !== null);
  } finally {
    if (held) await lock.release(held).catch(() => false);
  }
}

async function acquireWithin(
  lock: Pick<ConnectionLock, 'acquire' | 'remainingMs'>,
  connectionId: string,
  options: { ttlMs: number; waitMs: number },
): Promise<HeldLock | null> {
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    const held = await lock.acquire(connectionId, options.ttlMs);
    if (held || Date.now() >= deadline) return held;
    const remaining = await lock.remainingMs(connectionId);
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, Math.max(1, remaining))));
  }
}
