import { ConfigError } from '@evergreen/core';
import { loadDotEnv } from '@evergreen/runtime';
import { startBoard } from './start-board.ts';

loadDotEnv();
let board: Awaited<ReturnType<typeof startBoard>>;
try {
  board = await startBoard();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

let signals = 0;
const stop = () => {
  signals += 1;
  if (signals > 1) process.exit(1);
  board.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
