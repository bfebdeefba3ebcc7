import { decodeJwt } from 'jose';
import { isStorableTime } from './storable.ts';

export type ExpirySource = 'expires_in' | 'expires_at' | 'jwt' | 'default' | 'unknown';

export interface ExpiryInput {
  /** When the request that produced the token started: the provider's clock counted from then, not from our reply. */
  now: number;
  expiresInSeconds?: number | undefined;
  expiresAt?: number | undefined;
  accessToken: string;
  /** When the provider says it issued the token (Salesforce): its default lifetime counts from there. */
  issuedAt?: number | undefined;
  /** The provider's declared lifetime for tokens that do not say; null when it declares none. */
  defaultLifetimeSeconds: number | null;
}

/**
 * Expiry by DESIGN.md invariant 7's order: what the caller or provider said (`expires_in`, an absolute time), else the
 * JWT `exp` claim (decimals allowed), else the provider's declared default lifetime (from the issue time when the
 * provider gives one), else unknown. A source that names a time no row can hold (`expires_in: 1e300`) is unusable, as
 * if absent: the next one decides.
 */
export function resolveExpiry(input: ExpiryInput): { expiresAt: number | null; source: ExpirySource } {
  if (input.expiresInSeconds !== undefined) {
    const expiresAt = Math.round(input.now + input.expiresInSeconds * 1_000);
    if (isStorableTime(expiresAt)) return { expiresAt, source: 'expires_in' };
  }
  if (input.expiresAt !== undefined && isStorableTime(input.expiresAt)) {
    return { expiresAt: input.expiresAt, source: 'expires_at' };
  }
  const jwtExp = jwtExpiry(input.accessToken);
  if (jwtExp !== null) return { expiresAt: jwtExp, source: 'jwt' };
  if (input.defaultLifetimeSeconds !== null) {
    // An issue time in our future is the provider's clock running ahead: never credit the token with more life.
    const from = input.issuedAt !== undefined ? Math.min(input.issuedAt, input.now) : input.now;
    const expiresAt = from + input.defaultLifetimeSeconds * 1_000;
    if (isStorableTime(expiresAt)) return { expiresAt, source: 'default' };
  }
  return { expiresAt: null, source: 'unknown' };
}

/**
 * The `exp` claim in epoch ms, or null for an opaque token or a JWT without a usable (positive, storable) `exp`.
 * Never throws.
 */
export function jwtExpiry(token: string): number | null {
  if (token.split('.').length !== 3) return null;
  try {
    const { exp } = decodeJwt(token);
    if (typeof exp !== 'number' || !(exp > 0)) return null;
    const ms = Math.round(exp * 1_000);
    return isStorableTime(ms) ? ms : null;
  } catch {
    return null;
  }
}
