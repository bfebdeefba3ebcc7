import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Database } from './database.ts';

const dialect = new PgDialect();

/**
 * Runs a statement prepared: postgres.js names it and keeps it per pooled connection, keyed by its text and parameter
 * types, so Postgres parses and plans it once per connection. drizzle sends its own queries as unnamed statements,
 * parsed and planned on every call; for the refresh path's two statements (read the row, write it with its audit and
 * events) that was a large share of the database's work per refresh (docs/benchmarks/README.md).
 *
 * Only for statements whose text does not vary with the data (values are parameters, never spliced in), or the
 * per-connection cache of statements grows without bound.
 */
export function executePrepared<T extends object>(db: Database, query: SQL): Promise<T[]> {
  const { sql, params } = dialect.sqlToQuery(query);
  return db.$client.unsafe<T[]>(sql, params as never[], { prepare: true });
}
