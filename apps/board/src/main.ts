import { startBoard } from '@evergreen/board';
import { loadDotEnv, startAndDrainOnSignals } from '@evergreen/runtime';

loadDotEnv();
await startAndDrainOnSignals(() => startBoard());
