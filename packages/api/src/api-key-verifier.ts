import type { ApiKeyPrincipal, ApiKeyScope } from '@evergreen/api-keys';

/**
 * What the api role needs of API keys, and nothing more: the key store (`api_keys`, the CLI, revocation) lives in
 * `@evergreen/api-keys` and the store, and is handed in as an `ApiKeyVerifier`, so this package never sees a key hash
 * or a table. The scopes and the principal are api-keys' own.
 */
export type ApiScope = ApiKeyScope;
export type ApiPrincipal = ApiKeyPrincipal;

export interface ApiKeyVerifier {
  /** The principal of a valid, unrevoked key; null for anything else (unknown, revoked, malformed, wrong secret). */
  verify(bearerToken: string): Promise<ApiPrincipal | null>;
}
