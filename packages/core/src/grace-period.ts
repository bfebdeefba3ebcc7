import type { ProviderDefinition } from './provider-definition.ts';

/** What the check reads of a connection's row: the refresh token the last rotation replaced, and when. */
export interface RotationRow {
  previousRefreshToken: string | null;
  refreshTokenRotatedAt: Date | null;
}

/**
 * Whether the provider still honours the refresh token the last rotation replaced: it declares a grace period and the
 * rotation is younger than it. Then a refused refresh token (a rotation the provider did not keep, an answer we lost)
 * is worth one retry with the previous one.
 */
export function previousRefreshTokenInGrace(
  provider: Pick<ProviderDefinition, 'grant' | 'rotation'>,
  connection: RotationRow,
  now: number,
): boolean {
  return (
    provider.grant === 'refresh_token' &&
    provider.rotation.graceSeconds > 0 &&
    connection.previousRefreshToken !== null &&
    connection.refreshTokenRotatedAt !== null &&
    now - connection.refreshTokenRotatedAt.getTime() <= provider.rotation.graceSeconds * 1_000
  );
}
