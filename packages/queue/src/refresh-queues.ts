import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { queueName, REFRESH_JOB, type RefreshJobData } from './queue-names.ts';

export type ScheduleResult = 'added' | 'moved' | 'replaced' | 'in_flight';

const JOB_OPTIONS: JobsOptions = {
  // Retries are ours (backoff, cooldown, 429s); BullMQ's attempt counter only ever sees one.
  attempts: 1,
};

/**
 * How long finished jobs stay, given to the workers rather than stored in every job: a job's options are kept in its
 * Redis hash, and these two made that field 80 bytes longer in each of a million waiting jobs
 * (docs/benchmarks/README.md). BullMQ falls back to the worker's settings for jobs that carry none.
 */
export const FINISHED_JOB_RETENTION = {
  removeOnComplete: { age: 3_600, count: 1_000 },
  // Failed jobs are the connections that need a person (needs_reauth, error): keep a week of them for Bull Board.
  removeOnFail: { age: 7 * 24 * 3_600, count: 10_000 },
} as const satisfies Pick<JobsOptions, 'removeOnComplete' | 'removeOnFail'>;

/**
 * The producer side of the per-provider queues. A job's id is its connection id, so there is at most one job per
 * connection and operators find it by id in Bull Board.
 */
export class RefreshQueues {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #queues = new Map<string, Queue<RefreshJobData>>();

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  queue(provider: string): Queue<RefreshJobData> {
    let queue = this.#queues.get(provider);
    if (!queue) {
      queue = new Queue<RefreshJobData>(queueName(provider), {
        connection: this.#redis,
        prefix: this.#prefix,
        defaultJobOptions: JOB_OPTIONS,
        skipWaitingForReady: true,
      });
      // Errors surface through the calls that fail; an unhandled 'error' event would crash the process.
      queue.on('error', () => {});
      this.#queues.set(provider, queue);
    }
    return queue;
  }

  /**
   * Makes the connection's one job due at `runAt`. BullMQ silently ignores an add whose id exists, so an existing
   * job is moved instead: a delayed one gets the new delay, a finished one is replaced, and one that is waiting or
   * running is left alone, because its run re-reads the row and reschedules from it.
   */
  async schedule(provider: string, connectionId: string, runAt: number, now = Date.now()): Promise<ScheduleResult> {
    const queue = this.queue(provider);
    const delay = Math.max(0, Math.round(runAt - now));
    const state = await queue.getJobState(connectionId);
    switch (state) {
      case 'delayed':
        try {
          const job = await queue.getJob(connectionId);
          if (job) {
            await job.changeDelay(delay);
            return 'moved';
          }
        } catch {
          // Promoted or taken between the two calls: it is in flight now.
          return 'in_flight';
        }
        break;
      case 'active':
      case 'waiting':
      case 'prioritized':
      case 'waiting-children':
        return 'in_flight';
      case 'completed':
      case 'failed':
        await queue.remove(connectionId);
        await queue.add(REFRESH_JOB, { connectionId }, { jobId: connectionId, delay });
        return 'replaced';
      default:
        break;
    }
    await queue.add(REFRESH_JOB, { connectionId }, { jobId: connectionId, delay });
    return 'added';
  }

  /** Which of these connections have a job of any kind: one pipelined round trip for the reconcile. */
  async existing(rows: readonly { id: string; provider: string }[]): Promise<boolean[]> {
    if (rows.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const row of rows) pipeline.exists(this.queue(row.provider).toKey(row.id));
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, count]) => error === null && Number(count) > 0);
  }

  async unschedule(provider: string, connectionId: string): Promise<void> {
    await this.queue(provider).remove(connectionId);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#queues.values()].map((q) => q.close()));
    this.#queues.clear();
  }
}
