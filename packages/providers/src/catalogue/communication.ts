import type { ProviderEntry } from '@evergreen/core';
import { DAY, HOUR } from './units.ts';

/** Chat, meetings and telephony. */
export const COMMUNICATION: readonly ProviderEntry[] = [
  {
    // Token rotation: 12-hour access tokens; errors as {"ok": false, "error": ...} with HTTP 200.
    id: 'slack',
    displayName: 'Slack',
    source: 'https://api.slack.com/authentication/oauth-v2',
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
    source: 'https://developers.zoom.us/docs/integrations/oauth/',
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
    // 14-day access tokens; 90-day refresh tokens whose remaining life comes as refresh_token_expires_in.
    id: 'webex',
    displayName: 'Webex',
    source: 'https://developer.webex.com/docs/integrations',
    tokenUrl: 'https://webexapis.com/v1/access_token',
    authorizationUrl: 'https://webexapis.com/v1/authorize',
    authorization: { defaultScopes: ['spark:people_read'] },
    clientAuth: 'client_secret_post',
    rotation: { rotates: 'sometimes' },
    defaultLifetimeSeconds: 14 * DAY,
    refreshTokenLifetimeSeconds: 90 * DAY,
  },
  {
    // Basic auth; one-hour access tokens; a new refresh token (7 days) with each refresh.
    id: 'ringcentral',
    displayName: 'RingCentral',
    source: 'https://developers.ringcentral.com/guide/authentication/auth-code-flow',
    tokenUrl: 'https://platform.ringcentral.com/restapi/oauth/token',
    revocationUrl: 'https://platform.ringcentral.com/restapi/oauth/revoke',
    authorizationUrl: 'https://platform.ringcentral.com/restapi/oauth/authorize',
    clientAuth: 'client_secret_basic',
    rotation: { rotates: 'always' },
    defaultLifetimeSeconds: HOUR,
    refreshTokenLifetimeSeconds: 7 * DAY,
  },
];
