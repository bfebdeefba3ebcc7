// `pnpm start`: every role in one process against the local Postgres and Redis, for trying Evergreen out and for
// development. On a first run without a key it writes a development key to .env (never committed); production sets
// EVERGREEN_ENCRYPTION_KEYS itself and runs one role per process (`pnpm --filter @evergreen/worker start`, ...).
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { Keyring } from '@evergreen/keyring';
import { loadDotEnv, runRolesMain } from '@evergreen/runtime';

const hasKeyInDotEnv = existsSync('.env') && /^EVERGREEN_ENCRYPTION_KEYS=/m.test(readFileSync('.env', 'utf8'));
if (!process.env.EVERGREEN_ENCRYPTION_KEYS && !hasKeyInDotEnv && process.env.NODE_ENV !== 'production') {
  appendFileSync(
    '.env',
    `# Development key written by \`pnpm start\` on ${new Date().toISOString()}. Keep it: it decrypts your stored tokens.\nEVERGREEN_ENCRYPTION_KEYS=${Keyring.generateEntry('dev1')}\n`,
  );
  process.stderr.write('wrote a development encryption key to .env\n');
}
loadDotEnv();
await runRolesMain(['worker', 'scheduler']);
