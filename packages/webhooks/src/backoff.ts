import type { BackoffPolicy } from '@evergreen/core';

/**
 * Webhook retries in core's backoff (`retryDelayMs`): exponential from `baseMs`, capped at `maxMs`, with full jitter
 * down to zero (a retry costs the endpoint one request, so no floor is needed), and no cooldown cadence: the dispatcher
 * gives a delivery up after its last attempt instead.
 */
export function deliveryBackoff(options: { baseMs: number; maxMs: number }): BackoffPolicy {
  return {
    baseMs: options.baseMs,
    capMs: options.maxMs,
    attempts: Number.POSITIVE_INFINITY,
    cooldownMs: options.maxMs,
    minMs: 0,
  };
}
