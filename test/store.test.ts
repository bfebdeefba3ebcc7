import { DecryptError, Keyring } from '@evergreen/keyring';
import { readdirSync } from 'node:fs';
import {
  ConnectionStore,
  dropSchema,
  migrateDatabase,
  MIGRATIONS_FOLDER,
  rotateKeys,
  type Database,
} from '@evergreen/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreFixture } from '@evergreen/test-support/store-fixture';

describe('the Postgres store', () => {
  const fixture = new StoreFixture();
  const { sandbox } = fixture;
  let db: Database;
  let store: ConnectionStore;

  beforeAll(async () => {
    // Four processes starting at once all migrate: the advisory lock serialises them and all succeed.
    await Promise.all(
      Array.from({ length: 4 }, () => migrateDatabase({ url: sandbox.databaseUrl, schema: sandbox.schema })),
    );
    db = await fixture.open(4);
    store = new ConnectionStore(db, Keyring.parse(sandbox.encryptionKeys), 'store-test');
  });

  afterAll(() => fixture.close());

  it('applies migrations once, however often it is asked', async () => {
    await migrateDatabase({ url: sandbox.databaseUrl, schema: sandbox.schema });
    const applied = await sandbox.sql`select count(*)::int as n from __drizzle_migrations`;
    const files = readdirSync(MIGRATIONS_FOLDER).filter((f) => f.endsWith('.sql'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    expect(applied[0]!.n).toBe(files.length);
    const tables =
      await sandbox.sql`select table_name from information_schema.tables where table_schema = ${sandbox.schema} order by 1`;
    expect(tables.map((t) => t.table_name)).toEqual([
      '__drizzle_migrations',
      'api_keys',
      'connect_sessions',
      'connection_events',
      'connections',
      'key_usage',
      'refresh_events',
      'webhook_cursors',
      'webhook_deliveries',
    ]);
  });

  it('drops a whole schema on request, and refuses a name that is not a plain identifier', async () => {
    const scratch = `${sandbox.schema}_scratch`;
    await migrateDatabase({ url: sandbox.databaseUrl, schema: scratch });
    const exists = async () =>
      (await sandbox.sql`select count(*)::int as n from information_schema.schemata where schema_name = ${scratch}`)[0]!
        .n;
    expect(await exists()).toBe(1);
    await dropSchema({ url: sandbox.databaseUrl, schema: scratch });
    expect(await exists()).toBe(0);
    await dropSchema({ url: sandbox.databaseUrl, schema: scratch }); // already gone: nothing to do
    await expect(dropSchema({ url: sandbox.databaseUrl, schema: 'x"; drop table y; --' })).rejects.toThrow(
      /invalid schema name/,
    );
  });

  const base = { ownerId: 'o', provider: 'p', scopes: [], metadata: {}, expiresAt: null, refreshAt: new Date() };
  const write = (accessToken: string, refreshToken: string | undefined, replaced: string) => ({
    accessToken,
    refreshToken,
    replacedRefreshToken: replaced,
    expiresAt: null,
    refreshAt: null,
    refreshTokenExpiresAt: undefined,
    refreshTokenWarned: false,
    metadata: undefined,
  });

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
    const first = await store.recordSuccess(stale, write('a1', 'r1', 'r0'), audit);
    expect(first).toEqual({ applied: true, version: 2 });
    const second = await store.recordSuccess(stale, write('a2', 'r2', 'r0'), audit);
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
    await store.recordSuccess(row, write('a1', undefined, 'keep-me'), audit);
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

describe('the Postgres store, rotation bookkeeping', () => {
  const fixture = new StoreFixture();
  const { sandbox } = fixture;
  let db: Database;
  let store: ConnectionStore;

  beforeAll(async () => {
    db = await fixture.open();
    store = new ConnectionStore(db, Keyring.parse(sandbox.encryptionKeys), 'store-test');
  });

  afterAll(() => fixture.close());

  const audit = {
    outcome: 'success' as const,
    reason: null,
    httpStatus: 200,
    durationMs: 3,
    trigger: 'schedule' as const,
  };

  it('keeps the replaced refresh token, encrypted, with when it was rotated; merges metadata from the answer', async () => {
    await store.upsert({
      connectionId: 'rot',
      ownerId: 'o',
      provider: 'p',
      accessToken: 'a0',
      refreshToken: 'r0',
      scopes: [],
      metadata: { team: 'blue', instance_url: 'https://old.example.com' },
      expiresAt: null,
      refreshAt: null,
      credentials: { username: 'u', password: 'pw-secret' },
    });
    const row = (await store.find('rot'))!;
    expect(row.credentials).toEqual({ username: 'u', password: 'pw-secret' });
    const result = await store.recordSuccess(
      row,
      {
        accessToken: 'a1',
        refreshToken: 'r1',
        replacedRefreshToken: 'r0',
        expiresAt: null,
        refreshAt: null,
        refreshTokenExpiresAt: new Date('2030-01-01T00:00:00Z'),
        refreshTokenWarned: false,
        metadata: { instance_url: 'https://new.example.com' },
      },
      audit,
    );
    expect(result.applied).toBe(true);
    const after = (await store.find('rot'))!;
    expect(after).toMatchObject({
      refreshToken: 'r1',
      previousRefreshToken: 'r0',
      refreshTokenExpiresAt: new Date('2030-01-01T00:00:00Z'),
      metadata: { team: 'blue', instance_url: 'https://new.example.com' },
    });
    expect(after.refreshTokenRotatedAt).not.toBeNull();
    const [raw] = await sandbox.sql`select previous_refresh_token, credentials from connections where id = 'rot'`;
    expect(String(raw!.previous_refresh_token)).toMatch(/^evg1\./);
    expect(String(raw!.credentials)).not.toContain('pw-secret');
  });

  it('does not count an unchanged refresh token as a rotation, and remembers a warning until the next rotation', async () => {
    const row = (await store.find('rot'))!;
    await store.recordSuccess(
      row,
      {
        accessToken: 'a2',
        refreshToken: 'r1',
        replacedRefreshToken: 'r1',
        expiresAt: null,
        refreshAt: null,
        refreshTokenExpiresAt: undefined,
        refreshTokenWarned: true,
        metadata: undefined,
      },
      audit,
    );
    const after = (await store.find('rot'))!;
    expect(after).toMatchObject({ refreshToken: 'r1', previousRefreshToken: 'r0' });
    expect(after.refreshTokenRotatedAt).toEqual(row.refreshTokenRotatedAt);
    expect(after.refreshTokenWarnedAt).not.toBeNull();
    await store.recordSuccess(
      after,
      {
        accessToken: 'a3',
        refreshToken: 'r2',
        replacedRefreshToken: 'r1',
        expiresAt: null,
        refreshAt: null,
        refreshTokenExpiresAt: undefined,
        refreshTokenWarned: false,
        metadata: undefined,
      },
      audit,
    );
    expect((await store.find('rot'))!.refreshTokenWarnedAt).toBeNull();
  });
});

describe('key rotation', () => {
  const fixture = new StoreFixture();
  const { sandbox } = fixture;
  let db: Database;

  beforeAll(async () => {
    db = await fixture.open();
  });

  afterAll(() => fixture.close());

  it('re-encrypts every secret to the new key in batches, without bumping versions, and can be run again', async () => {
    const oldRing = Keyring.parse(sandbox.encryptionKeys);
    const oldStore = new ConnectionStore(db, oldRing, 'old');
    for (let i = 0; i < 25; i++) {
      await oldStore.upsert({
        connectionId: `k${String(i).padStart(2, '0')}`,
        ownerId: 'o',
        provider: 'p',
        accessToken: `a${i}`,
        refreshToken: `r${i}`,
        credentials: i % 5 === 0 ? { username: 'u', password: `pw${i}` } : undefined,
        scopes: [],
        metadata: {},
        expiresAt: null,
        refreshAt: null,
      });
    }
    const before = await sandbox.sql`select id, version from connections order by id`;
    const newEntry = Keyring.generateEntry('test2');
    const ring = Keyring.parse(`${newEntry},${sandbox.encryptionKeys}`);
    const batches: number[] = [];
    const result = await rotateKeys(db, ring, { batchSize: 10, onBatch: (p) => batches.push(p.rotated) });
    expect(result).toEqual({ rotated: 25, raced: 0, remaining: 0 });
    expect(batches).toEqual([10, 20, 25]);
    const rows =
      await sandbox.sql`select id, version, access_token, refresh_token, credentials from connections order by id`;
    expect(rows.map((r) => ({ id: r.id, version: r.version }))).toEqual(
      before.map((r) => ({ id: r.id, version: r.version })),
    );
    for (const r of rows) {
      expect(Keyring.keyIdOf(r.access_token as string)).toBe('test2');
      expect(Keyring.keyIdOf(r.refresh_token as string)).toBe('test2');
      if (r.credentials !== null) expect(Keyring.keyIdOf(r.credentials as string)).toBe('test2');
    }
    // The old key can go now: a ring holding only the new key reads everything.
    const newStore = new ConnectionStore(db, Keyring.parse(newEntry), 'new');
    expect(await newStore.find('k05')).toMatchObject({
      accessToken: 'a5',
      refreshToken: 'r5',
      credentials: { username: 'u', password: 'pw5' },
    });
    expect(await rotateKeys(db, ring)).toEqual({ rotated: 0, raced: 0, remaining: 0 });
  });
});
