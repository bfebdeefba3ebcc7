import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertRefreshEvents } from '@evergreen/test-support/seed-rows';
import { StoreFixture } from '@evergreen/test-support/store-fixture';
import { RefreshAudit } from '../src/index.ts';

describe('RefreshAudit', () => {
  const fixture = new StoreFixture();
  let audit: RefreshAudit;

  beforeAll(async () => {
    audit = new RefreshAudit(await fixture.open());
    const events: [string, string, string | null, number, string][] = [
      // connection, outcome, reason, how many, age
      ['c1', 'success', null, 3, '1 minute'],
      ['c1', 'transient', 'server_error', 2, '20 minutes'],
      ['c2', 'transient', 'server_error', 1, '2 hours'],
      ['c2', 'reauth', 'invalid_grant', 1, '30 minutes'],
      ['c2', 'transient', 'timeout', 4, '3 hours'],
    ];
    await insertRefreshEvents(
      fixture.sandbox.sql,
      events.map(([connectionId, outcome, reason, count, age]) => ({ connectionId, outcome, reason, count, age })),
    );
  });

  afterAll(() => fixture.close());

  it("reads a connection's latest attempts, newest first", async () => {
    const recent = await audit.recent('c1', 4);
    expect(recent.map((r) => r.outcome)).toEqual(['success', 'success', 'success', 'transient']);
    expect(recent[0]).toEqual({
      outcome: 'success',
      reason: null,
      httpStatus: 200,
      durationMs: 5,
      applied: true,
      trigger: 'schedule',
      process: 'test',
      createdAt: expect.any(Date),
    });
    expect(await audit.recent('nobody')).toEqual([]);
  });

  it('counts the failures within a window by outcome and reason, most first', async () => {
    expect(await audit.failuresWithin(3600)).toEqual([
      { outcome: 'transient', reason: 'server_error', count: 2 },
      { outcome: 'reauth', reason: 'invalid_grant', count: 1 },
    ]);
    expect(await audit.failuresWithin(4 * 3600)).toEqual([
      { outcome: 'transient', reason: 'timeout', count: 4 },
      { outcome: 'transient', reason: 'server_error', count: 3 },
      { outcome: 'reauth', reason: 'invalid_grant', count: 1 },
    ]);
  });

  it('counts attempts per aligned bucket, oldest first, empty buckets included', async () => {
    const buckets = await audit.perBucket(600, 6); // the last hour, by 10 minutes
    expect(buckets).toHaveLength(6);
    const starts = buckets.map((b) => b.start.getTime());
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBe(600_000);
    expect(starts[0]! % 600_000).toBe(0);
    expect(buckets.reduce((n, b) => n + b.success, 0)).toBe(3);
    expect(buckets.reduce((n, b) => n + b.failure, 0)).toBe(3); // the 2- and 3-hour-old ones are out of the window
    expect(buckets.filter((b) => b.success + b.failure === 0).length).toBeGreaterThan(0);
  });
});
