import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { RefreshQueues } from '../../src/refresh-queues.ts';

describe('order-wait-list.lua, through RefreshQueues', () => {
  const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
  const prefix = `evg-order-${randomBytes(4).toString('hex')}`;
  const queues = new RefreshQueues(redis, prefix);

  afterAll(async () => {
    await queues.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('puts the waiting jobs in the given order; jobs not given wait behind them, ids not waiting are skipped', async () => {
    const now = Date.now();
    for (const id of ['a', 'b', 'c', 'd', 'e']) await queues.schedule('p1', id, now, now);
    expect(await queues.waiting('p1')).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await queues.orderWaiting('p1', ['d', 'b', 'gone', 'a', 'b'])).toBe(3);
    expect(await queues.waiting('p1')).toEqual(['d', 'b', 'a', 'c', 'e']);
    // BullMQ takes them in that order.
    const taken: string[] = [];
    const worker = queues.queue('p1');
    for (let i = 0; i < 5; i++) {
      const [id] = await redis.lrange(worker.toKey('wait'), -1, -1);
      await redis.rpop(worker.toKey('wait'));
      taken.push(id!);
    }
    expect(taken).toEqual(['d', 'b', 'a', 'c', 'e']);
  });

  it('promotes delayed jobs so they can be ordered with the rest', async () => {
    const now = Date.now();
    await queues.schedule('p2', 'later', now + 60_000, now);
    await queues.schedule('p2', 'now', now, now);
    await queues.promote('p2', ['later']);
    expect(await queues.waiting('p2')).toEqual(['now', 'later']);
    expect(await queues.orderWaiting('p2', [])).toBe(0);
  });
});
