import { randomUUID } from 'node:crypto';
import { FINISHED_JOB_RETENTION, refreshJob } from '@evergreen/queue';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { BenchSandbox } from './bench-sandbox.ts';
import { redisCensus, type RedisCensus } from './redis-census.ts';
import { sleep } from './stats.ts';

export interface NoopQueueResult {
  concurrency: number;
  jobsPerSecond: number;
  /** Jobs waiting when the window began; enough for the window at NOOP_CEILING. */
  backlog: number;
  /** Jobs still waiting when it ended: 0 means the backlog ran dry, and the rate is a lower bound. */
  backlogLeft: number;
  /** Redis's work per no-op job, by script (MONITOR, after the window): what BullMQ itself costs a job. */
  redisCensus?: RedisCensus;
}

/**
 * More no-op jobs a second than one worker process has done on these machines (21,335 at concurrency 16 over a
 * pre-filled backlog): the backlog is sized for it so that it outlasts the window.
 */
const NOOP_CEILING = 30_000;

/** How many jobs to put in before a window of `warmupMs + windowMs`, with a quarter to spare. */
export function noopBacklogFor(warmupMs: number, windowMs: number): number {
  return Math.ceil((NOOP_CEILING * (warmupMs + windowMs) * 1.25) / 1_000);
}

/**
 * BullMQ's own ceiling on this machine: a worker at `concurrency` whose processor does nothing, over a backlog of
 * waiting jobs shaped like refresh jobs (a UUID id, `{ connectionId }` data, the workers' retention settings), counted
 * over a steady window after a warm-up. The backlog is filled before the worker starts and nothing is added while it
 * runs: refilling from the measuring process halved the rate it measured (issue 21).
 */
export async function noopQueueThroughput(
  sandbox: BenchSandbox,
  concurrency: number,
  options: { warmupMs: number; windowMs: number },
): Promise<NoopQueueResult> {
  const name = `noop-c${concurrency}`;
  const connection = new Redis(sandbox.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection, prefix: sandbox.prefix });
  const backlog = noopBacklogFor(options.warmupMs, options.windowMs);
  const now = Date.now();
  for (let filled = 0; filled < backlog; filled += 5_000) {
    const jobs = Array.from({ length: Math.min(5_000, backlog - filled) }, () => refreshJob(randomUUID(), now, now));
    await queue.addBulk(jobs);
  }
  let completed = 0;
  const worker = new Worker(name, async () => {}, {
    connection: new Redis(sandbox.redisUrl, { maxRetriesPerRequest: null }),
    prefix: sandbox.prefix,
    concurrency,
    ...FINISHED_JOB_RETENTION,
  });
  worker.on('completed', () => {
    completed += 1;
  });
  worker.on('error', () => {});
  try {
    await sleep(options.warmupMs);
    const before = completed;
    const t0 = performance.now();
    await sleep(options.windowMs);
    const done = completed - before;
    const seconds = (performance.now() - t0) / 1_000;
    const backlogLeft = await queue.getWaitingCount();
    const census = await redisCensus(sandbox.redisUrl, 1_000, () => Promise.resolve(completed), sandbox.prefix);
    return { concurrency, jobsPerSecond: done / seconds, backlog, backlogLeft, redisCensus: census };
  } finally {
    await worker.close(true);
    await worker.disconnect();
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    connection.disconnect();
  }
}
