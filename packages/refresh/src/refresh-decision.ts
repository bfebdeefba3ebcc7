/** What the job that ran a refresh should do next: the worker maps each kind onto BullMQ at the edge. */
export type RefreshDecision =
  /** Run the connection's job again at `runAt` (the next refresh, a retry, or a re-check). */
  | { kind: 'delay'; runAt: number; why: 'scheduled' | 'not_due' | 'retry' | 'locked' | 'fenced' | 'unknown_provider' }
  /** The provider said 429: pause its whole queue this long; the attempt does not count. */
  | { kind: 'rate_limited'; retryAfterMs: number }
  /** Nothing left to schedule: the connection is gone, not live, or never expires. */
  | { kind: 'done'; why: string }
  /** The connection needs a person (needs_reauth, error): no retry. */
  | { kind: 'stop'; status: 'needs_reauth' | 'error'; reason: string };
