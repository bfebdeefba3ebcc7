import { queueName } from './queue-names.ts';

export interface QueueLayoutOptions {
  /**
   * Wrap each queue's name in a Redis Cluster hash tag (`{refresh-acme}`): all of one queue's keys then share a slot,
   * as BullMQ's scripts need, while different queues hash to different slots and spread over the shards.
   */
  hashTags?: boolean;
  /** Queues per provider when its entry does not say (EVERGREEN_QUEUE_SHARDS). */
  defaultShards?: number;
  /** Per provider, its entry's `queueShards`. */
  shards?: ReadonlyMap<string, number>;
}

/**
 * Which BullMQ queue holds a connection's job. A provider has `n` queues (shards); a connection always lands in the
 * same one, chosen by a hash of its id, so its one job is always found where it was put. Shard 0 keeps the plain name
 * (`refresh-acme`), so a deployment that never shards keeps its keys; the others are `refresh-acme.1` and so on ("."
 * cannot occur in a provider id). Pure: the same layout on every process is what makes producers, workers and the
 * reconcile agree.
 *
 * Changing a provider's shard count moves most connections to another queue: their old jobs stay where they were
 * (run by nobody if that shard is gone) until they are removed, while the reconcile adds the new ones (docs/redis.md).
 */
export class QueueLayout {
  readonly hashTags: boolean;
  readonly #default: number;
  readonly #shards: ReadonlyMap<string, number>;

  constructor(options: QueueLayoutOptions = {}) {
    this.hashTags = options.hashTags ?? false;
    this.#default = options.defaultShards ?? 1;
    this.#shards = options.shards ?? new Map();
  }

  shardCount(provider: string): number {
    return this.#shards.get(provider) ?? this.#default;
  }

  /** Every queue of a provider, shard 0 first. */
  names(provider: string): string[] {
    return Array.from({ length: this.shardCount(provider) }, (_, shard) => this.#name(provider, shard));
  }

  /** The queue holding `connectionId`'s job. */
  nameFor(provider: string, connectionId: string): string {
    return this.#name(provider, shardOf(connectionId, this.shardCount(provider)));
  }

  #name(provider: string, shard: number): string {
    const name = shard === 0 ? queueName(provider) : `${queueName(provider)}.${shard}`;
    return this.hashTags ? `{${name}}` : name;
  }
}

/** FNV-1a over the id's UTF-16 code units, reduced to a shard: stable across processes and releases, and cheap. */
export function shardOf(connectionId: string, shards: number): number {
  if (shards <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < connectionId.length; i++) {
    hash ^= connectionId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shards;
}
