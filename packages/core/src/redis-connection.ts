import type { InputIssue } from './errors.ts';

/** A Redis node or sentinel as `host:port`. */
export interface RedisEndpoint {
  host: string;
  port: number;
}

/** Credentials for the data nodes (primaries and replicas); Redis 6 ACL user when `username` is set. */
export interface RedisAuth {
  username: string | null;
  password: string | null;
}

/**
 * Where Evergreen's Redis is, in the three shapes production runs it: one server (a URL), a primary watched by
 * Sentinel (the client asks the sentinels who the primary is, and asks again after a failover), or a Redis Cluster
 * (the client follows the slot map). Built once from the environment by the config; `createRedis` turns it into
 * clients.
 */
export type RedisConnection =
  | { kind: 'standalone'; url: string; auth: RedisAuth }
  | {
      kind: 'sentinel';
      sentinels: RedisEndpoint[];
      /** The primary's name in the sentinels' configuration (`sentinel monitor <name> ...`). */
      name: string;
      /** The sentinels' own password (`requirepass` in sentinel.conf), if they have one. */
      sentinelPassword: string | null;
      auth: RedisAuth;
    }
  | { kind: 'cluster'; nodes: RedisEndpoint[]; auth: RedisAuth };

const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)$/;

/**
 * `host:port,host:port,...` (REDIS_SENTINELS, REDIS_CLUSTER_NODES): every entry checked, each problem an issue naming
 * `field` and the entry. An IPv6 host is written in brackets (`[::1]:26379`). Never empty when there are no issues.
 */
export function parseRedisEndpoints(text: string, field: string): { endpoints: RedisEndpoint[]; issues: InputIssue[] } {
  const endpoints: RedisEndpoint[] = [];
  const issues: InputIssue[] = [];
  const entries = text.split(',').map((e) => e.trim());
  if (entries.every((e) => e === '')) {
    return { endpoints, issues: [{ field, reason: 'must list at least one host:port' }] };
  }
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    if (entry === '') {
      issues.push({ field, reason: `entry ${index + 1} is empty (a stray comma?)` });
      return;
    }
    const colon = entry.lastIndexOf(':');
    const host = colon > 0 ? entry.slice(0, colon) : '';
    const portText = colon > 0 ? entry.slice(colon + 1) : '';
    if (host === '' || !HOST.test(host) || (host.includes(':') && !host.startsWith('['))) {
      issues.push({ field, reason: `entry ${index + 1} ("${entry}") must be host:port` });
      return;
    }
    const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 1 && port <= 65_535)) {
      issues.push({ field, reason: `entry ${index + 1} ("${entry}") needs a port from 1 to 65535` });
      return;
    }
    const bare = host.startsWith('[') ? host.slice(1, -1) : host;
    if (seen.has(`${bare}:${port}`)) {
      issues.push({ field, reason: `entry ${index + 1} ("${entry}") is listed twice` });
      return;
    }
    seen.add(`${bare}:${port}`);
    endpoints.push({ host: bare, port });
  });
  return { endpoints: issues.length > 0 ? [] : endpoints, issues };
}
