// The worker and scheduler roles and the board in one process: what `pnpm start` and `pnpm demo` run. Production runs
// one role per process instead (`evergreen worker`, `evergreen scheduler`, `evergreen board`).
import { startBoard, type RunningBoard } from '@evergreen/board';
import { startRoles, type RunningRoles, type StartOptions } from '@evergreen/runtime';

export interface LocalStack {
  roles: RunningRoles;
  board: RunningBoard;
  /** Drains the roles (in-flight refreshes finish, locks are released) and closes the board. */
  close(): Promise<void>;
}

export async function startLocalStack(
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: Pick<StartOptions, 'logDestination'> = {},
): Promise<LocalStack> {
  const roles = await startRoles(['worker', 'scheduler'], { env, ...options });
  let board: RunningBoard;
  try {
    // The roles already serve /metrics and /readyz on the ops port: the board shares their config and logger.
    board = await startBoard(env, { config: roles.config, logger: roles.log, ops: false });
  } catch (error) {
    await roles.close();
    throw error;
  }
  return { roles, board, close: async () => void (await Promise.all([board.close(), roles.close()])) };
}
