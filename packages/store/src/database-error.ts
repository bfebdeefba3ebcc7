import { EvergreenError } from '@evergreen/core';
import { DrizzleQueryError } from 'drizzle-orm';

/** Names of the SQLSTATEs a store query can meet (PostgreSQL manual, appendix A), for messages a person can act on. */
const CONDITIONS: Readonly<Record<string, string>> = {
  '08000': 'connection_exception',
  '08003': 'connection_does_not_exist',
  '08006': 'connection_failure',
  '08001': 'sqlclient_unable_to_establish_sqlconnection',
  '08004': 'sqlserver_rejected_establishment_of_sqlconnection',
  '08P01': 'protocol_violation',
  '22001': 'string_data_right_truncation',
  '22003': 'numeric_value_out_of_range',
  '22007': 'invalid_datetime_format',
  '22008': 'datetime_field_overflow',
  '22021': 'character_not_in_repertoire',
  '22P02': 'invalid_text_representation',
  '22P05': 'untranslatable_character',
  '23502': 'not_null_violation',
  '23503': 'foreign_key_violation',
  '23505': 'unique_violation',
  '23514': 'check_violation',
  '25P02': 'in_failed_sql_transaction',
  '28000': 'invalid_authorization_specification',
  '28P01': 'invalid_password',
  '3D000': 'invalid_catalog_name',
  '3F000': 'invalid_schema_name',
  '40001': 'serialization_failure',
  '40P01': 'deadlock_detected',
  '42501': 'insufficient_privilege',
  '42601': 'syntax_error',
  '42703': 'undefined_column',
  '42883': 'undefined_function',
  '42P01': 'undefined_table',
  '53100': 'disk_full',
  '53200': 'out_of_memory',
  '53300': 'too_many_connections',
  '54000': 'program_limit_exceeded',
  '55P03': 'lock_not_available',
  '57014': 'query_canceled',
  '57P01': 'admin_shutdown',
  '57P02': 'crash_shutdown',
  '57P03': 'cannot_connect_now',
  '58000': 'system_error',
  XX000: 'internal_error',
};

/** postgres.js's own codes for a connection that failed or went away. */
const DRIVER_CONNECTION_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
]);

/**
 * A query the store ran failed. Its message is built from fields that cannot carry row data: the SQLSTATE and its
 * name, the table, the constraint. Never Postgres's own message or detail (`Key (owner_id)=(…)`, `Failing row
 * contains (…)`), never the statement's parameters (drizzle's `Failed query … params: …` lists ciphertexts, owner ids
 * and metadata), and the driver's error is not its `cause`, so loggers that follow causes (pino's, util.inspect)
 * cannot reach them either.
 *
 * `code` is `ERR_DATABASE`, except when the database could not be reached or went away: then it keeps the driver's
 * code (`ECONNREFUSED`, `CONNECTION_CLOSED`, `57P01`…), which the code that waits for Postgres recognises.
 */
export class DatabaseError extends EvergreenError {
  /** The SQLSTATE, when Postgres answered with one. */
  readonly sqlState: string | undefined;
  /** The SQLSTATE's name (`unique_violation`), when known. */
  readonly condition: string | undefined;
  readonly table: string | undefined;
  readonly constraint: string | undefined;
  readonly #original: unknown;

  constructor(
    code: string,
    message: string,
    fields: { sqlState?: string; condition?: string; table?: string; constraint?: string },
    original: unknown,
  ) {
    super(code, message);
    this.sqlState = fields.sqlState;
    this.condition = fields.condition;
    this.table = fields.table;
    this.constraint = fields.constraint;
    this.#original = original;
  }

  /** The driver's error as thrown, for a debugger: it may hold row data and secrets, so never log it. */
  unsafeOriginal(): unknown {
    return this.#original;
  }
}

/**
 * The store's errors as callers see them: a driver or query error becomes a `DatabaseError`; anything else (the
 * store's own errors, such as invalid input or a ciphertext that does not open) goes through as it is.
 */
export function toDatabaseError(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof EvergreenError) return error;
  const source = error instanceof DrizzleQueryError ? error.cause : error;
  const e = (source ?? {}) as {
    code?: unknown;
    severity?: unknown;
    table_name?: unknown;
    constraint_name?: unknown;
    address?: unknown;
    port?: unknown;
  };
  const code = typeof e.code === 'string' ? e.code : undefined;
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);

  if (code !== undefined && typeof e.severity === 'string') {
    // Postgres answered with a SQLSTATE.
    const condition = CONDITIONS[code];
    const table = text(e.table_name);
    const constraint = text(e.constraint_name);
    const where = [table && `table ${table}`, constraint && `constraint ${constraint}`].filter(Boolean).join(', ');
    const state = `${code}${condition ? ` ${condition}` : ''}${where ? `; ${where}` : ''}`;
    const unreachable = code.startsWith('08') || /^57P0[123]$/.test(code);
    const refusedConnection = unreachable || code.startsWith('28') || code === '3D000';
    const message = unreachable
      ? `the database is unreachable (${state})`
      : `the database refused the ${refusedConnection ? 'connection' : 'query'} (${state})`;
    return new DatabaseError(
      unreachable ? code : 'ERR_DATABASE',
      message,
      { sqlState: code, condition, table, constraint },
      error,
    );
  }
  if (code !== undefined && (DRIVER_CONNECTION_CODES.has(code) || /^E(?!RR_)[A-Z_]+$/.test(code))) {
    // A socket that failed (a system error such as ECONNREFUSED) or a connection postgres.js lost.
    const port = typeof e.port === 'number' || typeof e.port === 'string' ? e.port : undefined;
    const at = text(e.address) && port !== undefined ? ` ${String(e.address)}:${port}` : '';
    return new DatabaseError(code, `the database is unreachable (${code}${at})`, {}, error);
  }
  if (error instanceof DrizzleQueryError || code !== undefined) {
    // The driver refused the query before sending it (postgres.js: UNDEFINED_VALUE, MAX_PARAMETERS_EXCEEDED…).
    return new DatabaseError('ERR_DATABASE', `the database query failed${code ? ` (${code})` : ''}`, {}, error);
  }
  return error;
}

/** `.catch(rethrowDatabaseError)`: rejects with `toDatabaseError` of the reason. */
export function rethrowDatabaseError(error: unknown): never {
  throw toDatabaseError(error);
}

/**
 * Makes every method of a store class reject with a `DatabaseError` where the driver or drizzle would have thrown:
 * one place for every query the class runs, whichever way it runs it (drizzle builders, `execute`, postgres.js
 * templates, prepared statements, transactions), and for methods added later. The prototype's methods are wrapped, so
 * private fields, subclasses and their `super` calls behave as before.
 */
export function throwsDatabaseErrors(store: { prototype: object }): void {
  const prototype = store.prototype as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(prototype)) {
    const descriptor = Object.getOwnPropertyDescriptor(prototype, name);
    if (name === 'constructor' || typeof descriptor?.value !== 'function') continue;
    const method = descriptor.value as (...args: unknown[]) => unknown;
    Object.defineProperty(prototype, name, {
      ...descriptor,
      value: function (this: unknown, ...args: unknown[]): unknown {
        let result: unknown;
        try {
          result = method.apply(this, args);
        } catch (error) {
          throw toDatabaseError(error);
        }
        return result instanceof Promise ? result.catch(rethrowDatabaseError) : result;
      },
    });
  }
}
