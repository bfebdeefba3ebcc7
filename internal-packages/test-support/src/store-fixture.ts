import { closeDatabase, migrateDatabase, openDatabase, type Database } from '@evergreen/store';
import { Sandbox } from './sandbox.ts';

/**
 * A test file's migrated Postgres: a sandbox schema, the pools a test opens on it, and one `close()` that ends the
 * pools and drops the sandbox.
 */
export class StoreFixture {
  readonly sandbox: Sandbox;
  readonly #pools: Database[] = [];
  #migrated: Promise<void> | null = null;

  constructor(sandbox: Sandbox = new Sandbox()) {
    this.sandbox = sandbox;
  }

  /** Migrates the sandbox schema (once per fixture) and opens a pool of `max` connections on it. */
  async open(max = 2): Promise<Database> {
    this.#migrated ??= migrateDatabase({ url: this.sandbox.databaseUrl, schema: this.sandbox.schema });
    await this.#migrated;
    const db = openDatabase({ url: this.sandbox.databaseUrl, schema: this.sandbox.schema, max });
    this.#pools.push(db);
    return db;
  }

  async close(): Promise<void> {
    for (const db of this.#pools.splice(0)) await closeDatabase(db);
    await this.sandbox.cleanup();
  }
}
