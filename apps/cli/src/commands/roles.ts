import type { Role } from '@evergreen/runtime';
import type { Command } from '../command.ts';

const ROLES: [string, Role[], string][] = [
  ['worker', ['worker'], 'run the worker role: refreshes due connections'],
  ['scheduler', ['scheduler'], 'run the scheduler role: reconciles Postgres into Redis, keep-alives'],
  ['all', ['worker', 'scheduler'], 'run the worker and the scheduler in one process'],
  ['board', ['board'], 'run the board: Bull Board and the operator API'],
  ['api', ['api'], 'run the token service: /v1 behind API keys, on EVERGREEN_API_PORT'],
];

/** The roles: each runs until a signal, so `run` answers -1 (the process keeps going). */
export const roleCommands: Command[] = ROLES.map(([word, roles, summary]) => ({
  words: [word],
  synopsis: '',
  summary,
  run: async () => {
    const { runRolesMain } = await import('@evergreen/runtime');
    await runRolesMain(roles);
    return -1;
  },
}));
