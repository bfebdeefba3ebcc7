import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { rethrowDatabaseError } from './database-error.ts';

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../drizzle', import.meta.url));

/**
 * Applies pending migrations. Every process calls this at start, so it must be idempotent and safe when several run
 * at once: one dedicated connection takes a transaction-independent advisory lock keyed by the schema, and the others
 * wait, then find nothing left to do.
 */
export async function migrateDatabase(options: { url: string; schema: string }): Promise<void> {
  assertSchemaName(options.schema);
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
  } catch (error) {
    rethrowDatabaseError(error);
  } finally {
    await client.end({ timeout: 5 });
  }
}

/** Drops a schema and everything in it: every Evergreen table, row and migration record it holds. For demos. */
export async function dropSchema(options: { url: string; schema: string }): Promise<void> {
  assertSchemaName(options.schema);
  const client = postgres(options.url, { max: 1, onnotice: () => {}, fetch_types: false });
  try {
    await client.unsafe(`drop schema if exists "${options.schema}" cascade`);
  } catch (error) {
    rethrowDatabaseError(error);
  } finally {
    await client.end({ timeout: 5 });
  }
}

/** The name is spliced into DDL, so it must be a plain identifier. */
function assertSchemaName(schema: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name '${schema}'`);
}
