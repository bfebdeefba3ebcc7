import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StoreFixture } from '@evergreen/test-support/store-fixture';
import { WebhookDeliveries, type Database } from '../src/index.ts';

describe('WebhookDeliveries', () => {
  const fixture = new StoreFixture();
  const { sandbox } = fixture;
  let db: Database;
  let deliveries: WebhookDeliveries;

  beforeAll(async () => {
    db = await fixture.open(3);
  });

  afterAll(() => fixture.close());

  beforeEach(async () => {
    deliveries = new WebhookDeliveries(db);
    await sandbox.sql`truncate connection_events, webhook_cursors, webhook_deliveries restart identity`;
    await sandbox.sql`
      insert into connection_events (connection_id, kind, payload)
      select 'c' || i, case when i % 2 = 0 then 'connection.refreshed' else 'connection.needs_reauth' end,
        jsonb_build_object('connectionId', 'c' || i)
      from generate_series(1, 5) as i`;
  });

  const rows = () =>
    sandbox.sql<{ event_id: number; status: string; attempts: number; last_error: string | null; due: boolean }[]>`
      select event_id::int, status, attempts, last_error, next_attempt_at <= now() as due
      from webhook_deliveries order by event_id`;
  const cursor = async () =>
    (await sandbox.sql<{ n: number }[]>`select last_event_id::int as n from webhook_cursors where endpoint = 'app'`)[0]
      ?.n;

  it('fans out what the plan picks and moves the cursor where it says, from the cursor on', async () => {
    const seen: number[][] = [];
    const first = await deliveries.fanOut('app', 3, (last, events) => {
      seen.push([last, ...events.map((e) => e.id)]);
      expect(events.every((e) => e.ageMs >= 0 && e.kind.startsWith('connection.'))).toBe(true);
      return { deliver: [1, 3], moveCursorTo: 3, note: 'kept' };
    });
    expect(first).toEqual({ read: 3, enqueued: 2, plan: { deliver: [1, 3], moveCursorTo: 3, note: 'kept' } });
    expect(await cursor()).toBe(3);
    const second = await deliveries.fanOut('app', 3, (last, events) => {
      seen.push([last, ...events.map((e) => e.id)]);
      return { deliver: [], moveCursorTo: null };
    });
    expect(second).toMatchObject({ read: 2, enqueued: 0 });
    expect(seen).toEqual([
      [0, 1, 2, 3],
      [3, 4, 5],
    ]);
    expect(await cursor()).toBe(3);
    expect((await rows()).map((r) => r.event_id)).toEqual([1, 3]);
  });

  it('skips an endpoint whose cursor another replica holds', async () => {
    await deliveries.fanOut('app', 1, () => ({ deliver: [], moveCursorTo: null }));
    const holder = await sandbox.sql.reserve();
    try {
      await holder`begin`;
      await holder`select 1 from webhook_cursors where endpoint = 'app' for update`;
      expect(await deliveries.fanOut('app', 5, () => ({ deliver: [1], moveCursorTo: 1 }))).toBeNull();
      await holder`rollback`;
    } finally {
      holder.release();
    }
    expect(await rows()).toEqual([]);
  });

  it('claims due deliveries under a lease, oldest first, and records outcomes only over pending rows', async () => {
    await deliveries.fanOut('app', 5, () => ({ deliver: [4, 2, 5], moveCursorTo: 5 }));
    const claimed = await deliveries.claimDue('app', 2, 60_000);
    expect(claimed).toEqual([
      { eventId: 2, attempts: 0 },
      { eventId: 4, attempts: 0 },
    ]);
    expect(await deliveries.claimDue('app', 5, 60_000)).toEqual([{ eventId: 5, attempts: 0 }]);
    expect(await deliveries.claimDue('app', 5, 60_000)).toEqual([]);

    const events = await deliveries.events([2, 4, 99]);
    expect(events.map((e) => [e.id, e.kind, e.payload])).toEqual(
      expect.arrayContaining([
        [2, 'connection.refreshed', { connectionId: 'c2' }],
        [4, 'connection.refreshed', { connectionId: 'c4' }],
      ]),
    );
    expect(events).toHaveLength(2);
    expect(events[0]!.createdAt).toBeInstanceOf(Date);

    await deliveries.record('app', 2, { status: 'delivered', httpStatus: 204 });
    await deliveries.record('app', 4, { status: 'pending', httpStatus: 500, error: 'HTTP 500', retryInMs: 0 });
    await deliveries.record('app', 5, { status: 'failed', httpStatus: null, error: 'timeout' });
    await deliveries.record('app', 2, { status: 'failed', httpStatus: 500, error: 'late replica' }); // not pending
    expect(await rows()).toEqual([
      { event_id: 2, status: 'delivered', attempts: 1, last_error: null, due: expect.any(Boolean) },
      { event_id: 4, status: 'pending', attempts: 1, last_error: 'HTTP 500', due: true },
      { event_id: 5, status: 'failed', attempts: 1, last_error: 'timeout', due: false },
    ]);
    expect(await deliveries.claimDue('app', 5, 60_000)).toEqual([{ eventId: 4, attempts: 1 }]);
  });
});
