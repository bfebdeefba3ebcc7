import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Database } from '../src/database.ts';
import { EventFeed } from '../src/event-feed.ts';

/**
 * How the feed groups NOTIFYs, at the edge of the unit: a client that records each statement's parameters stands in
 * for Postgres (the delivery itself is tested against a real one in event-feed.test.ts).
 */
function recordingDb(): { db: Database; batches: string[] } {
  const batches: string[] = [];
  const client = {
    unsafe: (_sql: string, params: unknown[]) => {
      batches.push(String(params.find((p) => typeof p === 'string' && p.startsWith('{'))));
      return Promise.resolve([]);
    },
  };
  // Only `$client.unsafe` is used by the feed's statement (executePrepared): the rest of drizzle's Database is not.
  return { db: { $client: client } as unknown as Database, batches };
}

describe('EventFeed batching', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends the events of the refreshes that commit within the coalescing window in one NOTIFY transaction', async () => {
    const { db, batches } = recordingDb();
    const feed = new EventFeed(db, 'channel');
    const sent = [
      feed.publishCommitted('{"a"}', { coalesceMs: 10 }),
      feed.publishCommitted('{"b"}', { coalesceMs: 10 }),
    ];
    await vi.advanceTimersByTimeAsync(5);
    sent.push(feed.publishCommitted('{"c","d"}', { coalesceMs: 10 }));
    expect(batches).toEqual([]);
    await vi.advanceTimersByTimeAsync(5);
    await Promise.all(sent);
    expect(batches).toEqual(['{"a","b","c","d"}']);
  });

  it('sends at once without a window, and what arrives meanwhile rides in the next batch', async () => {
    const { db, batches } = recordingDb();
    const feed = new EventFeed(db, 'channel');
    const first = feed.publishCommitted('{"a"}');
    const second = feed.publishCommitted('{"b"}', { coalesceMs: 10 });
    await Promise.all([first, second]);
    expect(batches).toEqual(['{"a"}', '{"b"}']);
  });

  it('sends nothing for a write that wrote no events', async () => {
    const { db, batches } = recordingDb();
    const feed = new EventFeed(db, 'channel');
    await feed.publishCommitted(null, { coalesceMs: 10 });
    await vi.advanceTimersByTimeAsync(20);
    expect(batches).toEqual([]);
  });
});
