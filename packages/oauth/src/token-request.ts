import type { ConnectionCredentials, ProviderDefinition } from '@evergreen/core';

export interface TokenRequestContext {
  /** The stored refresh token, for the refresh_token grant. */
  refreshToken?: string;
  credentials?: ConnectionCredentials;
  /** The connection's scopes, for providers that want them on every refresh (Microsoft). */
  scopes: readonly string[];
  /** A signed RFC 7523 client assertion, for private_key_jwt. */
  clientAssertion?: string;
}

export interface BuiltRequest {
  headers: Record<string, string>;
  body: string;
}

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** RFC 6749 §2.3.1: client id and secret are form-urlencoded before they are joined and base64-encoded. */
export function basicCredentials(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64')}`;
}

function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

/**
 * The token request for one connection of one provider, in that provider's dialect: the grant (RFC 6749 §6 refresh,
 * §4.4 client credentials, §4.3 password, or a custom endpoint's field names), the client authentication (§2.3.1
 * basic or post, RFC 7523 private_key_jwt, none), form or JSON. Pure, so each dialect is testable alone.
 */
export function buildTokenRequest(provider: ProviderDefinition, context: TokenRequestContext): BuiltRequest {
  const shape = provider.request;
  const fields: Record<string, string> = { ...shape.params };
  const grantType =
    provider.grant === 'client_credentials'
      ? 'client_credentials'
      : provider.grant === 'password'
        ? 'password'
        : 'refresh_token';
  if (shape.grantTypeField !== null) fields[shape.grantTypeField] = grantType;
  if (provider.grant === 'refresh_token' && context.refreshToken !== undefined) {
    fields[shape.refreshTokenField] = context.refreshToken;
  }
  if (provider.grant === 'password') {
    fields[shape.usernameField] = context.credentials?.username ?? '';
    fields[shape.passwordField] = context.credentials?.password ?? '';
  }
  const scope =
    shape.scope === 'fixed'
      ? shape.scopeValue
      : shape.scope === 'connection' && context.scopes.length > 0
        ? context.scopes.join(' ')
        : null;
  if (scope) fields.scope = scope;

  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'evergreen-token-refresher' };
  authenticateClient(provider, context, headers, fields);
  if (shape.format === 'json') {
    headers['content-type'] = 'application/json';
    return { headers, body: JSON.stringify(fields) };
  }
  headers['content-type'] = 'application/x-www-form-urlencoded';
  return { headers, body: new URLSearchParams(fields).toString() };
}

/**
 * Adds the client's authentication to a request to the provider (token or revocation endpoint), as the provider is
 * configured: RFC 6749 §2.3.1 basic or post, RFC 7523 private_key_jwt, or none.
 */
export function authenticateClient(
  provider: ProviderDefinition,
  context: Pick<TokenRequestContext, 'credentials' | 'clientAssertion'>,
  headers: Record<string, string>,
  fields: Record<string, string>,
): void {
  // A connection with a client of its own uses that client whole: never its id with the provider's secret.
  const ownClient = context.credentials?.clientId !== undefined;
  const clientId = ownClient ? (context.credentials?.clientId ?? null) : provider.clientId;
  const clientSecret = ownClient ? (context.credentials?.clientSecret ?? null) : provider.clientSecret;
  switch (provider.clientAuth) {
    case 'client_secret_basic':
      headers.authorization = basicCredentials(clientId ?? '', clientSecret ?? '');
      break;
    case 'client_secret_post':
      fields.client_id = clientId ?? '';
      fields.client_secret = clientSecret ?? '';
      break;
    case 'private_key_jwt':
      if (clientId !== null) fields.client_id = clientId;
      fields.client_assertion_type = CLIENT_ASSERTION_TYPE;
      fields.client_assertion = context.clientAssertion ?? '';
      break;
    case 'none':
      if (clientId !== null) fields.client_id = clientId;
      break;
  }
}
