import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { BenchSandbox } from './bench-sandbox.ts';
import { sleep } from './stats.ts';

export interface NoopQueueResult {
  concurrency: number;
  jobsPerSecond: number;
}

/**
 * BullMQ's own ceiling on this machine: a worker at `concurrency` whose processor does nothing, over a backlog of
 * waiting jobs, counted over a steady window after a warm-up.
 */
export async function noopQueueThroughput(
  sandbox: BenchSandbox,
  concurrency: number,
  options: { warmupMs: number; windowMs: number; backlog: number },
): Promise<NoopQueueResult> {
  const name = `noop-c${concurrency}`;
  const connection = new Redis(sandbox.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection, prefix: sandbox.prefix });
  let added = 0;
  const add = async (n: number) => {
    const from = added;
    added += n;
    await queue.addBulk(
      Array.from({ length: n }, (_, j) => ({
        name: 'noop',
        data: { connectionId: `noop-${from + j}` },
        opts: { jobId: `noop-${from + j}`, removeOnComplete: true },
      })),
    );
  };
  for (let i = 0; i < options.backlog; i += 5_000) await add(Math.min(5_000, options.backlog - i));
  let completed = 0;
  const worker = new Worker(name, async () => {}, {
    connection: new Redis(sandbox.redisUrl, { maxRetriesPerRequest: null }),
    prefix: sandbox.prefix,
    concurrency,
  });
  worker.on('completed', () => {
    completed += 1;
  });
  worker.on('error', () => {});
  // Never let the backlog run dry: top it up (from this process, a small cost next to the worker's) when it runs low.
  let refilling = true;
  const refill = (async () => {
    while (refilling) {
      if (added - completed < 10_000) await add(5_000);
      await sleep(50);
    }
  })();
  try {
    await sleep(options.warmupMs);
    const before = completed;
    const t0 = performance.now();
    await sleep(options.windowMs);
    const done = completed - before;
    const seconds = (performance.now() - t0) / 1_000;
    return { concurrency, jobsPerSecond: done / seconds };
  } finally {
    refilling = false;
    await refill;
    await worker.close(true);
    await worker.disconnect();
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    connection.disconnect();
  }
}
