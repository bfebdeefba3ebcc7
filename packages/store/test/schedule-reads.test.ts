import { Keyring } from '@evergreen/keyring';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreFixture } from '@evergreen/test-support/store-fixture';
import { until } from '@evergreen/test-support/until';
import { closeDatabase, ConnectionStore, openDatabase } from '../src/index.ts';

const ROWS = 3_000;

/**
 * The scheduler's reads must not grow with the population: a keyset page reads its page, the per-minute sweep reads
 * the overdue rows. Counted from pg_stat_user_tables, which a backend flushes as it exits, on a pool of each test's own
 * and run more than five times (when a prepared statement's plan may turn generic).
 */
describe("the reconcile's reads of connections", () => {
  const fixture = new StoreFixture();
  const { sandbox } = fixture;

  beforeAll(async () => {
    await fixture.open(1);
    await sandbox.sql`
      insert into connections (id, owner_id, provider, status, access_token, refresh_token, expires_at, refresh_at)
      select 'c' || lpad(i::text, 6, '0'), 'o' || i, 'acme', 'connected', 'x', 'y',
        now() + interval '2 hours', now() + interval '1 hour' + i * interval '1 second'
      from generate_series(1, ${ROWS}::int) as i`;
  });

  afterAll(() => fixture.close());

  async function rowsRead(work: (store: ConnectionStore) => Promise<number>): Promise<{ rows: number; scans: number }> {
    const read = async () => {
      const [r] = await sandbox.sql<{ rows: string; scans: string }[]>`
        select pg_stat_clear_snapshot(),
          (seq_tup_read + coalesce(idx_tup_fetch, 0))::text as rows, (seq_scan + coalesce(idx_scan, 0))::text as scans
        from pg_stat_user_tables where relid = ${`"${sandbox.schema}".connections`}::regclass`;
      return { rows: Number(r!.rows), scans: Number(r!.scans) };
    };
    const before = await read();
    const db = openDatabase({ url: sandbox.databaseUrl, schema: sandbox.schema, max: 1 });
    const store = new ConnectionStore(db, Keyring.parse(sandbox.encryptionKeys), 'reads-test');
    const queries = await work(store);
    await closeDatabase(db);
    const after = await until(
      async () => {
        const now = await read();
        return now.scans - before.scans >= queries ? now : null;
      },
      { what: 'the closed backend flushing its table statistics' },
    );
    return { rows: after.rows - before.rows, scans: after.scans - before.scans };
  }

  it('pages every live row by id reading each about once, not the whole table per page', async () => {
    const seen: string[] = [];
    const { rows } = await rowsRead(async (store) => {
      let after: string | null = null;
      let pages = 0;
      for (;;) {
        const page = await store.pageScheduled(after, 100);
        pages += 1;
        if (page.length === 0) return pages;
        seen.push(...page.map((r) => r.id));
        after = page.at(-1)!.id;
      }
    });
    expect(seen).toHaveLength(ROWS);
    expect(rows).toBeLessThan(ROWS * 2);
  });

  it('sweeps overdue rows reading only those, tick after tick', async () => {
    await sandbox.sql`update connections set refresh_at = now() - interval '1 minute' where id <= 'c000010'`;
    const { rows } = await rowsRead(async (store) => {
      for (let tick = 0; tick < 10; tick++) {
        const overdue = await store.findOverdue(new Date(), 1_000);
        expect(overdue).toHaveLength(10);
        expect(overdue[0]!.refreshAt).toBeInstanceOf(Date);
      }
      return 10;
    });
    expect(rows).toBeLessThanOrEqual(10 * 10);
  });
});
