import { createLogger } from '@evergreen/log';
import { describe, expect, it } from 'vitest';
import { BacklogOrder, MIN_BACKLOG } from '../src/backlog-order.ts';
import { WaitOrder } from '../src/wait-order.ts';

const log = createLogger({ level: 'silent' });

describe('WaitOrder', () => {
  it('hands the waiting jobs to the wait list nearest expiry first, unknown expiries last', async () => {
    const expiries = new Map<string, Date | null>([
      ['late', new Date(3_000)],
      ['never', null],
      ['soon', new Date(1_000)],
      ['mid', new Date(2_000)],
    ]);
    let written: readonly string[] = [];
    const order = new WaitOrder(
      {
        orderByExpiry: async (ids) =>
          ids
            .filter((id) => expiries.has(id))
            .map((id) => ({ id, expiresAt: expiries.get(id)! }))
            .sort((a, b) => (a.expiresAt?.getTime() ?? Infinity) - (b.expiresAt?.getTime() ?? Infinity)),
      },
      {
        waiting: async () => ['late', 'never', 'gone', 'soon', 'mid'],
        orderWaiting: async (_provider, ids) => {
          written = ids;
          return ids.length;
        },
      },
    );
    expect(await order.orderByNeed('acme')).toBe(4);
    expect(written).toEqual(['soon', 'mid', 'late', 'never']);
  });
});

describe('BacklogOrder', () => {
  it('orders only the providers with a backlog, and carries on past one that fails', async () => {
    const counts: Record<string, number> = { idle: MIN_BACKLOG - 1, busy: MIN_BACKLOG, broken: 500 };
    const ordered: string[] = [];
    const backlog = new BacklogOrder({
      providers: ['idle', 'broken', 'busy'],
      queues: { waitingCount: async (provider) => counts[provider]! },
      order: {
        orderByNeed: async (provider) => {
          if (provider === 'broken') throw new Error('redis away');
          ordered.push(provider);
          return counts[provider]!;
        },
      },
      intervalMs: 1_000,
      log,
    });
    expect(await backlog.pass()).toEqual(new Map([['busy', MIN_BACKLOG]]));
    expect(ordered).toEqual(['busy']);
  });
});
