/**
 * What the api role needs of API keys, and nothing more: the key store (`api_keys`, the CLI, revocation) lives
 * elsewhere and is handed in as an `ApiKeyVerifier`, so this package never sees a key hash or a table.
 */
export type ApiScope = 'connections:write' | 'connections:read' | 'tokens:read';

export const API_SCOPES: readonly ApiScope[] = ['connections:write', 'connections:read', 'tokens:read'];

/** Who a request acts as: a verified, unrevoked key. Its id is public (logs, metric labels); it never holds the key. */
export interface ApiPrincipal {
  id: string;
  name: string;
  scopes: readonly ApiScope[];
  /** The providers whose connections the key sees; null: every provider. */
  providers: readonly string[] | null;
}

export interface ApiKeyVerifier {
  /** The principal of a valid, unrevoked key; null for anything else (unknown, revoked, malformed, wrong secret). */
  verify(bearerToken: string): Promise<ApiPrincipal | null>;
}

/** Whether the key sees connections of `provider`: one it does not see answers exactly as a missing one. */
export function seesProvider(principal: ApiPrincipal, provider: string): boolean {
  return principal.providers === null || principal.providers.includes(provider);
}
