import type { ProviderDefinition } from '@evergreen/core';

/** RFC 6749 §2.3.1: client id and secret are form-urlencoded before they are joined and base64-encoded. */
export function basicCredentials(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64')}`;
}

function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

/** The RFC 6749 §6 refresh request's body and headers for one provider. Pure, so each method is testable alone. */
export function buildRefreshRequest(
  provider: ProviderDefinition,
  refreshToken: string,
): { headers: Record<string, string>; body: string } {
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken });
  if (provider.scope !== null) form.set('scope', provider.scope);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
    'user-agent': 'evergreen-token-refresher',
  };
  switch (provider.clientAuth) {
    case 'client_secret_basic':
      headers.authorization = basicCredentials(provider.clientId, provider.clientSecret ?? '');
      break;
    case 'client_secret_post':
      form.set('client_id', provider.clientId);
      form.set('client_secret', provider.clientSecret ?? '');
      break;
    case 'none':
      form.set('client_id', provider.clientId);
      break;
  }
  return { headers, body: form.toString() };
}
