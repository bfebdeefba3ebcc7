import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertConnections } from '@evergreen/test-support/seed-rows';
import { StoreFixture } from '@evergreen/test-support/store-fixture';
import { ConnectionDirectory } from '../src/index.ts';

describe('ConnectionDirectory', () => {
  const fixture = new StoreFixture();
  const { sandbox } = fixture;
  let directory: ConnectionDirectory;

  beforeAll(async () => {
    directory = new ConnectionDirectory(await fixture.open());
    const rows: [string, string, string, string, string | null][] = [
      // id, owner, provider, status, expires_at relative to now
      ['c1', 'o1', 'acme', 'connected', '10 minutes'],
      ['c2', 'o1', 'acme', 'token_expired', '-1 minute'],
      ['c3', 'o1', 'beta', 'connected', '3 hours'],
      ['c4', 'o2', 'acme', 'needs_reauth', '5 minutes'],
      ['c5', 'o2', 'acme', 'connected', null],
    ];
    await insertConnections(
      sandbox.sql,
      rows.map(([id, ownerId, provider, status, expiresIn]) => ({
        id,
        ownerId,
        provider,
        status,
        expiresIn,
        accessToken: 'sealed-access',
        refreshToken: 'sealed-refresh',
      })),
    );
  });

  afterAll(() => fixture.close());

  const ids = (page: { items: { connectionId: string }[] }) => page.items.map((i) => i.connectionId);

  it('shows a connection without any secret, and nothing for an unknown id', async () => {
    const view = await directory.view('c1');
    expect(view).toMatchObject({ connectionId: 'c1', ownerId: 'o1', provider: 'acme', status: 'connected' });
    expect(JSON.stringify(view)).not.toContain('sealed');
    expect(await directory.view('nope')).toBeNull();
  });

  it('pages in id order with a cursor, under every filter at once', async () => {
    const first = await directory.list({}, { limit: 2 });
    expect(ids(first)).toEqual(['c1', 'c2']);
    expect(first.nextCursor).toBe('c2');
    const rest = await directory.list({}, { limit: 3, cursor: 'c2' });
    expect(ids(rest)).toEqual(['c3', 'c4', 'c5']);
    expect(rest.nextCursor).toBeNull();
    expect(ids(await directory.list({ provider: 'acme', ownerId: 'o1' }, { limit: 10 }))).toEqual(['c1', 'c2']);
    expect(ids(await directory.list({ status: 'connected' }, { limit: 10 }))).toEqual(['c1', 'c3', 'c5']);
    expect(ids(await directory.list({ expiringWithinSeconds: 420 }, { limit: 10 }))).toEqual(['c2', 'c4']);
  });

  it('marks the live matches of configured providers due now, without touching their version', async () => {
    const before = await sandbox.sql<{ id: string; version: string }[]>`select id, version from connections`;
    const marked = await directory.markDueNow({ ownerId: 'o1' }, ['acme'], 10);
    expect(marked.map((m) => m.id).sort()).toEqual(['c1', 'c2']);
    expect(marked.every((m) => m.provider === 'acme')).toBe(true);
    expect(await directory.markDueNow({ status: 'needs_reauth' }, ['acme'], 10)).toEqual([]);
    expect(await directory.markDueNow({}, [], 10)).toEqual([]);
    expect(await directory.markDueNow({}, ['acme', 'beta'], 1)).toHaveLength(1);
    const due = await sandbox.sql<{ id: string }[]>`
      select id from connections where refresh_at is not null and refresh_at <= now() order by id`;
    expect(due.map((r) => r.id)).toEqual(['c1', 'c2']);
    const after = await sandbox.sql<{ id: string; version: string }[]>`select id, version from connections`;
    expect(after).toEqual(expect.arrayContaining(before));
  });
});
