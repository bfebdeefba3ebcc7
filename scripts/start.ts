// `pnpm start`: worker, scheduler and board in one process against the local Postgres and Redis, for trying
// Evergreen out and for development. On a first run it writes a development encryption key and an admin token to .env
// (never committed) and prints where the board is. Production sets EVERGREEN_ENCRYPTION_KEYS and EVERGREEN_ADMIN_TOKEN
// itself and runs one role per process (`pnpm --filter @evergreen/worker start`, ...).
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Keyring } from '@evergreen/keyring';
import { loadDotEnv, startAndDrainOnSignals } from '@evergreen/runtime';
import { startLocalStack } from './local-stack.ts';

const dotEnv = existsSync('.env') ? readFileSync('.env', 'utf8') : '';
const missing = (name: string) => !process.env[name] && !new RegExp(`^${name}=`, 'm').test(dotEnv);
if (process.env.NODE_ENV !== 'production') {
  const stamp = new Date().toISOString();
  if (missing('EVERGREEN_ENCRYPTION_KEYS')) {
    appendFileSync(
      '.env',
      `# Written by \`pnpm start\` on ${stamp}. Keep it: it decrypts your stored tokens.\nEVERGREEN_ENCRYPTION_KEYS=${Keyring.generateEntry('dev1')}\n`,
    );
    process.stderr.write('wrote a development encryption key to .env\n');
  }
  if (missing('EVERGREEN_ADMIN_TOKEN')) {
    appendFileSync(
      '.env',
      `# Written by \`pnpm start\` on ${stamp}: Authorization: Bearer <this> for the board and its API.\nEVERGREEN_ADMIN_TOKEN=${randomBytes(24).toString('base64url')}\n`,
    );
    process.stderr.write('wrote a board admin token to .env (EVERGREEN_ADMIN_TOKEN)\n');
  }
}
loadDotEnv();

await startAndDrainOnSignals(
  () => startLocalStack(),
  (stack) => stack.roles.log,
);
