import { loadDotEnv, startAndDrainOnSignals } from '@evergreen/runtime';
import { startBoard } from './start-board.ts';

loadDotEnv();
await startAndDrainOnSignals(() => startBoard());
