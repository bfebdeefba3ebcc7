import { resolveRevocationUrl, type ProviderDefinition } from '@evergreen/core';
import type { Logger } from '@evergreen/log';
import type { StoredConnection } from '@evergreen/store';
import type { EvergreenParts } from '@evergreen/wiring';

/**
 * Whether `disconnect(id, { revoke: true })` revoked the grant at the provider (RFC 7009), and why not:
 * `no_endpoint` the provider has no revocation URL; `no_token` nothing is stored to revoke (already disconnected);
 * `invalid_url` the revocation URL cannot be filled in from the connection's metadata; `provider_error` the provider
 * or the network failed (`retryable` when a later try may succeed: a 503, a timeout).
 */
export type Revocation =
  | { revoked: true }
  | { revoked: false; reason: 'no_endpoint' | 'no_token' | 'invalid_url' }
  | { revoked: false; reason: 'provider_error'; retryable: boolean };

export interface RevokeGrantDeps {
  tokens: Pick<EvergreenParts['tokens'], 'revoke'>;
  log: Logger;
}

/**
 * Revokes the connection's grant: the refresh token (revoking it ends the grant, RFC 7009 §2.1), or the access token
 * when there is none. Never throws for the provider or the network, so a disconnect goes on whatever happens here.
 */
export async function revokeGrant(
  deps: RevokeGrantDeps,
  provider: ProviderDefinition | undefined,
  row: StoredConnection,
): Promise<Revocation> {
  if (provider === undefined || provider.revocationUrl === null) return { revoked: false, reason: 'no_endpoint' };
  const token = row.refreshToken ?? row.accessToken;
  if (token === null) return { revoked: false, reason: 'no_token' };
  const target = resolveRevocationUrl(provider, row.metadata);
  if (target === null) return { revoked: false, reason: 'no_endpoint' };
  if (!target.ok) {
    deps.log.warn({ connection: row.id, provider: provider.id, field: target.field }, 'revocation url unusable');
    return { revoked: false, reason: 'invalid_url' };
  }
  const outcome = await deps.tokens.revoke(provider, target.url, {
    token,
    tokenTypeHint: row.refreshToken !== null ? 'refresh_token' : 'access_token',
    ...(row.credentials && { credentials: row.credentials }),
  });
  if (outcome.revoked) {
    deps.log.info({ connection: row.id, provider: provider.id }, 'grant revoked');
    return { revoked: true };
  }
  // The status and system code only: a provider's body may echo the token.
  deps.log.warn(
    { connection: row.id, provider: provider.id, status: outcome.status, code: outcome.code },
    'revocation failed',
  );
  return { revoked: false, reason: 'provider_error', retryable: outcome.retryable };
}
