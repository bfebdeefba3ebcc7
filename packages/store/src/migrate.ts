import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../drizzle', import.meta.url));

/**
 * Applies pending migrations. Every process calls this at start, so it must be idempotent and safe when several run
 * at once: one dedicated connection takes a transaction-independent advisory lock keyed by the schema, and the others
 * wait, then find nothing left to do.
 */
export async function migrateDatabase(options: { url: string; schema: string }): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) throw new Error(`invalid schema name '${options.schema}'`);
  const client = postgres(options.url, {
    max: 1,
    connection: { search_path: options.schema, application_name: 'evergreen-migrate' },
    onnotice: () => {},
    fetch_types: false, // see openDatabase
  });
  try {
    await client`select pg_advisory_lock(hashtext(${`evergreen:migrate:${options.schema}`}))`;
    await client.unsafe(`create schema if not exists "${options.schema}"`);
    await migrate(drizzle(client), {
      migrationsFolder: MIGRATIONS_FOLDER,
      migrationsSchema: options.schema,
      migrationsTable: '__drizzle_migrations',
    });
  } finally {
    await client.end({ timeout: 5 });
  }
}
