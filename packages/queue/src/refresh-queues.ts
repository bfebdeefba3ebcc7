import { Queue, type JobsOptions } from 'bullmq';
import { defineCommands, type EvergreenCommands } from './commands.ts';
import { QueueLayout } from './queue-layout.ts';
import { REFRESH_JOB, type RefreshJobData } from './queue-names.ts';
import type { RedisClient } from './redis.ts';

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
 * BullMQ's workers honour a pause set with `queue.rateLimit` (a 429's Retry-After, an open breaker, an exhausted
 * send slot) only when they have a limiter: its `max` is what the pause's counter is compared with. Without one, only
 * the worker that met the 429 waited, and every other process kept sending into the provider's Retry-After. This
 * `max` is out of reach within its `duration`, so the limiter never throttles by itself; a provider's declared rate
 * is spent by the send slots.
 */
export const PAUSE_ONLY_LIMITER = { max: 2 ** 31, duration: 1_000 } as const;

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
  readonly #redis: RedisClient & EvergreenCommands;
  readonly #prefix: string;
  readonly layout: QueueLayout;
  readonly #queues = new Map<string, Queue<RefreshJobData>>();

  constructor(redis: RedisClient, prefix: string, layout: QueueLayout = new QueueLayout()) {
    defineCommands(redis);
    this.#redis = redis;
    this.#prefix = prefix;
    this.layout = layout;
  }

  /**
   * The provider's queue, when it has only one (its entry and EVERGREEN_QUEUE_SHARDS leave it unsharded): what tests
   * and single-queue tools read. Code that may meet a sharded provider uses `queueFor` or `queuesOf`.
   */
  queue(provider: string): Queue<RefreshJobData> {
    const names = this.layout.names(provider);
    if (names.length !== 1) {
      throw new Error(`provider ${provider} has ${names.length} queues: use queueFor(provider, connectionId)`);
    }
    return this.#named(names[0]!);
  }

  /** The queue holding this connection's job. */
  queueFor(provider: string, connectionId: string): Queue<RefreshJobData> {
    return this.#named(this.layout.nameFor(provider, connectionId));
  }

  /** Every queue of the provider (its shards), shard 0 first. */
  queuesOf(provider: string): Queue<RefreshJobData>[] {
    return this.layout.names(provider).map((name) => this.#named(name));
  }

  /**
   * Pauses every queue of the provider for `ms` (its 429): the provider's limit is one, however many queues feed it.
   */
  async rateLimit(provider: string, ms: number): Promise<void> {
    await Promise.all(this.queuesOf(provider).map((queue) => queue.rateLimit(ms)));
  }

  /** Adds new jobs (`refreshJob`s) of one provider, each to its connection's queue, one bulk add per queue. */
  async addBulk(provider: string, jobs: readonly ReturnType<typeof refreshJob>[]): Promise<void> {
    const byQueue = new Map<string, ReturnType<typeof refreshJob>[]>();
    for (const job of jobs) {
      const name = this.layout.nameFor(provider, job.data.connectionId);
      const group = byQueue.get(name);
      if (group) group.push(job);
      else byQueue.set(name, [job]);
    }
    await Promise.all([...byQueue].map(([name, group]) => this.#named(name).addBulk(group)));
  }

  #named(name: string): Queue<RefreshJobData> {
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = new Queue<RefreshJobData>(name, {
        connection: this.#redis,
        prefix: this.#prefix,
        defaultJobOptions: JOB_OPTIONS,
        skipWaitingForReady: true,
      });
      // Errors surface through the calls that fail; an unhandled 'error' event would crash the process.
      queue.on('error', () => {});
      this.#queues.set(name, queue);
    }
    return queue;
  }

  /**
   * Makes the connection's one job due at `runAt`. BullMQ silently ignores an add whose id exists, so an existing
   * job is moved instead: a delayed one gets the new delay, a finished one is replaced, and one that is waiting or
   * running is left alone, because its run re-reads the row and reschedules from it.
   */
  async schedule(provider: string, connectionId: string, runAt: number, now = Date.now()): Promise<ScheduleResult> {
    const queue = this.queueFor(provider, connectionId);
    const state = await queue.getJobState(connectionId);
    switch (state) {
      case 'delayed':
        try {
          const job = await queue.getJob(connectionId);
          if (job) {
            // From the time it is sent: the state and job reads above took round trips of their own.
            await job.changeDelay(Math.max(0, Math.round(runAt - Date.now())));
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

  /**
   * Which of these connections have a job of any kind: one pipelined round trip for the reconcile (one per queue on
   * a Redis Cluster, where a pipeline's keys must live on one node; a queue's keys share a slot).
   */
  async existing(rows: readonly { id: string; provider: string }[]): Promise<boolean[]> {
    if (rows.length === 0) return [];
    const found = new Array<boolean>(rows.length).fill(false);
    const groups = new Map<Queue<RefreshJobData> | null, number[]>();
    rows.forEach((row, index) => {
      const key = this.layout.hashTags ? this.queueFor(row.provider, row.id) : null;
      const group = groups.get(key);
      if (group) group.push(index);
      else groups.set(key, [index]);
    });
    await Promise.all(
      [...groups.values()].map(async (indexes) => {
        const pipeline = this.#redis.pipeline();
        for (const i of indexes) pipeline.exists(this.queueFor(rows[i]!.provider, rows[i]!.id).toKey(rows[i]!.id));
        const results = (await pipeline.exec()) ?? [];
        results.forEach(([error, count], j) => {
          found[indexes[j]!] = error === null && Number(count) > 0;
        });
      }),
    );
    return found;
  }

  /** The provider's waiting jobs (connection ids), the next to run first. */
  async waiting(provider: string): Promise<string[]> {
    const lists = await Promise.all(
      this.queuesOf(provider).map(async (queue) => (await this.#redis.lrange(queue.toKey('wait'), 0, -1)).reverse()),
    );
    // The wait list's right end runs first; BullMQ's legacy markers ("0:...") are not jobs. Shards one after another.
    return lists.flat().filter((id) => !id.startsWith('0:'));
  }

  /** How many jobs of the provider wait (every shard): one LLEN per queue. */
  async waitingCount(provider: string): Promise<number> {
    const lengths = await Promise.all(this.queuesOf(provider).map((queue) => this.#redis.llen(queue.toKey('wait'))));
    return lengths.reduce((sum, n) => sum + n, 0);
  }

  /**
   * Puts the provider's waiting jobs in this order (the first runs first), in one atomic step per queue
   * (commands/order-wait-list.lua; each of a sharded provider's queues gets its own jobs, in the same relative order);
   * jobs that arrived meanwhile wait behind them. Returns how many were placed.
   */
  async orderWaiting(provider: string, connectionIds: readonly string[]): Promise<number> {
    if (connectionIds.length === 0) return 0;
    const byQueue = new Map<string, string[]>();
    for (const id of connectionIds) {
      const name = this.layout.nameFor(provider, id);
      const group = byQueue.get(name);
      if (group) group.push(id);
      else byQueue.set(name, [id]);
    }
    const placed = await Promise.all(
      [...byQueue].map(([name, ids]) => this.#redis.evergreenOrderWaitList(this.#named(name).toKey('wait'), ...ids)),
    );
    return placed.reduce((sum, n) => sum + n, 0);
  }

  /**
   * How long the provider's pause (`rateLimit`: a 429's Retry-After, an open breaker) still runs, 0 when none: one
   * script (commands/pause-remaining.lua) on the key BullMQ's workers wait on (shard 0's: `rateLimit` sets them all).
   */
  async pausedForMs(provider: string): Promise<number> {
    const key = this.queuesOf(provider)[0]!.toKey('limiter');
    return Math.max(0, await this.#redis.evergreenPauseRemaining(key, PAUSE_ONLY_LIMITER.max));
  }

  /** Ends a pause `rateLimit` set on every queue of the provider. */
  async removeRateLimit(provider: string): Promise<void> {
    await Promise.all(this.queuesOf(provider).map((queue) => queue.removeRateLimitKey()));
  }

  /** Moves delayed jobs of these connections to the wait list now (their connections are due). */
  async promote(provider: string, connectionIds: readonly string[]): Promise<void> {
    for (const id of connectionIds) {
      const job = await this.queueFor(provider, id).getJob(id);
      // Not delayed (any more): waiting or running already, which is what promoting asks for.
      await job?.promote().catch(() => {});
    }
  }

  async unschedule(provider: string, connectionId: string): Promise<void> {
    await this.queueFor(provider, connectionId).remove(connectionId);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#queues.values()].map((q) => q.close()));
    this.#queues.clear();
  }
}
