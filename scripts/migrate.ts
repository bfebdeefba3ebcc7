// `pnpm db:migrate`: applies pending migrations to EVERGREEN_DATABASE_DIRECT_URL (else DATABASE_URL) /
// EVERGREEN_DB_SCHEMA. Needs no keys or providers.
import { ConfigError } from '@evergreen/core';
import { loadDatabaseConfig } from '@evergreen/config';
import { loadDotEnv } from '@evergreen/runtime';
import { migrateDatabase } from '@evergreen/store';

loadDotEnv();
try {
  const { directUrl, dbSchema } = loadDatabaseConfig();
  await migrateDatabase({ url: directUrl, schema: dbSchema });
  process.stdout.write(`migrations applied to schema ${dbSchema}\n`);
} catch (error) {
  process.stderr.write(
    `${error instanceof ConfigError ? error.message : `migration failed: ${(error as Error).message}`}\n`,
  );
  process.exit(1);
}
