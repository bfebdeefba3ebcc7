import type { ProviderEntry } from '@evergreen/core';

const HOUR = 3_600;

/**
 * Built-in entries for the credentials beyond the refresh token (docs/credentials.md): static API keys and HTTP Basic
 * logins, the RFC 7523 JWT bearer grant (generic, Google service accounts, Salesforce), GitHub App installation tokens
 * and RFC 8693 token exchange.
 */
export const CREDENTIAL_ENTRIES: readonly ProviderEntry[] = [
  {
    // The default placement is the bearer one: Authorization: Bearer <key>.
    // A key stored and served as it is, never renewed. Extend it with `apiKey` (header name and prefix, or a query
    // parameter) and an optional `check` that marks the connection needs_reauth when the key is revoked.
    id: 'api-key',
    displayName: 'API key',
    source: 'https://www.rfc-editor.org/rfc/rfc6750#section-2.1',
    grant: 'api_key',
    clientAuth: 'none',
  },
  {
    // HTTP Basic: base64 of user-id ":" password.
    // A login stored and served as it is, never renewed; an optional `check` as for API keys.
    id: 'basic',
    displayName: 'HTTP Basic credentials',
    source: 'https://www.rfc-editor.org/rfc/rfc7617',
    grant: 'basic',
    clientAuth: 'none',
  },
  {
    // Each renewal signs a new assertion with the connection's key (iss, sub, aud, exp, jti) and exchanges it at the
    // token URL; scopes go in the request's `scope`. Extend it with your tokenUrl (and clientAuth, if the server wants
    // the client authenticated too).
    id: 'jwt-bearer',
    displayName: 'JWT bearer grant (RFC 7523)',
    source: 'https://www.rfc-editor.org/rfc/rfc7523#section-2.1',
    grant: 'jwt_bearer',
    clientAuth: 'none',
    assertionScope: 'request',
    rotation: { rotates: 'never' },
  },
  {
    // iss = the key file's client_email, kid = its private_key_id, scopes as the `scope` claim (space-separated),
    // aud = the token URL, sub = a user to impersonate under domain-wide delegation (optional). One-hour tokens,
    // no refresh token: the next renewal signs a new assertion.
    id: 'google-service-account',
    displayName: 'Google service account',
    source: 'https://developers.google.com/identity/protocols/oauth2/service-account#httprest',
    grant: 'jwt_bearer',
    tokenUrl: 'https://oauth2.googleapis.com/token',
    clientAuth: 'none',
    assertionScope: 'claim',
    rotation: { rotates: 'never' },
    defaultLifetimeSeconds: HOUR,
  },
  {
    // iss = the connected app's consumer key, sub = the user's username, aud = the login URL (login.salesforce.com,
    // test.salesforce.com for sandboxes: metadata `login_url`), exp within 3 minutes. The answer has no expires_in and
    // no refresh token: the session lasts the org's timeout (2 hours by default) from issued_at.
    id: 'salesforce-jwt',
    displayName: 'Salesforce (JWT bearer flow)',
    source: 'https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm',
    grant: 'jwt_bearer',
    tokenUrl: '{login_url}/services/oauth2/token',
    tokenUrlHosts: ['login.salesforce.com', 'test.salesforce.com', '*.my.salesforce.com', '*.force.com'],
    metadataDefaults: { login_url: 'https://login.salesforce.com' },
    assertionAudience: '{login_url}',
    assertionScope: 'none',
    clientAuth: 'none',
    response: {
      refreshToken: null,
      expiresIn: null,
      issuedAt: 'issued_at',
      issuedAtFormat: 'epoch_milliseconds',
      metadata: { instance_url: 'instance_url' },
    },
    rotation: { rotates: 'never' },
    defaultLifetimeSeconds: 2 * HOUR,
  },
  {
    // Also
    // https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
    // The App signs a JWT (RS256, iss = App id or client id, iat 60 s back, exp within 10 minutes) and POSTs it as a
    // bearer token; the answer is { token, expires_at } (one hour). 401 (the App's key or id is wrong or revoked) and
    // 404 (the installation was removed) need a person; 5xx is retried. Installation id in metadata.
    id: 'github-app-installation',
    displayName: 'GitHub App installation',
    source: 'https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app',
    grant: 'github_app_installation',
    tokenUrl: 'https://api.github.com/app/installations/{installation_id}/access_tokens',
    // GitHub Enterprise Server: extend with your host's /api/v3 URL and list it here.
    tokenUrlHosts: ['api.github.com'],
    clientAuth: 'none',
    response: {
      accessToken: 'token',
      refreshToken: null,
      expiresIn: null,
      expiresAt: 'expires_at',
      expiresAtFormat: 'iso8601',
    },
    statusErrors: { '401': 'invalid_grant', '404': 'invalid_grant' },
    rotation: { rotates: 'never' },
    defaultLifetimeSeconds: HOUR,
  },
  {
    // The connection's stored subject token (and its type URI, access_token by default) is exchanged at the token URL
    // for an access token, again at each renewal; the client authenticates as configured. Extend it with your
    // tokenUrl, clientId and clientSecret, and `request.params` for audience or resource.
    id: 'token-exchange',
    displayName: 'OAuth 2.0 token exchange (RFC 8693)',
    source: 'https://www.rfc-editor.org/rfc/rfc8693#section-2.1',
    grant: 'token_exchange',
    clientAuth: 'client_secret_basic',
    rotation: { rotates: 'never' },
  },
];
