import { Keyring } from '@evergreen/keyring';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '@evergreen/test-support/sandbox';
import {
  closeDatabase,
  ConnectionStore,
  migrateDatabase,
  openDatabase,
  rotateKeys,
  type Database,
  type UpsertConnection,
} from '../src/index.ts';

const row = (id: string): UpsertConnection => ({
  connectionId: id,
  ownerId: `owner-${id}`,
  provider: 'acme',
  accessToken: `at-${id}`,
  refreshToken: `rt-${id}`,
  scopes: [],
  metadata: {},
  expiresAt: null,
  refreshAt: null,
});

describe('rotateKeys with key ids that hold LIKE wildcards', () => {
  const sandbox = new Sandbox();
  let db: Database;
  // `_` matches any one character in LIKE: under a pattern built from `k_1`, a value sealed with `k01` looks current.
  const oldEntry = Keyring.generateEntry('k01');
  const newEntry = Keyring.generateEntry('k_1');
  const oldRing = Keyring.parse(oldEntry);
  const ring = Keyring.parse(`${newEntry},${oldEntry}`);

  beforeAll(async () => {
    await migrateDatabase({ url: sandbox.databaseUrl, schema: sandbox.schema });
    db = openDatabase({ url: sandbox.databaseUrl, schema: sandbox.schema, max: 2 });
  });

  afterAll(async () => {
    await closeDatabase(db);
    await sandbox.cleanup();
  });

  it('rotates rows sealed with k01 when the current key is k_1, and finds none left after', async () => {
    const oldStore = new ConnectionStore(db, oldRing, 'old');
    for (const id of ['r1', 'r2', 'r3', 'r4']) await oldStore.upsert(row(id));

    expect(await rotateKeys(db, ring, { batchSize: 3 })).toEqual({ rotated: 4, raced: 0, remaining: 0 });
    const sealed = await sandbox.sql<{ access_token: string; refresh_token: string }[]>`
      select access_token, refresh_token from connections`;
    expect(sealed).toHaveLength(4);
    for (const r of sealed) {
      expect(Keyring.keyIdOf(r.access_token)).toBe('k_1');
      expect(Keyring.keyIdOf(r.refresh_token)).toBe('k_1');
    }
    // k01 can go now: a ring of k_1 alone opens every row.
    expect(await new ConnectionStore(db, Keyring.parse(newEntry), 'new').find('r3')).toMatchObject({
      accessToken: 'at-r3',
      refreshToken: 'rt-r3',
    });
  });

  it('does not call a key unused while rows sealed with it remain: a pass that cannot open them fails', async () => {
    await new ConnectionStore(db, oldRing, 'old').upsert(row('s1'));
    // Without k01 the rows sealed with it cannot be re-encrypted; the pass must stop on them, not report 0 remaining.
    await expect(rotateKeys(db, Keyring.parse(newEntry))).rejects.toMatchObject({ code: 'ERR_DECRYPT' });
  });
});
