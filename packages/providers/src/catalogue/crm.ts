import type { ProviderEntry } from '@evergreen/core';
import { DAY, HOUR } from './units.ts';

/** CRM and sales engagement. */
export const CRM: readonly ProviderEntry[] = [
  {
    // No expires_in: the session lasts the org's timeout (2 hours by default) from issued_at, in milliseconds.
    // The instance URL arrives with each answer and names the host of later refreshes.
    id: 'salesforce',
    displayName: 'Salesforce',
    source: 'https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm',
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
    id: 'hubspot',
    displayName: 'HubSpot',
    source: 'https://developers.hubspot.com/docs/api/oauth-quickstart-guide',
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
    // Basic auth; one-hour tokens; the answer names the company's API host (api_domain), kept in metadata for API
    // calls. A refresh token unused for 60 days lapses.
    id: 'pipedrive',
    displayName: 'Pipedrive',
    source: 'https://pipedrive.readme.io/docs/marketplace-oauth-authorization',
    tokenUrl: 'https://oauth.pipedrive.com/oauth/token',
    revocationUrl: 'https://oauth.pipedrive.com/oauth/revoke',
    authorizationUrl: 'https://oauth.pipedrive.com/oauth/authorize',
    clientAuth: 'client_secret_basic',
    response: { metadata: { api_domain: 'api_domain' } },
    rotation: { rotates: 'sometimes' },
    defaultLifetimeSeconds: HOUR,
    refreshTokenLifetimeSeconds: 60 * DAY,
  },
  {
    // One accounts server per data centre (the redirect names it as accounts-server); the `domain` metadata is that
    // host. Scopes joined by commas; access_type=offline for a refresh token, which neither rotates nor expires. A
    // dead refresh token is reported as `invalid_code`, often with HTTP 200. Its revoke endpoint takes the token in
    // the query string, not RFC 7009's body: no revocationUrl.
    id: 'zoho',
    displayName: 'Zoho',
    source: 'https://www.zoho.com/accounts/protocol/oauth/web-apps/access-token-expiry.html',
    tokenUrl: 'https://{domain}/oauth/v2/token',
    authorizationUrl: 'https://{domain}/oauth/v2/auth',
    tokenUrlHosts: [
      'accounts.zoho.com',
      'accounts.zoho.eu',
      'accounts.zoho.in',
      'accounts.zoho.com.au',
      'accounts.zoho.jp',
      'accounts.zoho.com.cn',
      'accounts.zoho.sa',
      'accounts.zohocloud.ca',
    ],
    metadataDefaults: { domain: 'accounts.zoho.com' },
    authorization: { scopeSeparator: ',', params: { access_type: 'offline', prompt: 'consent' } },
    clientAuth: 'client_secret_post',
    response: { metadata: { api_domain: 'api_domain' } },
    errors: { invalid_code: 'invalid_grant', invalid_client_secret: 'invalid_client' },
    rotation: { rotates: 'never' },
    defaultLifetimeSeconds: HOUR,
  },
  {
    // Two-hour access tokens; each refresh answers a new refresh token, which lapses after 14 days unused.
    id: 'outreach',
    displayName: 'Outreach',
    source: 'https://developers.outreach.io/api/oauth/',
    tokenUrl: 'https://api.outreach.io/oauth/token',
    authorizationUrl: 'https://api.outreach.io/oauth/authorize',
    clientAuth: 'client_secret_post',
    rotation: { rotates: 'sometimes' },
    defaultLifetimeSeconds: 2 * HOUR,
    refreshTokenLifetimeSeconds: 14 * DAY,
  },
  {
    // Two-hour access tokens; the refresh token may be replaced on refresh (the latest one is kept).
    id: 'salesloft',
    displayName: 'Salesloft',
    source: 'https://developers.salesloft.com/docs/platform/api-basics/oauth-authentication/',
    tokenUrl: 'https://accounts.salesloft.com/oauth/token',
    authorizationUrl: 'https://accounts.salesloft.com/oauth/authorize',
    clientAuth: 'client_secret_post',
    rotation: { rotates: 'sometimes' },
    defaultLifetimeSeconds: 2 * HOUR,
  },
  {
    // Basic auth at a Gong-specific token path; single-use refresh tokens, a new one with each refresh; the answer
    // names the customer's API base URL (data residency), kept in metadata.
    id: 'gong',
    displayName: 'Gong',
    source: 'https://help.gong.io/docs/create-an-app-for-gong',
    tokenUrl: 'https://app.gong.io/oauth2/generate-customer-token',
    authorizationUrl: 'https://app.gong.io/oauth2/authorize',
    clientAuth: 'client_secret_basic',
    response: { metadata: { api_base_url_for_customer: 'api_base_url_for_customer' } },
    rotation: { rotates: 'always' },
    defaultLifetimeSeconds: DAY,
  },
];
