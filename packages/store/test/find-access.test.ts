import { Keyring } from '@evergreen/keyring';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acmeConnection } from '@evergreen/test-support/seed-rows';
import { StoreFixture } from '@evergreen/test-support/store-fixture';
import { ConnectionStore, type Database } from '../src/index.ts';

describe('ConnectionStore.findAccess: what a token read needs', () => {
  const fixture = new StoreFixture();
  const { sandbox } = fixture;
  let store: ConnectionStore;

  beforeAll(async () => {
    const db: Database = await fixture.open();
    store = new ConnectionStore(db, Keyring.parse(Keyring.generateEntry('k1')), 'test');
  });

  afterAll(() => fixture.close());

  it('answers the access token and what judges it, as find does', async () => {
    await store.upsert(acmeConnection('a1'));
    const full = await store.find('a1');
    expect(await store.findAccess('a1')).toEqual({
      id: 'a1',
      ownerId: full!.ownerId,
      provider: full!.provider,
      accessToken: 'at-a1',
      scopes: full!.scopes,
      expiresAt: full!.expiresAt,
      status: full!.status,
      lastRefreshReason: full!.lastRefreshReason,
    });
    expect(await store.findAccess('missing')).toBeNull();
  });

  it('leaves the refresh token sealed: a row whose refresh token cannot be opened still reads', async () => {
    await store.upsert(acmeConnection('a2'));
    await store.upsert(acmeConnection('a3'));
    // a3's refresh token sealed for a2 fails its authentication (the AAD binds row and column).
    await sandbox.sql`
      update connections set refresh_token = (select refresh_token from connections where id = 'a2') where id = 'a3'`;
    await expect(store.find('a3')).rejects.toMatchObject({ code: 'ERR_DECRYPT' });
    expect(await store.findAccess('a3')).toMatchObject({ accessToken: 'at-a3' });
  });
});
