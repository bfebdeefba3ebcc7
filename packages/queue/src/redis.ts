import type { RedisConnection } from '@evergreen/core';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

/** A client of Evergreen's Redis: one connection to a server (alone or found through Sentinel), or a Cluster. */
export type RedisClient = Redis | Cluster;

/** Reconnect forever, backing off to 2 s: an outage (or a failover) costs a delay, never the process. */
const reconnectDelay = (times: number) => Math.min(times * 100, 2_000);

/**
 * After a failover the old primary, if it comes back, is a replica: a client still talking to it gets READONLY on
 * its first write. Reconnecting (2: and resending that command) makes the client ask the sentinels again.
 */
const reconnectOnReadOnly = (error: Error) => (error.message.startsWith('READONLY') ? 2 : false);

/**
 * Two kinds of Redis client (DESIGN.md, BullMQ facts): workers block and must ride out an outage, so their commands
 * wait for the connection forever; producers must fail fast, so a Redis outage turns into "scheduling pending"
 * instead of a hung enqueueConnection(). A string is a standalone Redis URL.
 */
export function createRedis(
  connection: RedisConnection | string,
  role: 'worker' | 'producer',
  extra: RedisOptions = {},
): RedisClient {
  const target: RedisConnection =
    typeof connection === 'string'
      ? { kind: 'standalone', url: connection, auth: { username: null, password: null } }
      : connection;
  const base: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000, commandTimeout: 5_000 };
  const auth: RedisOptions = {
    ...(target.auth.username !== null && { username: target.auth.username }),
    ...(target.auth.password !== null && { password: target.auth.password }),
  };
  switch (target.kind) {
    case 'standalone':
      return new Redis(withAuth(target.url, target.auth), { ...base, retryStrategy: reconnectDelay, ...extra });
    case 'sentinel':
      return new Redis({
        ...base,
        sentinels: target.sentinels,
        name: target.name,
        ...(target.sentinelPassword !== null && { sentinelPassword: target.sentinelPassword }),
        ...auth,
        retryStrategy: reconnectDelay,
        sentinelRetryStrategy: reconnectDelay,
        // Not ioredis's `failoverDetector`: its +switch-master handler closes the connector even while the client is
        // reconnecting (the primary just died), and that reconnect then fails with "Connection is closed." and leaves
        // the client ended for good (ioredis 5.11, SentinelConnector.connect; seen in test/redis-sentinel.test.ts).
        // A client learns of a failover when its connection to the dead primary breaks, or from READONLY below when
        // the old primary is still reachable as a replica.
        reconnectOnError: reconnectOnReadOnly,
        ...extra,
      });
    case 'cluster': {
      const { enableOfflineQueue, ...nodeOptions } = { ...base, ...extra };
      const options: ClusterOptions = {
        redisOptions: { ...nodeOptions, ...auth },
        clusterRetryStrategy: reconnectDelay,
        // A cluster answers MOVED/TRYAGAIN/CLUSTERDOWN while a failover settles: wait briefly and follow it.
        retryDelayOnFailover: 200,
        retryDelayOnClusterDown: 300,
        retryDelayOnTryAgain: 200,
        slotsRefreshTimeout: 2_000,
        enableReadyCheck: true,
        ...(enableOfflineQueue !== undefined && { enableOfflineQueue }),
      };
      return new Cluster(target.nodes, options);
    }
  }
}

/**
 * REDIS_USERNAME / REDIS_PASSWORD over the URL's own: written into the URL, because ioredis lets a URL's credentials
 * win over the options given beside it.
 */
function withAuth(url: string, auth: RedisConnection['auth']): string {
  if (auth.username === null && auth.password === null) return url;
  const parsed = new URL(url);
  if (auth.username !== null) parsed.username = encodeURIComponent(auth.username);
  if (auth.password !== null) parsed.password = encodeURIComponent(auth.password);
  return parsed.toString();
}
