import { setTimeout as sleep } from 'node:timers/promises';
import { safeError, type Logger } from '@evergreen/log';

/**
 * Error codes that mean "not there yet" rather than "wrong": refused or cut connections, timeouts, and Postgres
 * saying it is starting up or shutting down. A process that meets one while starting waits; anything else (a bad
 * password, a missing database) still stops it at once with its message.
 */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EAI_AGAIN',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: the database system is starting up
]);

export function isUnreachable(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && UNREACHABLE.has(code)) return true;
  }
  return false;
}

/**
 * Runs `attempt` until it succeeds, waiting while `what` is unreachable (a replacement pod starting while Postgres
 * restarts must not crash-loop): backoff from `firstDelayMs` doubling to 5 s, for up to `giveUpAfterMs`.
 */
export async function retryWhileUnreachable<T>(
  what: string,
  attempt: () => Promise<T>,
  options: { log: Logger; giveUpAfterMs?: number; firstDelayMs?: number },
): Promise<T> {
  const giveUpAt = Date.now() + (options.giveUpAfterMs ?? 120_000);
  let delay = options.firstDelayMs ?? 250;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!isUnreachable(error) || Date.now() + delay > giveUpAt) throw error;
      options.log.warn({ err: safeError(error), retryInMs: delay }, `${what} unreachable at start; waiting`);
      await sleep(delay);
      delay = Math.min(5_000, delay * 2);
    }
  }
}
