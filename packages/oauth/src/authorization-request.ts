import { createHash, randomBytes } from 'node:crypto';
import type { ProviderDefinition } from '@evergreen/core';

export interface AuthorizationRequest {
  /** The provider's authorization endpoint, filled in for this session (`resolveAuthorizationUrl`) or discovered. */
  endpoint: string;
  redirectUri: string;
  state: string;
  scopes: readonly string[];
  /** RFC 7636 S256 challenge; absent when the provider takes no PKCE. */
  codeChallenge?: string;
  /** OpenID Connect nonce; absent for a provider without an issuer. */
  nonce?: string;
}

/**
 * The URL the user's browser opens (RFC 6749 §4.1.1): the provider's own parameters first, so that none of them can
 * replace the client id, redirect URI, state or challenge. Pure.
 */
export function buildAuthorizationUrl(
  provider: Pick<ProviderDefinition, 'clientId' | 'authorization'>,
  request: AuthorizationRequest,
): string {
  const url = new URL(request.endpoint);
  for (const [name, value] of Object.entries(provider.authorization.params)) url.searchParams.set(name, value);
  url.searchParams.set('response_type', 'code');
  if (provider.clientId !== null) url.searchParams.set('client_id', provider.clientId);
  url.searchParams.set('redirect_uri', request.redirectUri);
  if (request.scopes.length > 0)
    url.searchParams.set('scope', request.scopes.join(provider.authorization.scopeSeparator));
  url.searchParams.set('state', request.state);
  if (request.codeChallenge !== undefined) {
    url.searchParams.set('code_challenge', request.codeChallenge);
    url.searchParams.set('code_challenge_method', 'S256');
  }
  if (request.nonce !== undefined) url.searchParams.set('nonce', request.nonce);
  return url.href;
}

/** 32 random bytes, base64url: 256 bits, unguessable (state, nonce) and a valid RFC 7636 §4.1 verifier (43 chars). */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier))). */
export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}
