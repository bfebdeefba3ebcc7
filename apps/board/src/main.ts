import { drainOnSignals, loadDotEnv, startOrExit } from '@evergreen/runtime';
import { startBoard } from './start-board.ts';

loadDotEnv();
const board = await startOrExit(() => startBoard());
drainOnSignals(board.close);
