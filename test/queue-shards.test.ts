import { QueueLayout, RefreshQueues, refreshJob } from '@evergreen/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '@evergreen/test-support/sandbox';

/** A provider split into queues by connection id, on one Redis (the same routing a cluster uses, without tags). */
describe('a provider split into queue shards', () => {
  const sandbox = new Sandbox();
  let queues: RefreshQueues;

  beforeAll(() => {
    queues = new RefreshQueues(sandbox.redis, sandbox.prefix, new QueueLayout({ shards: new Map([['acme', 3]]) }));
  });

  afterAll(async () => {
    await queues.close();
    await sandbox.cleanup();
  });

  it("puts each connection's one job in its own shard, and finds, moves and removes it there", async () => {
    const now = Date.now();
    const ids = Array.from({ length: 30 }, (_, i) => `c${i}`);
    for (const id of ids) expect(await queues.schedule('acme', id, now + 60_000, now)).toBe('added');
    const counts = await Promise.all(queues.queuesOf('acme').map((q) => q.getDelayedCount()));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(30);
    expect(counts.every((c) => c > 0)).toBe(true);
    for (const id of ids) expect(await queues.queueFor('acme', id).getJobState(id)).toBe('delayed');

    expect(await queues.schedule('acme', 'c1', now + 5_000, now)).toBe('moved');
    await queues.unschedule('acme', 'c2');
    expect(await queues.existing(ids.slice(0, 4).map((id) => ({ id, provider: 'acme' })))).toEqual([
      true,
      true,
      false,
      true,
    ]);
    // Only sharded calls: the single-queue accessor refuses, rather than answer for one shard of three.
    expect(() => queues.queue('acme')).toThrow(/3 queues/);
  });

  it('adds a bulk import to each connection its shard, one add per shard', async () => {
    const now = Date.now();
    const jobs = Array.from({ length: 12 }, (_, i) => refreshJob(`bulk-${i}`, now + 60_000, now));
    await queues.addBulk('acme', jobs);
    for (const job of jobs) {
      const id = job.data.connectionId;
      expect(await queues.queueFor('acme', id).getJobState(id)).toBe('delayed');
    }
  });

  it("pauses every shard on the provider's 429", async () => {
    await queues.rateLimit('acme', 30_000);
    for (const queue of queues.queuesOf('acme')) expect(await queue.getRateLimitTtl()).toBeGreaterThan(25_000);
  });
});
