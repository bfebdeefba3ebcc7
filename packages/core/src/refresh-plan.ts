import { resolveExpiry } from './expiry.ts';
import type { ProviderDefinition } from './provider-definition.ts';
import { isStorableTime } from './storable.ts';
import { computeRefreshAt, type RefreshTimingPolicy } from './timing.ts';
import type { TokenSet } from './token-set.ts';

export interface RefreshPlanInput {
  /** Now, when planning. */
  now: number;
  /** When the request that produced the tokens started (or now, for tokens a producer hands over). */
  issuedFrom: number;
  tokens: TokenSet;
  provider: Pick<
    ProviderDefinition,
    | 'grant'
    | 'defaultLifetimeSeconds'
    | 'keepAliveSeconds'
    | 'refreshTokenLifetimeSeconds'
    | 'refreshTokenWarningSeconds'
    | 'rotation'
  >;
  /** Whether the connection has anything to renew with (a refresh token, or a credential grant). */
  renewable: boolean;
  /** What the row holds now: the refresh token, when it lapses, and whether that was already announced. */
  current: { refreshToken: string | null; refreshTokenExpiresAt: number | null; refreshTokenWarned: boolean };
  timing: RefreshTimingPolicy;
  /** Never plan the next refresh sooner than this after now (0 for a producer's tokens). */
  minIntervalMs: number;
  random: () => number;
}

export interface RefreshPlan {
  expiresAt: number | null;
  /** When the next job runs; null: nothing to renew, or nothing known to renew for. */
  refreshAt: number | null;
  /** undefined: keep what the row has. */
  refreshTokenExpiresAt: number | null | undefined;
  /** The refresh token lapses within the provider's warning window and nobody has been told yet. */
  warnRefreshTokenExpiry: boolean;
}

/**
 * Everything that follows from a set of tokens: when the access token dies, when to renew it, when the refresh token
 * itself lapses. The access token's expiry sets the schedule (invariant 7); a keep-alive caps the gap for refresh
 * tokens that die unused and for tokens nobody knows the expiry of; a rotating provider is refreshed before its
 * refresh token lapses, since the refresh brings a new one.
 */
export function planRefresh(input: RefreshPlanInput): RefreshPlan {
  const { now, tokens, provider } = input;
  const { expiresAt } = resolveExpiry({
    now: input.issuedFrom,
    expiresInSeconds: tokens.expiresInSeconds,
    expiresAt: tokens.expiresAt,
    issuedAt: tokens.issuedAt,
    accessToken: tokens.accessToken,
    defaultLifetimeSeconds: provider.defaultLifetimeSeconds,
  });

  const freshRefreshToken = tokens.refreshToken !== undefined && tokens.refreshToken !== input.current.refreshToken;
  // undefined keeps what the row has; a new refresh token whose lifetime nobody states has an unknown one (null), never
  // the lifetime of the token it replaced. A lifetime that ends after any time a row can hold is no known lapse either.
  const lapse = (seconds: number) => {
    const at = Math.round(input.issuedFrom + seconds * 1_000);
    return isStorableTime(at) ? at : null;
  };
  let refreshTokenExpiresAt: number | null | undefined;
  if (tokens.refreshTokenExpiresInSeconds !== undefined) {
    refreshTokenExpiresAt = lapse(tokens.refreshTokenExpiresInSeconds);
  } else if (freshRefreshToken) {
    refreshTokenExpiresAt =
      provider.refreshTokenLifetimeSeconds === null ? null : lapse(provider.refreshTokenLifetimeSeconds);
  }
  const rtExpiresAt = refreshTokenExpiresAt === undefined ? input.current.refreshTokenExpiresAt : refreshTokenExpiresAt;
  const alreadyWarned = input.current.refreshTokenWarned && !freshRefreshToken;
  const withinWarning = rtExpiresAt !== null && rtExpiresAt - now <= provider.refreshTokenWarningSeconds * 1_000;
  // A rotating provider hands out a new refresh token with each refresh, and the schedule refreshes before the
  // current one lapses: only a refresh token that nothing will replace is worth a warning.
  const replacedInTime = provider.rotation.rotates !== 'never' && input.renewable && provider.grant !== 'none';
  const warnRefreshTokenExpiry = withinWarning && !replacedInTime && !alreadyWarned;

  if (!input.renewable || provider.grant === 'none') {
    return { expiresAt, refreshAt: null, refreshTokenExpiresAt, warnRefreshTokenExpiry };
  }
  const keepAliveMs = provider.keepAliveSeconds === null ? null : provider.keepAliveSeconds * 1_000;
  const notBefore = now + input.minIntervalMs;
  let refreshAt = computeRefreshAt(
    { now, expiresAt, notBefore, unknownExpiryIntervalMs: keepAliveMs },
    input.timing,
    input.random,
  );
  if (refreshAt !== null && keepAliveMs !== null)
    refreshAt = Math.min(refreshAt, Math.max(notBefore, now + keepAliveMs));
  if (refreshAt !== null && rtExpiresAt !== null && provider.rotation.rotates !== 'never') {
    refreshAt = Math.min(refreshAt, Math.max(notBefore, rtExpiresAt - input.timing.bufferMs));
  }
  return { expiresAt, refreshAt, refreshTokenExpiresAt, warnRefreshTokenExpiry };
}
