import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { defineCommands, type EvergreenCommands } from './commands.ts';
import { queueName, REFRESH_JOB, type RefreshJobData } from './queue-names.ts';

export type ScheduleResult = 'added' | 'moved' | 'replaced' | 'in_flight';

/** A connection's job as its row says: due at `runAt` (epoch ms), or none at all (null: nothing to refresh). */
export interface ScheduleItem {
  provider: string;
  connectionId: string;
  runAt: number | null;
}

/** One item's outcome: what `schedule` did (`removed`: a job of a connection that needs none), or why it failed. */
export type ScheduleManyResult = PromiseSettledResult<ScheduleResult | 'removed'>;

/**
 * Retries are ours (backoff, cooldown, 429s), so BullMQ runs each job once: that is its default. The key is present but
 * undefined on purpose: BullMQ would otherwise write `"attempts":0` into every job's stored options, 13 bytes that
 * push the field past Redis's default `hash-max-listpack-value` of 64 and double the job hash's memory.
 */
const JOB_OPTIONS: JobsOptions = { attempts: undefined };

/**
 * The longest delay a job is added with: 7 digits. A job's stored options are `{"jobId":"<uuid>","delay":N}`, 64
 * bytes with 7 digits, so the hash stays a listpack on a default Redis (328 against 656 bytes per job; a producer's
 * own connection id longer than a UUID's 36 characters costs the larger encoding). Only the add stores the delay
 * there (moves change a separate field), so a connection due later wakes once, finds the row not due and moves its
 * job to the real time.
 */
export const MAX_ADD_DELAY_MS = 9_999_999;

/** The job that schedules a connection: its id is the connection's, due at `runAt` (capped, see MAX_ADD_DELAY_MS). */
export function refreshJob(connectionId: string, runAt: number, now: number) {
  return {
    name: REFRESH_JOB,
    data: { connectionId } satisfies RefreshJobData,
    opts: { jobId: connectionId, delay: Math.min(MAX_ADD_DELAY_MS, Math.max(0, Math.round(runAt - now))) },
  };
}

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
  readonly #redis: Redis & EvergreenCommands;
  readonly #prefix: string;
  readonly #queues = new Map<string, Queue<RefreshJobData>>();

  constructor(redis: Redis, prefix: string) {
    defineCommands(redis);
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
        await this.#add(queue, connectionId, runAt, now);
        return 'replaced';
      default:
        break;
    }
    await this.#add(queue, connectionId, runAt, now);
    return 'added';
  }

  /**
   * Puts many connections' jobs where their rows say, at most `concurrency` exchanges with Redis in flight: each is
   * short (read the state, then move) and independent of the others, so a few side by side go fast on a big batch
   * without opening thousands of calls at once. Every item settles, in its own position; nothing rejects.
   */
  async scheduleMany(
    items: readonly ScheduleItem[],
    options: { concurrency: number; now?: () => number },
  ): Promise<ScheduleManyResult[]> {
    const now = options.now ?? Date.now;
    const results = new Array<ScheduleManyResult>(items.length);
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < items.length) {
        const index = next++;
        try {
          results[index] = { status: 'fulfilled', value: await this.#place(items[index]!, now) };
        } catch (reason) {
          results[index] = { status: 'rejected', reason };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(Math.max(1, options.concurrency), items.length) }, lane));
    return results;
  }

  async #place(item: ScheduleItem, now: () => number): Promise<ScheduleResult | 'removed'> {
    if (item.runAt === null) {
      await this.unschedule(item.provider, item.connectionId);
      return 'removed';
    }
    return this.schedule(item.provider, item.connectionId, item.runAt, now());
  }

  async #add(queue: Queue<RefreshJobData>, connectionId: string, runAt: number, now: number): Promise<void> {
    const job = refreshJob(connectionId, runAt, now);
    await queue.add(job.name, job.data, job.opts);
  }

  /** Which of these connections have a job of any kind: one pipelined round trip for the reconcile. */
  async existing(rows: readonly { id: string; provider: string }[]): Promise<boolean[]> {
    if (rows.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const row of rows) pipeline.exists(this.queue(row.provider).toKey(row.id));
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, count]) => error === null && Number(count) > 0);
  }

  /** The provider's waiting jobs (connection ids), the next to run first. */
  async waiting(provider: string): Promise<string[]> {
    const ids = await this.#redis.lrange(this.queue(provider).toKey('wait'), 0, -1);
    // The wait list's right end runs first; BullMQ's legacy markers ("0:...") are not jobs.
    return ids.filter((id) => !id.startsWith('0:')).reverse();
  }

  /**
   * Puts the provider's waiting jobs in this order (the first runs first), in one atomic step
   * (commands/order-wait-list.lua); jobs that arrived meanwhile wait behind them. Returns how many were placed.
   */
  async orderWaiting(provider: string, connectionIds: readonly string[]): Promise<number> {
    if (connectionIds.length === 0) return 0;
    return this.#redis.evergreenOrderWaitList(this.queue(provider).toKey('wait'), ...connectionIds);
  }

  /** Moves delayed jobs of these connections to the wait list now (their connections are due). */
  async promote(provider: string, connectionIds: readonly string[]): Promise<void> {
    const queue = this.queue(provider);
    for (const id of connectionIds) {
      const job = await queue.getJob(id);
      // Not delayed (any more): waiting or running already, which is what promoting asks for.
      await job?.promote().catch(() => {});
    }
  }

  async unschedule(provider: string, connectionId: string): Promise<void> {
    await this.queue(provider).remove(connectionId);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#queues.values()].map((q) => q.close()));
    this.#queues.clear();
  }
}
