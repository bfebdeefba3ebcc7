import type { ProviderEntry } from '@evergreen/core';
import { DAY, HOUR } from './units.ts';

/** Customer support, help desks and IT service management. */
export const SUPPORT: readonly ProviderEntry[] = [
  {
    // No expires_in unless the token was made to expire: never leave such a token unrefreshed for long anyway.
    id: 'zendesk',
    displayName: 'Zendesk',
    source:
      'https://developer.zendesk.com/documentation/ticketing/working-with-oauth/creating-and-using-oauth-tokens-with-the-api/',
    tokenUrl: 'https://{subdomain}.zendesk.com/oauth/tokens',
    tokenUrlHosts: ['*.zendesk.com'],
    // https://developer.zendesk.com/documentation/ticketing/working-with-oauth/creating-and-using-oauth-tokens-with-the-api/
    authorizationUrl: 'https://{subdomain}.zendesk.com/oauth/authorizations/new',
    authorization: { defaultScopes: ['read'], pkce: 'supported' },
    clientAuth: 'client_secret_post',
    request: { format: 'json' },
    rotation: { rotates: 'sometimes' },
    defaultLifetimeSeconds: null,
    keepAliveSeconds: DAY,
  },
  {
    // Access tokens never expire and no refresh token is issued: stored after the connect flow, never refreshed.
    id: 'intercom',
    displayName: 'Intercom',
    source: 'https://developers.intercom.com/docs/build-an-integration/learn-more/authentication/setting-up-oauth',
    tokenUrl: 'https://api.intercom.io/auth/eagle/token',
    authorizationUrl: 'https://app.intercom.com/oauth',
    clientAuth: 'client_secret_post',
    response: { refreshToken: null },
    rotation: { rotates: 'never' },
    defaultLifetimeSeconds: null,
  },
  {
    // Basic auth; one-hour access tokens.
    id: 'front',
    displayName: 'Front',
    source: 'https://dev.frontapp.com/docs/oauth',
    tokenUrl: 'https://app.frontapp.com/oauth/token',
    authorizationUrl: 'https://app.frontapp.com/oauth/authorize',
    clientAuth: 'client_secret_basic',
    rotation: { rotates: 'sometimes' },
    defaultLifetimeSeconds: HOUR,
  },
  {
    // 48-hour access tokens; client id and secret in the body.
    id: 'helpscout',
    displayName: 'Help Scout',
    source: 'https://developer.helpscout.com/mailbox-api/overview/authentication/',
    tokenUrl: 'https://api.helpscout.net/v2/oauth2/token',
    authorizationUrl: 'https://secure.helpscout.net/authentication/authorizeClientApplication',
    clientAuth: 'client_secret_post',
    rotation: { rotates: 'sometimes' },
    defaultLifetimeSeconds: 48 * HOUR,
  },
  {
    // Each account is its own subdomain of gorgias.com, which serves the OAuth endpoints too; `offline` for a refresh
    // token. Access tokens are stated to last a day; the answer's expires_in decides when it says.
    id: 'gorgias',
    displayName: 'Gorgias',
    source: 'https://developers.gorgias.com/docs/oauth2-authorization-code-flow',
    tokenUrl: 'https://{subdomain}.gorgias.com/oauth/token',
    authorizationUrl: 'https://{subdomain}.gorgias.com/oauth/authorize',
    tokenUrlHosts: ['*.gorgias.com'],
    authorization: { defaultScopes: ['openid', 'offline'] },
    clientAuth: 'client_secret_basic',
    rotation: { rotates: 'sometimes' },
    defaultLifetimeSeconds: DAY,
  },
  {
    // The instance is a subdomain of service-now.com; 30-minute access tokens and 100-day refresh tokens are the
    // instance defaults (an admin may change both, and the answer's expires_in wins).
    id: 'servicenow',
    displayName: 'ServiceNow',
    source:
      'https://www.servicenow.com/docs/bundle/xanadu-platform-security/page/administer/security/concept/c_OAuthApplications.html',
    tokenUrl: 'https://{subdomain}.service-now.com/oauth_token.do',
    revocationUrl: 'https://{subdomain}.service-now.com/oauth_revoke_token.do',
    authorizationUrl: 'https://{subdomain}.service-now.com/oauth_auth.do',
    tokenUrlHosts: ['*.service-now.com'],
    clientAuth: 'client_secret_post',
    rotation: { rotates: 'sometimes' },
    defaultLifetimeSeconds: 30 * 60,
    refreshTokenLifetimeSeconds: 100 * DAY,
  },
];
