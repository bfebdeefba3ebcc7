// `pnpm start`: worker, scheduler and board in one process against the local Postgres and Redis, for trying
// Evergreen out and for development: the all-in-one that apps/evergreen runs, after a bootstrap for first runs. On a
// first run it writes a development encryption key and an admin token to .env (never committed). Production sets
// EVERGREEN_ENCRYPTION_KEYS and EVERGREEN_ADMIN_TOKEN itself and runs one role per process
// (`pnpm --filter @evergreen/worker start`, ...).
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Keyring } from '@evergreen/keyring';
import { ALL_ROLES, loadDotEnv, runRolesMain } from '@evergreen/runtime';

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
// What apps/evergreen's main does; a root script does not import an app.
loadDotEnv();
await runRolesMain(ALL_ROLES);
