import type { ProviderEntry } from '@evergreen/core';
import { CREDENTIAL_ENTRIES } from './credential-entries.ts';

const DAY = 86_400;

/**
 * The built-in catalogue: what each provider's token endpoint does, as documented by the provider. Entries are
 * templates: a providers file names one (or `extends` it) and adds the client id and secret. docs/providers.md says
 * why each quirk is there.
 */
export const BUILTIN_PROVIDERS: readonly ProviderEntry[] = [
  {
    // No rotation; the response carries no refresh_token, so the stored one is kept.
    id: 'google',
    displayName: 'Google',
    tokenUrl: 'https://oauth2.googleapis.com/token',
    // https://developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke
    revocationUrl: 'https://oauth2.googleapis.com/revoke',
    // https://developers.google.com/identity/protocols/oauth2/web-server#creatingclient: a refresh token only with
    // access_type=offline, and again on a later consent only with prompt=consent.
    authorizationUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
    // https://developers.google.com/identity/openid-connect/openid-connect#discovery
    issuer: 'https://accounts.google.com',
    authorization: {
      defaultScopes: ['openid', 'email'],
      params: { access_type: 'offline', prompt: 'consent' },
      pkce: 'supported',
    },
    clientAuth: 'client_secret_post',
    rotation: { rotates: 'never' },
    defaultLifetimeSeconds: 3600,
  },
  {
    // Rotates, but the old refresh token stays valid; scope is required on every refresh; tenant in the URL.
    id: 'microsoft',
    displayName: 'Microsoft identity platform',
    tokenUrl: 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token',
    tokenUrlHosts: ['login.microsoftonline.com'],
    metadataDefaults: { tenant: 'common' },
    // https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow: the tenant in the path,
    // offline_access for a refresh token. No issuer: with `common` the id_token's iss names the user's own tenant.
    authorizationUrl: 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize',
    authorization: { defaultScopes: ['offline_access', 'User.Read'], pkce: 'supported' },
    clientAuth: 'client_secret_post',
    request: { scope: 'connection' },
    rotation: { rotates: 'always', graceSeconds: DAY },
    refreshTokenLifetimeSeconds: 90 * DAY,
  },
  {
    // Basic auth; sometimes returns a new refresh token, sometimes none.
    id: 'spotify',
    displayName: 'Spotify',
    tokenUrl: 'https://accounts.spotify.com/api/token',
    // https://developer.spotify.com/documentation/web-api/tutorials/code-flow (no revocation endpoint)
    authorizationUrl: 'https://accounts.spotify.com/authorize',
    authorization: { defaultScopes: ['user-read-email'], pkce: 'supported' },
    clientAuth: 'client_secret_basic',
    rotation: { rotates: 'sometimes' },
  },
  {
    id: 'discord',
    displayName: 'Discord',
    tokenUrl: 'https://discord.com/api/oauth2/token',
    // https://discord.com/developers/docs/topics/oauth2 (token revocation, RFC 7009)
    revocationUrl: 'https://discord.com/api/oauth2/token/revoke',
    // https://discord.com/developers/docs/topics/oauth2#authorization-code-grant
    authorizationUrl: 'https://discord.com/oauth2/authorize',
    authorization: { defaultScopes: ['identify'], pkce: 'supported' },
    clientAuth: 'client_secret_post',
    rotation: { rotates: 'always' },
    defaultLifetimeSeconds: 7 * DAY,
  },
  {
    // No expires_in: the session lasts the org's timeout (2 hours by default) from issued_at, in milliseconds.
    // The instance URL arrives with each answer and names the host of later refreshes.
    id: 'salesforce',
    displayName: 'Salesforce',
    tokenUrl: '{instance_url}/services/oauth2/token',
    // https://help.salesforce.com/s/articleView?id=sf.remoteaccess_revoke_token.htm
    revocationUrl: '{instance_url}/services/oauth2/revoke',
    // https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm: the login host (or a
    // My Domain) from metadata; refresh_token in the scopes for a refresh token.
    authorizationUrl: '{instance_url}/services/oauth2/authorize',
    authorization: { defaultScopes: ['api', 'refresh_token'], pkce: 'supported' },
    tokenUrlHosts: ['login.salesforce.com', 'test.salesforce.com', '*.salesforce.com', '*.force.com'],
    metadataDefaults: { instance_url: 'https://login.salesforce.com' },
    clientAuth: 'client_secret_post',
    response: {
      expiresIn: null,
      issuedAt: 'issued_at',
      issuedAtFormat: 'epoch_milliseconds',
      metadata: { instance_url: 'instance_url' },
    },
    rotation: { rotates: 'never' },
    defaultLifetimeSeconds: 2 * 3600,
  },
  {
    // 30-minute access tokens; rotating refresh tokens with a 30-minute grace period; 60 days unused and they die.
    id: 'xero',
    displayName: 'Xero',
    tokenUrl: 'https://identity.xero.com/connect/token',
    // https://developer.xero.com/documentation/guides/oauth2/auth-flow/#revoking-tokens
    revocationUrl: 'https://identity.xero.com/connect/revocation',
    // https://developer.xero.com/documentation/guides/oauth2/auth-flow/ (OpenID Connect; offline_access for a
    // refresh token)
    authorizationUrl: 'https://login.xero.com/identity/connect/authorize',
    issuer: 'https://identity.xero.com',
    authorization: { defaultScopes: ['openid', 'profile', 'email', 'offline_access'], pkce: 'supported' },
    clientAuth: 'client_secret_basic',
    rotation: { rotates: 'always', graceSeconds: 30 * 60 },
    defaultLifetimeSeconds: 30 * 60,
    refreshTokenLifetimeSeconds: 60 * DAY,
  },
  {
    id: 'hubspot',
    displayName: 'HubSpot',
    tokenUrl: 'https://api.hubapi.com/oauth/v1/token',
    // https://developers.hubspot.com/docs/api/oauth-quickstart-guide (its token deletion is not RFC 7009: no
    // revocationUrl)
    authorizationUrl: 'https://app.hubspot.com/oauth/authorize',
    authorization: { defaultScopes: ['oauth'], pkce: 'supported' },
    clientAuth: 'client_secret_post',
    rotation: { rotates: 'never' },
    defaultLifetimeSeconds: 30 * 60,
  },
  {
    // GitHub App user-to-server tokens: 8 hours; single-use rotating refresh tokens that lapse after about 6 months;
    // errors arrive with HTTP 200; form-encoded answers unless JSON is asked for (we ask).
    id: 'github-app',
    displayName: 'GitHub App (user tokens)',
    tokenUrl: 'https://github.com/login/oauth/access_token',
    // https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app
    // (scopes come from the App's permissions; its grant deletion is not RFC 7009: no revocationUrl)
    authorizationUrl: 'https://github.com/login/oauth/authorize',
    authorization: { pkce: 'supported' },
    clientAuth: 'client_secret_post',
    rotation: { rotates: 'always', graceSeconds: 0 },
    errors: {
      bad_refresh_token: 'invalid_grant',
      incorrect_client_credentials: 'invalid_client',
      unverified_user_email: 'invalid_grant',
    },
    defaultLifetimeSeconds: 8 * 3600,
    refreshTokenLifetimeSeconds: 15_897_600,
  },
  {
    // No expires_in unless the token was made to expire: never leave such a token unrefreshed for long anyway.
    id: 'zendesk',
    displayName: 'Zendesk',
    tokenUrl: 'https://{subdomain}.zendesk.com/oauth/tokens',
    tokenUrlHosts: ['*.zendesk.com'],
    // https://developer.zendesk.com/documentation/ticketing/working-with-oauth/creating-and-using-oauth-tokens-with-the-api/
    authorizationUrl: 'https://{subdomain}.zendesk.com/oauth/authorizations/new',
    authorization: { defaultScopes: ['read'], pkce: 'supported' },
    clientAuth: 'client_secret_post',
    request: { format: 'json' },
    defaultLifetimeSeconds: null,
    keepAliveSeconds: DAY,
  },
  {
    // Token rotation: 12-hour access tokens; errors as {"ok": false, "error": ...} with HTTP 200.
    id: 'slack',
    displayName: 'Slack',
    tokenUrl: 'https://slack.com/api/oauth.v2.access',
    // https://api.slack.com/authentication/oauth-v2: scopes joined by commas (auth.revoke is not RFC 7009)
    authorizationUrl: 'https://slack.com/oauth/v2/authorize',
    authorization: { scopeSeparator: ',', pkce: 'supported' },
    clientAuth: 'client_secret_post',
    response: { successFlag: 'ok' },
    errors: {
      invalid_refresh_token: 'invalid_grant',
      token_revoked: 'invalid_grant',
      token_expired: 'invalid_grant',
      invalid_client_id: 'invalid_client',
      bad_client_secret: 'invalid_client',
      invalid_grant_type: 'unsupported_grant_type',
      ratelimited: 'transient',
    },
    rotation: { rotates: 'always' },
    defaultLifetimeSeconds: 12 * 3600,
  },
  {
    id: 'zoom',
    displayName: 'Zoom',
    tokenUrl: 'https://zoom.us/oauth/token',
    // https://developers.zoom.us/docs/integrations/oauth/#revoking-an-access-token
    revocationUrl: 'https://zoom.us/oauth/revoke',
    // https://developers.zoom.us/docs/integrations/oauth/#step-1-request-user-authorization
    authorizationUrl: 'https://zoom.us/oauth/authorize',
    authorization: { pkce: 'supported' },
    clientAuth: 'client_secret_basic',
    rotation: { rotates: 'always' },
    refreshTokenLifetimeSeconds: 90 * DAY,
  },
  {
    // The reference systems' custom endpoint: POST {"refreshToken"} → {"accessToken", "refreshToken"}; the expiry
    // comes from the access token's JWT exp. Extend it with your tokenUrl.
    id: 'custom-json',
    displayName: 'Custom JSON refresh endpoint',
    // No authorization side: the app that extends it names its own authorizationUrl (or issuer).
    clientAuth: 'none',
    request: { format: 'json', grantTypeField: null, refreshTokenField: 'refreshToken' },
    response: { accessToken: 'accessToken', refreshToken: 'refreshToken', expiresIn: 'expiresIn', error: 'error' },
    rotation: { rotates: 'sometimes' },
  },
  {
    // A token that never expires (a GitHub personal access token): stored, never scheduled.
    id: 'github-pat',
    displayName: 'GitHub personal access token',
    grant: 'none',
    clientAuth: 'none',
    defaultLifetimeSeconds: null,
  },
  {
    // RFC 6749 §4.4: the connection renews with the client's own credentials (the provider's, or the connection's).
    id: 'client-credentials',
    displayName: 'OAuth 2.0 client credentials',
    grant: 'client_credentials',
    clientAuth: 'client_secret_basic',
  },
  {
    // RFC 6749 §4.3: the connection renews with a user's login, stored encrypted with it.
    id: 'password',
    displayName: 'OAuth 2.0 password grant',
    grant: 'password',
    clientAuth: 'client_secret_basic',
  },
  {
    // Reference 003's login endpoint: POST {"email", "password"} → {"token"} (a JWT whose exp is the expiry).
    id: 'json-login',
    displayName: 'JSON login endpoint',
    grant: 'password',
    clientAuth: 'none',
    request: { format: 'json', grantTypeField: null, usernameField: 'email', passwordField: 'password' },
    response: { accessToken: 'token', refreshToken: null },
    defaultLifetimeSeconds: null,
    keepAliveSeconds: 3600,
  },
  ...CREDENTIAL_ENTRIES,
];
