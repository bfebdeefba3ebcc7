/** One queue per provider, so a 429 pauses only that provider (DESIGN.md, BullMQ facts). */
export function queueName(provider: string): string {
  return `refresh-${provider}`;
}

export const REFRESH_JOB = 'refresh';

/** The only thing a job carries (invariant 2): never a token. */
export interface RefreshJobData {
  connectionId: string;
}
