import type { RefreshConfig } from '@evergreen/config';
import type { ProviderDefinition, RefreshTimingPolicy } from '@evergreen/core';

/** The provider's buffer with the deployment's clamp and jitter: one definition for enqueue and refresh alike. */
export function timingPolicyFor(provider: ProviderDefinition, config: RefreshConfig): RefreshTimingPolicy {
  return {
    bufferMs: provider.refreshBufferSeconds * 1_000,
    shortLifetimeFraction: config.shortLifetimeFraction,
    jitterMs: config.jitterMs,
  };
}
