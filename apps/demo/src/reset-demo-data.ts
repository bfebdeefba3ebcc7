import { createRedis } from '@evergreen/queue';
import { dropSchema } from '@evergreen/store';

/** Drops the demo schema and deletes the demo's Redis keys: every run starts from nothing. */
export async function resetDemoData(
  databaseUrl: string,
  redisUrl: string,
  schema: string,
  prefix: string,
): Promise<void> {
  await dropSchema({ url: databaseUrl, schema });
  const redis = createRedis(redisUrl, 'producer', { enableOfflineQueue: true });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
