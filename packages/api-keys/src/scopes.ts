/**
 * What an API key may do. `connections:write`: create and update connections, force a refresh, disconnect;
 * `connections:read`: views of connections, never a secret; `tokens:read`: valid access tokens.
 */
export const API_KEY_SCOPES = ['connections:write', 'connections:read', 'tokens:read'] as const;

export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export function isApiKeyScope(value: string): value is ApiKeyScope {
  return (API_KEY_SCOPES as readonly string[]).includes(value);
}
