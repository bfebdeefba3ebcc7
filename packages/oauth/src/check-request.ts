import type { CredentialCheck, ProviderDefinition } from '@evergreen/core';

export interface BuiltCheck {
  url: string;
  method: CredentialCheck['method'];
  headers: Record<string, string>;
}

/**
 * A static credential's check (`provider.check`): the API key placed as the provider's API takes it (a header with
 * its prefix, or a query parameter), or HTTP Basic (RFC 7617) with the stored Basic token. `url` is the check URL
 * with the connection's metadata filled in. Pure.
 */
export function buildCheckRequest(
  provider: Pick<ProviderDefinition, 'grant' | 'apiKey'> & { check: CredentialCheck },
  url: string,
  credential: string,
): BuiltCheck {
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'evergreen-token-refresher' };
  const target = new URL(url);
  if (provider.grant === 'basic') headers.authorization = `Basic ${credential}`;
  else if (provider.apiKey.in === 'query') target.searchParams.set(provider.apiKey.name, credential);
  else headers[provider.apiKey.name.toLowerCase()] = `${provider.apiKey.prefix}${credential}`;
  return { url: target.toString(), method: provider.check.method, headers };
}
