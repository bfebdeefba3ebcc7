import type { RefreshPlanInput } from '../src/refresh-plan.ts';
import type { RefreshTimingPolicy } from '../src/timing.ts';

/** The fixed clock, timing policy and provider the refresh-plan and outcome-plan tables start from. */

export const S = 1_000;
export const MIN = 60 * S;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;
export const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);

export const timing: RefreshTimingPolicy = { bufferMs: 5 * MIN, shortLifetimeFraction: 0.5, jitterMs: 30 * S };

/** A refresh-token provider with an hour's default lifetime, no keep-alive, and rotation only sometimes. */
export const baseProvider: RefreshPlanInput['provider'] = {
  grant: 'refresh_token',
  defaultLifetimeSeconds: 3600,
  keepAliveSeconds: null,
  refreshTokenLifetimeSeconds: null,
  refreshTokenWarningSeconds: 7 * 24 * 3600,
  rotation: { rotates: 'sometimes', graceSeconds: 0 },
};
