import { inspect } from 'node:util';
import { Keyring } from '@evergreen/keyring';
import { createLogger, safeError } from '@evergreen/log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogCapture } from '@evergreen/test-support/log-capture';
import { StoreFixture } from '@evergreen/test-support/store-fixture';
import { closeDatabase, ConnectionDirectory, ConnectionStore, DatabaseError, openDatabase } from '../src/index.ts';

describe('errors of the queries the store runs', () => {
  const fixture = new StoreFixture();
  const { sandbox } = fixture;
  let store: ConnectionStore;

  beforeAll(async () => {
    store = new ConnectionStore(await fixture.open(), Keyring.parse(sandbox.encryptionKeys), 'error-test');
    // A rule the enqueue below breaks, so Postgres refuses a statement whose parameters hold every kind of row data.
    await sandbox.sql`alter table connections add constraint no_forbidden_metadata
      check (metadata->>'plan' is distinct from 'forbidden-plan')`;
  });

  afterAll(() => fixture.close());

  const refused = {
    ownerId: 'owner-3f9e-private',
    provider: 'acme',
    accessToken: 'at-plaintext-6b1d',
    refreshToken: 'rt-plaintext-9c2a',
    scopes: ['read'],
    metadata: { plan: 'forbidden-plan', note: 'meta-value-77e1' },
    expiresAt: null,
    refreshAt: null,
  };
  const rowData = ['owner-3f9e-private', 'at-plaintext-6b1d', 'rt-plaintext-9c2a', 'forbidden-plan', 'meta-value-77e1'];

  /** Everything a producer or the board might do with an error: message, stack, JSON, inspect, a pino line. */
  function everyRendering(error: unknown): string {
    const logs = new LogCapture();
    const log = createLogger({ level: 'info', destination: logs });
    log.error({ err: error }, 'enqueue failed');
    log.error({ err: safeError(error) }, 'enqueue failed');
    const e = error as Error;
    return [e.message, e.stack, JSON.stringify(error), inspect(error, { depth: 10 }), String(error), logs.text].join(
      '\n',
    );
  }

  it('a refused enqueue throws a DatabaseError naming the SQLSTATE and constraint, and no row data', async () => {
    const error = await store.upsert(refused).then(
      () => null,
      (e: unknown) => e,
    );
    const rendered = everyRendering(error);
    for (const value of rowData) expect(rendered).not.toContain(value);
    expect(rendered).not.toContain('evg1.'); // no ciphertext
    expect(rendered).not.toContain('Failed query');
    expect(rendered).not.toContain('params');
    expect(error).toBeInstanceOf(DatabaseError);
    expect(error).toMatchObject({
      name: 'DatabaseError',
      code: 'ERR_DATABASE',
      sqlState: '23514',
      condition: 'check_violation',
      constraint: 'no_forbidden_metadata',
      table: 'connections',
    });
    expect((error as Error).message).toBe(
      'the database refused the query (23514 check_violation; table connections, constraint no_forbidden_metadata)',
    );
  });

  it('wraps the errors of every kind of query: drizzle builders, raw SQL and prepared statements', async () => {
    const broken = openDatabase({ url: sandbox.databaseUrl, schema: `${sandbox.schema}_missing`, max: 1 });
    try {
      const brokenStore = new ConnectionStore(broken, Keyring.parse(sandbox.encryptionKeys), 'broken');
      const calls: (() => Promise<unknown>)[] = [
        () => brokenStore.find('owner-3f9e-private'), // postgres.js tagged template
        () => brokenStore.findOverdue(new Date(), 10), // drizzle select builder
        () => brokenStore.upsert(refused), // drizzle execute
        () => new ConnectionDirectory(broken).list({ ownerId: 'owner-3f9e-private' }, { limit: 5 }),
      ];
      for (const call of calls) {
        const error = await call().then(
          () => null,
          (e: unknown) => e,
        );
        for (const value of rowData) expect(everyRendering(error)).not.toContain(value);
        expect(error).toBeInstanceOf(DatabaseError);
        expect(error).toMatchObject({ code: 'ERR_DATABASE', sqlState: '42P01', condition: 'undefined_table' });
      }
    } finally {
      await closeDatabase(broken);
    }
  });

  it('keeps the driver code of an unreachable database, so callers that wait for it still recognise it', async () => {
    const unreachable = openDatabase({
      url: 'postgres://postgres:pw-in-url@127.0.0.1:1/evergreen',
      schema: 'x',
      max: 1,
    });
    try {
      const error = await new ConnectionStore(unreachable, Keyring.parse(sandbox.encryptionKeys), 'x')
        .find('owner-3f9e-private')
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(DatabaseError);
      expect(error).toMatchObject({ code: 'ECONNREFUSED' });
      expect((error as Error).message).toBe('the database is unreachable (ECONNREFUSED 127.0.0.1:1)');
      const rendered = everyRendering(error);
      expect(rendered).not.toContain('owner-3f9e-private');
      expect(rendered).not.toContain('pw-in-url');
    } finally {
      await closeDatabase(unreachable);
    }
  });

  it('leaves the store its own errors: invalid input is still an InvalidInputError', async () => {
    await store.upsert({ ...refused, metadata: {}, connectionId: 'taken' });
    await expect(
      store.upsert({ ...refused, ownerId: 'someone-else', metadata: {}, connectionId: 'taken' }),
    ).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
    });
  });
});
