import type { ApiKeyScope } from './scopes.ts';

/** Who an API request acts as: a verified, unrevoked key. Never holds the key or its hash. */
export interface ApiKeyPrincipal {
  id: string;
  name: string;
  scopes: readonly ApiKeyScope[];
  /** The providers whose connections the key sees; null: every provider. */
  providers: readonly string[] | null;
}

/** Whether the key was granted `scope`. */
export function can(principal: ApiKeyPrincipal, scope: ApiKeyScope): boolean {
  return principal.scopes.includes(scope);
}

/**
 * Whether the key sees connections of `provider`. A connection it does not see must answer exactly as a missing one
 * (404, same body), so that a confined key cannot learn what exists outside its providers.
 */
export function seesProvider(principal: ApiKeyPrincipal, provider: string): boolean {
  return principal.providers === null || principal.providers.includes(provider);
}
