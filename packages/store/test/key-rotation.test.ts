import { Keyring } from '@evergreen/keyring';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acmeConnection } from '@evergreen/test-support/seed-rows';
import { StoreFixture } from '@evergreen/test-support/store-fixture';
import { ConnectionStore, rotateKeys, type Database } from '../src/index.ts';

describe('rotateKeys with key ids that hold LIKE wildcards', () => {
  const fixture = new StoreFixture();
  const { sandbox } = fixture;
  let db: Database;
  // `_` matches any one character in LIKE: under a pattern built from `k_1`, a value sealed with `k01` looks current.
  const oldEntry = Keyring.generateEntry('k01');
  const newEntry = Keyring.generateEntry('k_1');
  const oldRing = Keyring.parse(oldEntry);
  const ring = Keyring.parse(`${newEntry},${oldEntry}`);

  beforeAll(async () => {
    db = await fixture.open();
  });

  afterAll(() => fixture.close());

  it('rotates rows sealed with k01 when the current key is k_1, and finds none left after', async () => {
    const oldStore = new ConnectionStore(db, oldRing, 'old');
    for (const id of ['r1', 'r2', 'r3', 'r4']) await oldStore.upsert(acmeConnection(id));

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
    await new ConnectionStore(db, oldRing, 'old').upsert(acmeConnection('s1'));
    // Without k01 the rows sealed with it cannot be re-encrypted; the pass must stop on them, not report 0 remaining.
    await expect(rotateKeys(db, Keyring.parse(newEntry))).rejects.toMatchObject({ code: 'ERR_DECRYPT' });
  });
});
