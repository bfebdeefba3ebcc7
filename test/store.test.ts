import { DecryptError, Keyring } from '@evergreen/keyring';
import { closeDatabase, ConnectionStore, migrateDatabase, openDatabase, type Database } from '@evergreen/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from './support/sandbox.ts';

describe('the Postgres store', () => {
  const sandbox = new Sandbox();
  let db: Database;
  let store: ConnectionStore;

  beforeAll(async () => {
    // Four processes starting at once all migrate: the advisory lock serialises them and all succeed.
    await Promise.all(
      Array.from({ length: 4 }, () => migrateDatabase({ url: sandbox.databaseUrl, schema: sandbox.schema })),
    );
    db = openDatabase({ url: sandbox.databaseUrl, schema: sandbox.schema, max: 4 });
    store = new ConnectionStore(db, Keyring.parse(sandbox.encryptionKeys), 'store-test');
  });

  afterAll(async () => {
    await closeDatabase(db);
    await sandbox.cleanup();
  });

  it('applies migrations once, however often it is asked', async () => {
    await migrateDatabase({ url: sandbox.databaseUrl, schema: sandbox.schema });
    const applied = await sandbox.sql`select count(*)::int as n from __drizzle_migrations`;
    expect(applied[0]!.n).toBe(1);
    const tables =
      await sandbox.sql`select table_name from information_schema.tables where table_schema = ${sandbox.schema} order by 1`;
    expect(tables.map((t) => t.table_name)).toEqual(['__drizzle_migrations', 'connections', 'refresh_events']);
  });

  const base = { ownerId: 'o', provider: 'p', scopes: [], metadata: {}, expiresAt: null, refreshAt: new Date() };

  it('fences writes by version: a holder with a stale row cannot overwrite newer tokens, and the audit says so', async () => {
    const { connectionId } = await store.upsert({
      ...base,
      connectionId: 'fenced',
      accessToken: 'a0',
      refreshToken: 'r0',
    });
    const stale = (await store.find(connectionId))!;
    const audit = {
      outcome: 'success' as const,
      reason: null,
      httpStatus: 200,
      durationMs: 12,
      trigger: 'schedule' as const,
    };
    const first = await store.recordSuccess(
      stale,
      { accessToken: 'a1', refreshToken: 'r1', expiresAt: null, refreshAt: null },
      audit,
    );
    expect(first).toEqual({ applied: true, version: 2 });
    const second = await store.recordSuccess(
      stale,
      { accessToken: 'a2', refreshToken: 'r2', expiresAt: null, refreshAt: null },
      audit,
    );
    expect(second).toEqual({ applied: false });
    expect(await store.find(connectionId)).toMatchObject({ accessToken: 'a1', refreshToken: 'r1', version: 2 });
    const events =
      await sandbox.sql`select applied, process from refresh_events where connection_id = ${connectionId} order by id`;
    expect(events).toEqual([
      { applied: true, process: 'store-test' },
      { applied: false, process: 'store-test' },
    ]);
  });

  it('keeps the stored refresh token when the provider returns none', async () => {
    const { connectionId } = await store.upsert({
      ...base,
      connectionId: 'no-rotation',
      accessToken: 'a0',
      refreshToken: 'keep-me',
    });
    const row = (await store.find(connectionId))!;
    const audit = {
      outcome: 'success' as const,
      reason: null,
      httpStatus: 200,
      durationMs: 5,
      trigger: 'schedule' as const,
    };
    await store.recordSuccess(
      row,
      { accessToken: 'a1', refreshToken: undefined, expiresAt: null, refreshAt: null },
      audit,
    );
    expect(await store.find(connectionId)).toMatchObject({ accessToken: 'a1', refreshToken: 'keep-me' });
  });

  it('binds each ciphertext to its row: copied into another row it does not decrypt', async () => {
    await store.upsert({ ...base, connectionId: 'victim', accessToken: 'victim-token', refreshToken: 'v' });
    await store.upsert({ ...base, connectionId: 'attacker', accessToken: 'attacker-token', refreshToken: 'x' });
    await sandbox.sql`update connections set access_token = (select access_token from connections where id = 'victim') where id = 'attacker'`;
    await expect(store.find('attacker')).rejects.toBeInstanceOf(DecryptError);
    expect((await store.find('victim'))!.accessToken).toBe('victim-token');
  });

  it('reads rows sealed with an old key after rotation, and seals new writes with the new key', async () => {
    const oldRing = Keyring.parse(sandbox.encryptionKeys);
    const rotated = Keyring.parse(`${Keyring.generateEntry('test2')},${sandbox.encryptionKeys}`);
    await new ConnectionStore(db, oldRing, 't').upsert({
      ...base,
      connectionId: 'rotating',
      accessToken: 'old-sealed',
      refreshToken: 'r',
    });
    const rotatedStore = new ConnectionStore(db, rotated, 't');
    expect((await rotatedStore.find('rotating'))!.accessToken).toBe('old-sealed');
    await rotatedStore.upsert({ ...base, connectionId: 'rotating', accessToken: 'new-sealed', refreshToken: 'r' });
    const [raw] = await sandbox.sql`select access_token from connections where id = 'rotating'`;
    expect(Keyring.keyIdOf(raw!.access_token as string)).toBe('test2');
  });

  it('finds overdue live rows and pages live rows by id for the reconcile', async () => {
    const past = new Date(Date.now() - 60_000);
    await store.upsert({ ...base, connectionId: 'overdue-1', accessToken: 'a', refreshToken: 'r', refreshAt: past });
    const overdue = await store.findOverdue(new Date(), 1000);
    expect(overdue.map((r) => r.id)).toContain('overdue-1');
    const ids: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await store.pageScheduled(after, 2);
      if (page.length === 0) break;
      ids.push(...page.map((r) => r.id));
      after = page.at(-1)!.id;
    }
    expect(ids).toEqual([...ids].sort());
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain('overdue-1');
  });
});
