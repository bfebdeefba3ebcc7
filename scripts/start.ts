// `pnpm start`: worker, scheduler, board and api in one process against the local Postgres and Redis, for trying
// Evergreen out and for development: the all-in-one that apps/evergreen runs, after a bootstrap for first runs. On a
// first run it writes an encryption key and an admin token to the env file (`.env`, never committed), readable by
// its owner only; it tightens an existing one that others could read. Production sets EVERGREEN_ENCRYPTION_KEYS and
// EVERGREEN_ADMIN_TOKEN itself and runs one role per process (`pnpm --filter @evergreen/worker start`, ...).
import { ALL_ROLES, ensureSecretsFile, loadDotEnv, runRolesMain } from '@evergreen/runtime';

const envFile = process.env.EVERGREEN_ENV_FILE ?? '.env';
if (process.env.NODE_ENV !== 'production' && envFile !== 'none') {
  const { wrote, tightened } = ensureSecretsFile(envFile, { env: process.env, by: '`pnpm start`' });
  if (tightened) process.stderr.write(`${envFile} could be read by others: its mode is now 0600\n`);
  if (wrote.length > 0) process.stderr.write(`wrote ${wrote.join(' and ')} to ${envFile} (mode 0600; keep it)\n`);
}
// What apps/evergreen's main does; a root script does not import an app.
loadDotEnv();
// The connect flow needs the address providers send the browser back to; on this machine that is the api itself.
if (process.env.NODE_ENV !== 'production' && !process.env.EVERGREEN_PUBLIC_URL) {
  process.env.EVERGREEN_PUBLIC_URL = `http://127.0.0.1:${process.env.EVERGREEN_API_PORT ?? '3100'}`;
}
await runRolesMain(ALL_ROLES);
