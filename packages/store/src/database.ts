import { EvergreenError } from '@evergreen/core';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { rethrowDatabaseError } from './database-error.ts';
import * as schema from './schema.ts';

export type Database = PostgresJsDatabase<typeof schema> & { $client: postgres.Sql };

/**
 * How DATABASE_URL pools server connections. `session`: Postgres itself, or a pooler that gives each client a server
 * connection for its whole session. `transaction`: a pooler that hands a server connection to each transaction
 * (PgBouncer's `pool_mode = transaction`), across which no session state survives: no prepared statements (PgBouncer
 * before 1.21 cannot carry them), no startup parameters beyond a few (PgBouncer rejects `search_path`), no LISTEN, no
 * session advisory lock. Those go over the direct URL instead (`directUrl`, `sessionClient`).
 */
export type PoolMode = 'session' | 'transaction';

export interface DatabaseOptions {
  url: string;
  /** Schema holding Evergreen's tables; set as the session search_path (in `session` pool mode). */
  schema: string;
  /** Pool size. */
  max?: number;
  /** postgres.js connect timeout in seconds. */
  connectTimeoutSeconds?: number;
  /** `session` when not given. */
  poolMode?: PoolMode;
  /** A connection of its own to the same database, for LISTEN in `transaction` pool mode; `url` when not given. */
  directUrl?: string;
}

/** Sessions opened for LISTEN beside a transaction-pooled client, closed with it. */
const sessionClients = new WeakMap<Database, { open: () => postgres.Sql; opened: postgres.Sql | null }>();

function clientOptions(schemaName: string, sessionParameters: boolean, max: number, connectTimeout: number) {
  return {
    max,
    connect_timeout: connectTimeout,
    // The schema travels as a startup parameter, so every pooled connection (and every reconnect) uses it. Behind a
    // transaction pooler it cannot (PgBouncer refuses the parameter): the server's search_path for the role must name
    // it, which `checkSearchPath` verifies at start.
    connection: sessionParameters
      ? { search_path: schemaName, application_name: 'evergreen' }
      : { application_name: 'evergreen' },
    // A transaction pooler may run each statement on another server connection, where a prepared name is unknown.
    prepare: sessionParameters,
    onnotice: () => {},
    // postgres.js runs a pg_type query on every new connection and drops its promise: when Postgres cuts that
    // connection (a restart, a failover), the rejection is unhandled and kills the process (porsager/postgres#1192;
    // a chaos run lost a worker to it). Our columns use built-in types only, which need no lookup.
    fetch_types: false,
  } satisfies postgres.Options<Record<string, postgres.PostgresType>>;
}

/** A pooled postgres.js client bound to one schema, wrapped by drizzle. */
export function openDatabase(options: DatabaseOptions): Database {
  const session = (options.poolMode ?? 'session') === 'session';
  const timeout = options.connectTimeoutSeconds ?? 10;
  const client = postgres(options.url, clientOptions(options.schema, session, options.max ?? 10, timeout));
  const db = drizzle(client, { schema });
  const entry = {
    opened: null as postgres.Sql | null,
    open: () =>
      session
        ? client
        : (entry.opened ??= postgres(
            options.directUrl ?? options.url,
            clientOptions(options.schema, true, 1, timeout),
          )),
  };
  sessionClients.set(db, entry);
  return db;
}

/**
 * A client whose connections are sessions, for what a transaction pooler cannot carry (LISTEN): the pool itself in
 * `session` mode, else one opened on first use over the direct URL.
 */
export function sessionClient(db: Database): postgres.Sql {
  return sessionClients.get(db)?.open() ?? db.$client;
}

export async function closeDatabase(db: Database): Promise<void> {
  const session = sessionClients.get(db)?.opened;
  await Promise.all([db.$client.end({ timeout: 5 }), session?.end({ timeout: 5 })]);
}

/** Postgres answers on this pool: what a readiness check asks. */
export async function pingDatabase(db: Database): Promise<void> {
  await db.$client`select 1`.catch(rethrowDatabaseError);
}

/** The pool's connections do not resolve Evergreen's tables in its schema: the server's search_path names another. */
export class SearchPathError extends EvergreenError {
  readonly field = 'EVERGREEN_DB_SCHEMA';
  constructor(
    readonly schema: string,
    readonly found: string | null,
  ) {
    super(
      'ERR_SEARCH_PATH',
      `connections from the transaction pooler resolve tables in schema ${found === null ? '(none)' : `'${found}'`}, not '${schema}' (EVERGREEN_DB_SCHEMA): behind a transaction pooler the schema cannot be sent per connection, so make it the server's search_path for the role (ALTER ROLE <user> IN DATABASE <db> SET search_path = ${schema}) or the pooler's (PgBouncer: connect_query='SET search_path = ${schema}' on the database entry)`,
    );
  }
}

/**
 * Behind a transaction pooler, where the schema is the server's setting rather than ours: checks that the pool's
 * connections find Evergreen's tables in `schema`, so a wrong setup fails at start instead of at the first query.
 */
export async function checkSearchPath(db: Database, schemaName: string): Promise<void> {
  const [row] = await db.$client<{ schema: string | null }[]>`select current_schema() as schema`.catch(
    rethrowDatabaseError,
  );
  const found = row?.schema ?? null;
  if (found !== schemaName) throw new SearchPathError(schemaName, found);
}
