import type { EvergreenConfig } from '@evergreen/config';
import { QueueLayout } from '@evergreen/queue';

/**
 * Which queues each provider has, the same in every process of this Evergreen: hash-tagged on a Redis Cluster (each
 * queue in one slot, the queues spread over the shards), split into EVERGREEN_QUEUE_SHARDS or the entry's
 * `queueShards`.
 */
export function queueLayout(config: Pick<EvergreenConfig, 'redis' | 'queueShards' | 'providers'>): QueueLayout {
  const shards = new Map<string, number>();
  for (const provider of config.providers) {
    if (provider.queueShards !== null) shards.set(provider.id, provider.queueShards);
  }
  return new QueueLayout({ hashTags: config.redis.kind === 'cluster', defaultShards: config.queueShards, shards });
}
