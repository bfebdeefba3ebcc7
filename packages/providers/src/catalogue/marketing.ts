import type { ProviderEntry } from '@evergreen/core';
import { DAY, HOUR } from './units.ts';

/** Email marketing and audience tools. */
export const MARKETING: readonly ProviderEntry[] = [
  {
    // Access tokens never expire and no refresh token is issued: stored after the connect flow, never refreshed.
    id: 'mailchimp',
    displayName: 'Mailchimp',
    source: 'https://mailchimp.com/developer/marketing/guides/access-user-data-oauth-2/',
    tokenUrl: 'https://login.mailchimp.com/oauth2/token',
    authorizationUrl: 'https://login.mailchimp.com/oauth2/authorize',
    clientAuth: 'client_secret_post',
    response: { refreshToken: null },
    rotation: { rotates: 'never' },
    defaultLifetimeSeconds: null,
  },
  {
    // Basic auth; day-long access tokens; refresh tokens are long-lived or rotating by the app's setting.
    id: 'constant-contact',
    displayName: 'Constant Contact',
    source: 'https://developer.constantcontact.com/api_guide/server_flow.html',
    tokenUrl: 'https://authz.constantcontact.com/oauth2/default/v1/token',
    revocationUrl: 'https://authz.constantcontact.com/oauth2/default/v1/revoke',
    authorizationUrl: 'https://authz.constantcontact.com/oauth2/default/v1/authorize',
    authorization: { defaultScopes: ['account_read', 'offline_access'] },
    clientAuth: 'client_secret_basic',
    rotation: { rotates: 'sometimes' },
    defaultLifetimeSeconds: DAY,
  },
  {
    // Basic auth; PKCE required; one-hour access tokens; refresh tokens lapse after 90 days unused.
    id: 'klaviyo',
    displayName: 'Klaviyo',
    source: 'https://developers.klaviyo.com/en/docs/set_up_oauth',
    tokenUrl: 'https://a.klaviyo.com/oauth/token',
    revocationUrl: 'https://a.klaviyo.com/oauth/revoke',
    authorizationUrl: 'https://www.klaviyo.com/oauth/authorize',
    authorization: { defaultScopes: ['accounts:read'], pkce: 'required' },
    clientAuth: 'client_secret_basic',
    rotation: { rotates: 'sometimes' },
    defaultLifetimeSeconds: HOUR,
    refreshTokenLifetimeSeconds: 90 * DAY,
  },
];
