/**
 * One queue per provider, so a 429 pauses only that provider (DESIGN.md, BullMQ facts). This is the name of its
 * first (or only) queue on a single Redis; `QueueLayout` names the others and the hash-tagged ones of a cluster.
 */
export function queueName(provider: string): string {
  return `refresh-${provider}`;
}

export const REFRESH_JOB = 'refresh';

/** The only thing a job carries (invariant 2): never a token. */
export interface RefreshJobData {
  connectionId: string;
}
