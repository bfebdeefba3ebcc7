import postgres from 'postgres';
import type { ImportRecord, ImportSource } from './import-record.ts';
import { nangoRecord, type NangoConnectionRow } from './nango.ts';
import { platformRecord, type PlatformConnectionRow } from './platform-connections.ts';
import { SourceError } from './source-error.ts';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*$/;

/** `name` or `schema.name`, quoted for SQL; a SourceError for anything else (the name goes into the statement). */
export function quoteTable(name: string): string {
  const parts = name.split('.');
  if (parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p))) {
    throw new SourceError(`--table: '${name}' must be a table name, optionally schema-qualified (schema.table)`);
  }
  return parts.map((p) => `"${p}"`).join('.');
}

interface TableSourceOptions {
  databaseUrl: string;
  /** Where a previous run stopped: the last committed row's id and its ordinal. */
  after?: { id: string; line: number } | null;
  pageSize?: number;
}

/**
 * A source table read in primary-key order, a page at a time (keyset paging: each page costs the same wherever it
 * is), each row as JSON (`to_jsonb`), so that columns a version of the source lacks read as absent, not as errors.
 */
abstract class TableSource<Row> implements ImportSource {
  abstract readonly name: string;
  protected readonly sql: postgres.Sql;
  readonly #after: { id: string; line: number } | null;
  readonly #pageSize: number;
  #read = 0;
  #total: number | null = null;

  constructor(options: TableSourceOptions) {
    this.sql = postgres(options.databaseUrl, {
      max: 1,
      onnotice: () => {},
      connection: { application_name: 'evergreen-import' },
    });
    this.#after = options.after ?? null;
    this.#pageSize = options.pageSize ?? 1000;
  }

  progress(): { done: number; total: number } | null {
    return this.#total === null ? null : { done: this.#read, total: this.#total };
  }

  /** The WHERE of every query (without the key condition), and its parameters. */
  protected abstract filter(): { clause: string; params: unknown[] };
  protected abstract table(): string;
  /** The key column's SQL type, for the cast of the `after` parameter. */
  protected abstract keyType(): string;
  protected abstract record(row: Row, line: number): ImportRecord;
  protected async check(): Promise<void> {}

  async *records(): AsyncGenerator<ImportRecord> {
    try {
      await this.check();
      const { clause, params } = this.filter();
      const [count] = await this.query<{ n: number }>(
        `select count(*)::int as n from ${this.table()} t where ${clause}`,
        params,
      );
      this.#total = count?.n ?? 0;
      let after = this.#after?.id ?? null;
      let line = this.#after?.line ?? 0;
      this.#read = line;
      for (;;) {
        const keyed = after === null ? '' : ` and t.id > $${params.length + 1}::${this.keyType()}`;
        const rows = await this.query<{ id: string; row: Row }>(
          `select t.id::text as id, to_jsonb(t) as row from ${this.table()} t where ${clause}${keyed} order by t.id limit ${this.#pageSize}`,
          after === null ? params : [...params, after],
        );
        for (const { row } of rows) {
          this.#read = ++line;
          yield this.record(row, line);
        }
        if (rows.length < this.#pageSize) return;
        after = rows[rows.length - 1]!.id;
      }
    } finally {
      await this.sql.end({ timeout: 5 });
    }
  }

  protected async query<T>(text: string, params: unknown[] = []): Promise<T[]> {
    try {
      return (await this.sql.unsafe(text, params as postgres.ParameterOrJSON<never>[])) as unknown as T[];
    } catch (error) {
      // Postgres's message names the table or column and quotes no row; the driver's error carries the query.
      const e = error as { code?: string; message?: string };
      if (e.code === '42P01' || e.code === '42703' || e.code === '3F000')
        throw new SourceError(`${this.name}: ${e.message}`);
      // Unreachable, refused, a bad password: the code says which; the URL (and its password) stays out of it.
      throw new SourceError(`${this.name}: the source database did not answer (${e.code ?? 'error'})`);
    }
  }
}

/** The reference systems' table (reference 004), decrypted with their 64-hex-character key. */
export class PlatformConnectionsSource extends TableSource<PlatformConnectionRow> {
  readonly name: string;
  readonly #table: string;
  readonly #key: Buffer;

  constructor(options: TableSourceOptions & { table?: string; key: Buffer }) {
    super(options);
    this.#table = quoteTable(options.table ?? 'platform_connections');
    this.#key = options.key;
    this.name = `platform-connections:${options.table ?? 'platform_connections'}`;
  }

  protected table(): string {
    return this.#table;
  }
  protected keyType(): string {
    return 'uuid';
  }
  protected filter(): { clause: string; params: unknown[] } {
    return { clause: 'true', params: [] };
  }
  protected record(row: PlatformConnectionRow, line: number): ImportRecord {
    return platformRecord(row, this.#key, line);
  }
}

/**
 * A self-hosted Nango's `_nango_connections` (in schema `nango` unless --table says otherwise): the rows not deleted,
 * of one environment (required when the table holds several: the same connection id may exist in each).
 */
export class NangoSource extends TableSource<NangoConnectionRow> {
  readonly name: string;
  readonly #table: string;
  readonly #key: Buffer | null;
  readonly #environmentId: number | null;
  readonly #providers: ReadonlySet<string>;
  readonly #providerMap: ReadonlyMap<string, string>;

  constructor(
    options: TableSourceOptions & {
      table?: string;
      key: Buffer | null;
      environmentId: number | null;
      providers: ReadonlySet<string>;
      providerMap: ReadonlyMap<string, string>;
    },
  ) {
    super(options);
    const table = options.table ?? 'nango._nango_connections';
    this.#table = quoteTable(table);
    this.#key = options.key;
    this.#environmentId = options.environmentId;
    this.#providers = options.providers;
    this.#providerMap = options.providerMap;
    this.name = `nango:${table}${options.environmentId === null ? '' : `#${options.environmentId}`}`;
  }

  protected table(): string {
    return this.#table;
  }
  protected keyType(): string {
    return 'int';
  }
  protected filter(): { clause: string; params: unknown[] } {
    return this.#environmentId === null
      ? { clause: 't.deleted is not true', params: [] }
      : { clause: 't.deleted is not true and t.environment_id = $1', params: [this.#environmentId] };
  }
  protected override async check(): Promise<void> {
    if (this.#environmentId !== null) return;
    const rows = await this.query<{ environment_id: number }>(
      `select distinct environment_id from ${this.#table} where deleted is not true order by 1`,
    );
    if (rows.length > 1) {
      throw new SourceError(
        `${this.name} holds connections of environments ${rows.map((r) => r.environment_id).join(', ')}: import one at a time with --environment-id`,
      );
    }
  }
  protected record(row: NangoConnectionRow, line: number): ImportRecord {
    return nangoRecord(row, line, { key: this.#key, providers: this.#providers, providerMap: this.#providerMap });
  }
}
