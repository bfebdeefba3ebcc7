import { ConfigError } from '@evergreen/core';
import { safeError, type Logger } from '@evergreen/log';

/**
 * Starts something from the environment, or exits 1 printing a configuration error's message (which names every bad
 * variable and how to fix it) without a stack trace.
 */
async function startOrExit<T>(start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

/**
 * Drains on SIGTERM/SIGINT (invariant 9): `close` finishes the work in flight, then the process exits 0; a second
 * signal means the operator wants out now. Past `deadlineMs` (when known) the process exits 1 whatever still hangs: a
 * drain is bounded by design, and one stuck on a dead connection must not keep a replica alive until something kills it.
 */
function drainOnSignals(
  close: () => Promise<void>,
  logger: () => Logger | undefined,
  deadlineMs: () => number | undefined,
): void {
  let signals = 0;
  const stop = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) process.exit(1);
    logger()?.info({ signal }, 'draining');
    const deadline = deadlineMs();
    if (deadline !== undefined) {
      setTimeout(() => {
        logger()?.error({ deadlineMs: deadline }, 'shutdown did not finish in time; exiting');
        process.exit(1);
      }, deadline).unref();
    }
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger()?.error({ err: safeError(error) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/**
 * Starts something (as startOrExit) and drains it on SIGTERM/SIGINT, listening from before the start. A process is
 * often stopped the moment it announces itself (an orchestrator's probe, a test waiting for a line); a signal that
 * arrived before the listeners would kill it by the signal's default action, mid-start, with nothing drained. Here a
 * signal during the start waits for the start to finish, then drains as usual.
 */
export async function startAndDrainOnSignals<T extends { close: () => Promise<void> }>(
  start: () => Promise<T>,
  logOf: (started: T) => Logger | undefined = () => undefined,
  drainDeadlineOf: (started: T) => number | undefined = () => undefined,
): Promise<T> {
  let started: T | undefined;
  // Listening first: `start` runs synchronously up to its first await, and may announce itself before that.
  drainOnSignals(
    async () => (await starting).close(),
    () => (started === undefined ? undefined : logOf(started)),
    () => (started === undefined ? undefined : drainDeadlineOf(started)),
  );
  const starting = startOrExit(start).then((value) => (started = value));
  return starting;
}
