import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertConnections } from '@evergreen/test-support/seed-rows';
import { StoreFixture } from '@evergreen/test-support/store-fixture';
import { ConnectionCounts } from '../src/index.ts';

describe('ConnectionCounts', () => {
  const fixture = new StoreFixture();
  let counts: ConnectionCounts;

  beforeAll(async () => {
    counts = new ConnectionCounts(await fixture.open());
    const rows: [string, string, string, string | null][] = [
      // id, provider, status, expires_at relative to now
      ['a1', 'acme', 'connected', '2 minutes'],
      ['a2', 'acme', 'connected', '-1 minute'],
      ['a3', 'acme', 'token_expired', '30 minutes'],
      ['a4', 'acme', 'connected', '3 hours'],
      ['a5', 'acme', 'needs_reauth', '1 minute'],
      ['b1', 'beta', 'connected', null],
      ['b2', 'beta', 'disconnected', '1 minute'],
      ['g1', 'gamma', 'error', '1 minute'],
    ];
    await insertConnections(
      fixture.sandbox.sql,
      rows.map(([id, provider, status, expiresIn]) => ({ id, provider, status, expiresIn })),
    );
  });

  afterAll(() => fixture.close());

  it('counts every connection by provider and status, leaving out pairs with none', async () => {
    const rows = await counts.byStatus();
    const sorted = [...rows].sort((x, y) => `${x.provider}${x.status}`.localeCompare(`${y.provider}${y.status}`));
    expect(sorted).toEqual([
      { provider: 'acme', status: 'connected', count: 3 },
      { provider: 'acme', status: 'needs_reauth', count: 1 },
      { provider: 'acme', status: 'token_expired', count: 1 },
      { provider: 'beta', status: 'connected', count: 1 },
      { provider: 'beta', status: 'disconnected', count: 1 },
      { provider: 'gamma', status: 'error', count: 1 },
    ]);
  });

  it('counts live connections expiring within each window (or already expired), per provider, in one answer', async () => {
    expect(await counts.expiring([5 * 60, 60 * 60])).toEqual([{ provider: 'acme', counts: [2, 3] }]);
    expect(await counts.expiring([60 * 60, 5 * 60])).toEqual([{ provider: 'acme', counts: [3, 2] }]);
    expect(await counts.expiring([24 * 3600])).toEqual([{ provider: 'acme', counts: [4] }]);
  });

  it('answers nothing for no windows, and leaves out providers with nothing in the widest', async () => {
    expect(await counts.expiring([])).toEqual([]);
    expect(await counts.expiring([30])).toEqual([{ provider: 'acme', counts: [1] }]);
  });
});
