import type { ProviderEntry } from '@evergreen/core';
import { DAY, HOUR, MINUTE } from './units.ts';

/** Accounting, invoicing and ERP. */
export const ACCOUNTING: readonly ProviderEntry[] = [
  {
    // 30-minute access tokens; rotating refresh tokens with a 30-minute grace period; 60 days unused and they die.
    id: 'xero',
    displayName: 'Xero',
    source: 'https://developer.xero.com/documentation/guides/oauth2/auth-flow/',
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
    // Intuit: one-hour access tokens; the refresh token may change on any refresh (always keep the latest) and its
    // remaining life comes as x_refresh_token_expires_in (100 days).
    id: 'quickbooks',
    displayName: 'QuickBooks Online (Intuit)',
    source: 'https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0',
    tokenUrl: 'https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer',
    revocationUrl: 'https://developer.api.intuit.com/v2/oauth2/tokens/revoke',
    authorizationUrl: 'https://appcenter.intuit.com/connect/oauth2',
    authorization: { defaultScopes: ['com.intuit.quickbooks.accounting'] },
    clientAuth: 'client_secret_basic',
    response: { refreshTokenExpiresIn: 'x_refresh_token_expires_in' },
    rotation: { rotates: 'sometimes' },
    defaultLifetimeSeconds: HOUR,
    refreshTokenLifetimeSeconds: 100 * DAY,
  },
  {
    // JSON request bodies; 12-hour access tokens; single-use refresh tokens, a new one with every refresh.
    id: 'freshbooks',
    displayName: 'FreshBooks',
    source: 'https://www.freshbooks.com/api/authentication',
    tokenUrl: 'https://api.freshbooks.com/auth/oauth/token',
    revocationUrl: 'https://api.freshbooks.com/auth/oauth/revoke',
    authorizationUrl: 'https://auth.freshbooks.com/oauth/authorize',
    clientAuth: 'client_secret_post',
    request: { format: 'json' },
    rotation: { rotates: 'always' },
    defaultLifetimeSeconds: 12 * HOUR,
  },
  {
    // Sage Business Cloud Accounting: 5-minute access tokens, rotating 31-day refresh tokens; the authorization
    // request names the API version through `filter`.
    id: 'sage',
    displayName: 'Sage Business Cloud Accounting',
    source: 'https://developer.sage.com/accounting/guides/authenticating/authentication/',
    tokenUrl: 'https://oauth.accounting.sage.com/token',
    revocationUrl: 'https://oauth.accounting.sage.com/revoke',
    authorizationUrl: 'https://www.sageone.com/oauth2/auth/central',
    authorization: { defaultScopes: ['full_access'], params: { filter: 'apiv3.1' } },
    clientAuth: 'client_secret_post',
    rotation: { rotates: 'always' },
    defaultLifetimeSeconds: 5 * MINUTE,
    refreshTokenLifetimeSeconds: 31 * DAY,
  },
  {
    // The account id is a subdomain of the REST host (and of app.netsuite.com for the login); one-hour access
    // tokens, refresh tokens valid 7 days by default (the integration record may set up to 720 hours).
    id: 'netsuite',
    displayName: 'Oracle NetSuite',
    source: 'https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_158074210415.html',
    tokenUrl: 'https://{subdomain}.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token',
    revocationUrl: 'https://{subdomain}.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/revoke',
    authorizationUrl: 'https://{subdomain}.app.netsuite.com/app/login/oauth2/authorize.nl',
    tokenUrlHosts: ['*.suitetalk.api.netsuite.com', '*.app.netsuite.com'],
    authorization: { defaultScopes: ['rest_webservices'] },
    clientAuth: 'client_secret_basic',
    rotation: { rotates: 'never' },
    defaultLifetimeSeconds: HOUR,
    refreshTokenLifetimeSeconds: 7 * DAY,
  },
];
