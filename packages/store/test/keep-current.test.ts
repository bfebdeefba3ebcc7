import { Keyring } from '@evergreen/keyring';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acmeUpsert } from '@evergreen/test-support/seed-rows';
import { StoreFixture } from '@evergreen/test-support/store-fixture';
import { ConnectionStore } from '../src/index.ts';

describe("upsertMany's keepCurrent (an import's rerun)", () => {
  const fixture = new StoreFixture();
  const { sandbox } = fixture;
  let store: ConnectionStore;

  beforeAll(async () => {
    store = new ConnectionStore(await fixture.open(), Keyring.parse(sandbox.encryptionKeys), 'test');
  });

  afterAll(() => fixture.close());

  const row = async (id: string) =>
    (await sandbox.sql`select version, updated_at, refresh_at, access_token from connections where id = ${id}`)[0]!;

  it('leaves a row holding the same tokens alone: no write, no version bump, no event', async () => {
    const byPair = acmeUpsert('same', { ownerId: 'keep-1' });
    const byId = { ...acmeUpsert('same-id', { ownerId: 'keep-2', connectionId: 'keep-id' }), refreshAt: new Date() };
    const [first, second] = await store.upsertMany([byPair, byId]);
    const before = [await row(first!.ok ? first!.connectionId : ''), await row('keep-id')];
    const events = (await sandbox.sql`select count(*)::int as n from connection_events`)[0]!.n as number;

    const again = await store.upsertMany([byPair, { ...byId, refreshAt: new Date(Date.now() + 60_000) }], {
      keepCurrent: true,
    });
    expect(again).toEqual([
      expect.objectContaining({ index: 0, ok: true, connectionId: first!.ok && first!.connectionId, version: 1 }),
      expect.objectContaining({ index: 1, ok: true, connectionId: 'keep-id', version: 1, unchanged: true }),
    ]);
    expect(again[1]).toMatchObject({ status: 'connected', refreshAt: before[1]!.refresh_at });
    expect([await row(first!.ok ? first!.connectionId : ''), await row('keep-id')]).toEqual(before);
    expect((await sandbox.sql`select count(*)::int as n from connection_events`)[0]!.n).toBe(events);
    expect(second).toMatchObject({ ok: true, created: true });
  });

  it('writes a row whose tokens differ (version + 1), and never overwrites one Evergreen has refreshed since', async () => {
    const item = acmeUpsert('old', { ownerId: 'keep-3', connectionId: 'keep-3' });
    await store.upsertMany([item]);
    const [changed] = await store.upsertMany([{ ...item, accessToken: 'at-new' }], { keepCurrent: true });
    expect(changed).toMatchObject({ ok: true, version: 2, created: false });
    expect(changed).not.toHaveProperty('unchanged');

    // A refresh happened: the stored tokens are newer than any file's.
    await sandbox.sql`update connections set last_refresh_at = now() where id = 'keep-3'`;
    const before = await row('keep-3');
    const [kept] = await store.upsertMany([item], { keepCurrent: true });
    expect(kept).toMatchObject({ ok: false, field: 'connectionId', reason: expect.stringContaining('kept') });
    expect(await row('keep-3')).toEqual(before);
    // Without the option, the bulk path keeps its meaning: the caller's tokens win.
    const [forced] = await store.upsertMany([item]);
    expect(forced).toMatchObject({ ok: true, version: 3 });
  });
});
