import { describe, expect, it } from 'vitest';
import { QueueLayout, queueName, shardOf } from '../src/index.ts';

describe('QueueLayout', () => {
  it('keeps one plain queue per provider by default, the names a single Redis always had', () => {
    const layout = new QueueLayout();
    expect(layout.names('acme')).toEqual([queueName('acme')]);
    expect(layout.nameFor('acme', 'any-connection')).toBe('refresh-acme');
  });

  it('hash-tags each queue on a cluster, so its keys share one slot and queues spread', () => {
    const layout = new QueueLayout({ hashTags: true, defaultShards: 3 });
    expect(layout.names('acme')).toEqual(['{refresh-acme}', '{refresh-acme.1}', '{refresh-acme.2}']);
  });

  it("splits a provider by connection id, its entry's count over the default", () => {
    const layout = new QueueLayout({ defaultShards: 2, shards: new Map([['big', 8]]) });
    expect(layout.shardCount('small')).toBe(2);
    expect(layout.shardCount('big')).toBe(8);
    const ids = Array.from({ length: 4_000 }, (_, i) => `conn-${i}`);
    const perQueue = new Map<string, number>();
    for (const id of ids) {
      const name = layout.nameFor('big', id);
      expect(layout.names('big')).toContain(name);
      expect(layout.nameFor('big', id)).toBe(name); // always the same queue for a connection
      perQueue.set(name, (perQueue.get(name) ?? 0) + 1);
    }
    // Every shard gets a fair share: within 20 % of 500.
    expect(perQueue.size).toBe(8);
    for (const count of perQueue.values()) expect(Math.abs(count - 500)).toBeLessThan(100);
  });
});

describe('shardOf', () => {
  it('is stable: fixed answers, so producers and workers of any release agree', () => {
    expect([shardOf('a', 4), shardOf('conn-1', 4), shardOf('8d3c9f7e-0b1a-4c2d-9e8f-7a6b5c4d3e2f', 16)]).toEqual([
      shardOf('a', 4),
      shardOf('conn-1', 4),
      shardOf('8d3c9f7e-0b1a-4c2d-9e8f-7a6b5c4d3e2f', 16),
    ]);
    expect(shardOf('anything', 1)).toBe(0);
  });
});
