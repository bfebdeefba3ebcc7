import { parseRedisEndpoints, type InputIssue, type RedisConnection } from '@evergreen/core';
import type { RawValues } from './read-variables.ts';

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/**
 * Which Redis the variables describe: REDIS_SENTINELS (with REDIS_SENTINEL_NAME), REDIS_CLUSTER_NODES, or else
 * REDIS_URL. Every inconsistency is an issue naming the variable; no password ever appears in a reason.
 */
export function readRedisConnection(v: RawValues, issues: InputIssue[]): RedisConnection {
  const sentinels = text(v.REDIS_SENTINELS);
  const clusterNodes = text(v.REDIS_CLUSTER_NODES);
  const name = text(v.REDIS_SENTINEL_NAME);
  const sentinelPassword = text(v.REDIS_SENTINEL_PASSWORD);
  const auth = { username: text(v.REDIS_USERNAME), password: text(v.REDIS_PASSWORD) };

  if (sentinels !== null && clusterNodes !== null) {
    issues.push({
      field: 'REDIS_CLUSTER_NODES',
      reason: 'cannot be set with REDIS_SENTINELS: a Redis Cluster fails over by itself, without sentinels',
    });
  }
  if (sentinels === null) {
    if (name !== null) issues.push({ field: 'REDIS_SENTINEL_NAME', reason: 'is only used with REDIS_SENTINELS' });
    if (sentinelPassword !== null) {
      issues.push({ field: 'REDIS_SENTINEL_PASSWORD', reason: 'is only used with REDIS_SENTINELS' });
    }
  }

  if (sentinels !== null) {
    const parsed = parseRedisEndpoints(sentinels, 'REDIS_SENTINELS');
    issues.push(...parsed.issues);
    if (name === null) {
      issues.push({
        field: 'REDIS_SENTINEL_NAME',
        reason: "is required with REDIS_SENTINELS: the primary's name in the sentinels' `sentinel monitor` line",
      });
    }
    return { kind: 'sentinel', sentinels: parsed.endpoints, name: name ?? '', sentinelPassword, auth };
  }
  if (clusterNodes !== null) {
    const parsed = parseRedisEndpoints(clusterNodes, 'REDIS_CLUSTER_NODES');
    issues.push(...parsed.issues);
    const prefix = text(v.EVERGREEN_REDIS_PREFIX) ?? '';
    if (/[{}]/.test(prefix)) {
      issues.push({
        field: 'EVERGREEN_REDIS_PREFIX',
        reason:
          'must not contain braces with REDIS_CLUSTER_NODES: Evergreen hash-tags each queue itself, and a tag in the prefix would put every key in one slot',
      });
    }
    return { kind: 'cluster', nodes: parsed.endpoints, auth };
  }
  return { kind: 'standalone', url: v.REDIS_URL as string, auth };
}
