import type { ConnectionCredentials, ProviderDefinition } from '@evergreen/core';

export interface TokenRequestContext {
  /** The stored refresh token, for the refresh_token grant. */
  refreshToken?: string;
  credentials?: ConnectionCredentials;
  /** The connection's scopes, for providers that want them on every refresh (Microsoft). */
  scopes: readonly string[];
  /** A signed RFC 7523 client assertion, for private_key_jwt. */
  clientAssertion?: string;
  /**
   * The grant's own signed JWT: the RFC 7523 §2.1 assertion of a jwt_bearer grant, or the app JWT of a GitHub App
   * installation token request.
   */
  grantAssertion?: string;
}

export interface BuiltRequest {
  headers: Record<string, string>;
  body: string;
}

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** RFC 7523 §2.1. */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** RFC 8693 §2.1, and the subject token type assumed when the connection names none (§3). */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
/** GitHub's REST API version the installation token request is written for. */
export const GITHUB_API_VERSION = '2022-11-28';

/** The `grant_type` each grant that reaches a token endpoint sends. */
const GRANT_TYPES: Record<string, string> = {
  refresh_token: 'refresh_token',
  client_credentials: 'client_credentials',
  password: 'password',
  jwt_bearer: JWT_BEARER_GRANT,
  token_exchange: TOKEN_EXCHANGE_GRANT,
};

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
  if (provider.grant === 'github_app_installation') return buildInstallationTokenRequest(context);
  const shape = provider.request;
  const fields: Record<string, string> = { ...shape.params };
  const grantType = GRANT_TYPES[provider.grant] ?? 'refresh_token';
  if (shape.grantTypeField !== null) fields[shape.grantTypeField] = grantType;
  if (provider.grant === 'jwt_bearer') fields.assertion = context.grantAssertion ?? '';
  if (provider.grant === 'token_exchange') {
    fields.subject_token = context.credentials?.subjectToken ?? '';
    fields.subject_token_type = context.credentials?.subjectTokenType ?? ACCESS_TOKEN_TYPE;
  }
  if (provider.grant === 'refresh_token' && context.refreshToken !== undefined) {
    fields[shape.refreshTokenField] = context.refreshToken;
  }
  if (provider.grant === 'password') {
    fields[shape.usernameField] = context.credentials?.username ?? '';
    fields[shape.passwordField] = context.credentials?.password ?? '';
  }
  // RFC 7523 §2.1: a jwt_bearer grant's scopes go in the request unless the provider wants them in the assertion.
  const connectionScopes =
    shape.scope === 'connection' || (provider.grant === 'jwt_bearer' && provider.assertionScope === 'request');
  const scope =
    shape.scope === 'fixed'
      ? shape.scopeValue
      : connectionScopes && context.scopes.length > 0
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
 * GitHub's `POST /app/installations/{installation_id}/access_tokens`: the App authenticates with its app JWT as a
 * bearer token; no body is needed for a token with all of the installation's repositories and permissions.
 */
function buildInstallationTokenRequest(context: TokenRequestContext): BuiltRequest {
  return {
    headers: {
      accept: 'application/vnd.github+json',
      authorization: `Bearer ${context.grantAssertion ?? ''}`,
      'x-github-api-version': GITHUB_API_VERSION,
      'user-agent': 'evergreen-token-refresher',
    },
    body: '',
  };
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
