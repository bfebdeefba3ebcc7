import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { rethrowDatabaseError } from './database-error.ts';
import * as schema from './schema.ts';

export type Database = PostgresJsDatabase<typeof schema> & { $client: postgres.Sql };

export interface DatabaseOptions {
  url: string;
  /** Schema holding Evergreen's tables; set as the session search_path. */
  schema: string;
  /** Pool size. */
  max?: number;
  /** postgres.js connect timeout in seconds. */
  connectTimeoutSeconds?: number;
}

/** A pooled postgres.js client bound to one schema, wrapped by drizzle. */
export function openDatabase(options: DatabaseOptions): Database {
  const client = postgres(options.url, {
    max: options.max ?? 10,
    connect_timeout: options.connectTimeoutSeconds ?? 10,
    // The schema travels as a startup parameter, so every pooled connection (and every reconnect) uses it.
    connection: { search_path: options.schema, application_name: 'evergreen' },
    onnotice: () => {},
    // postgres.js runs a pg_type query on every new connection and drops its promise: when Postgres cuts that
    // connection (a restart, a failover), the rejection is unhandled and kills the process (porsager/postgres#1192;
    // a chaos run lost a worker to it). Our columns use built-in types only, which need no lookup.
    fetch_types: false,
  });
  return drizzle(client, { schema });
}

export async function closeDatabase(db: Database): Promise<void> {
  await db.$client.end({ timeout: 5 });
}

/** Postgres answers on this pool: what a readiness check asks. */
export async function pingDatabase(db: Database): Promise<void> {
  await db.$client`select 1`.catch(rethrowDatabaseError);
}
