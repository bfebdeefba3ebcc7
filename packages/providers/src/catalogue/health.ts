import type { ProviderEntry } from '@evergreen/core';
import { DAY, HOUR } from './units.ts';

/** Fitness and health data. */
export const HEALTH: readonly ProviderEntry[] = [
  {
    // Comma-separated scopes; six-hour access tokens; the refresh token may change on refresh (keep the latest).
    id: 'strava',
    displayName: 'Strava',
    source: 'https://developers.strava.com/docs/authentication/',
    tokenUrl: 'https://www.strava.com/oauth/token',
    authorizationUrl: 'https://www.strava.com/oauth/authorize',
    authorization: { scopeSeparator: ',', defaultScopes: ['read', 'activity:read'] },
    clientAuth: 'client_secret_post',
    rotation: { rotates: 'sometimes' },
    defaultLifetimeSeconds: 6 * HOUR,
  },
  {
    // Basic auth; 8-hour access tokens; single-use refresh tokens. Errors come as
    // {"errors": [{"errorType": "invalid_grant", ...}], "success": false}.
    id: 'fitbit',
    displayName: 'Fitbit',
    source: 'https://dev.fitbit.com/build/reference/web-api/authorization/refresh-token/',
    tokenUrl: 'https://api.fitbit.com/oauth2/token',
    revocationUrl: 'https://api.fitbit.com/oauth2/revoke',
    authorizationUrl: 'https://www.fitbit.com/oauth2/authorize',
    authorization: { defaultScopes: ['profile', 'activity'] },
    clientAuth: 'client_secret_basic',
    response: { error: 'errors.0.errorType' },
    errors: { expired_token: 'invalid_grant' },
    rotation: { rotates: 'always' },
    defaultLifetimeSeconds: 8 * HOUR,
  },
  {
    // Day-long access tokens (the answer says); each refresh answers a new refresh token.
    id: 'oura',
    displayName: 'Oura',
    source: 'https://cloud.ouraring.com/v2/docs#section/Authentication',
    tokenUrl: 'https://api.ouraring.com/oauth/token',
    authorizationUrl: 'https://cloud.ouraring.com/oauth/authorize',
    authorization: { defaultScopes: ['personal', 'daily'] },
    clientAuth: 'client_secret_post',
    rotation: { rotates: 'always' },
    defaultLifetimeSeconds: DAY,
  },
  {
    // Not RFC 6749's answer: action=requesttoken in every request, and {"status": 0, "body": {...}} with the tokens
    // inside `body` (a non-zero status and an `error` text, with HTTP 200, otherwise). Comma-separated scopes;
    // 3-hour access tokens; a new refresh token with each refresh, valid a year (the old one lasts 8 hours more, or
    // until the new access token is used: no grace is counted on).
    id: 'withings',
    displayName: 'Withings',
    source: 'https://developer.withings.com/api-reference/#tag/oauth2',
    tokenUrl: 'https://wbsapi.withings.net/v2/oauth2',
    authorizationUrl: 'https://account.withings.com/oauth2_user/authorize2',
    authorization: { scopeSeparator: ',', defaultScopes: ['user.info', 'user.metrics'] },
    clientAuth: 'client_secret_post',
    request: { params: { action: 'requesttoken' } },
    response: {
      accessToken: 'body.access_token',
      refreshToken: 'body.refresh_token',
      expiresIn: 'body.expires_in',
      refreshTokenExpiresIn: null,
    },
    rotation: { rotates: 'always' },
    defaultLifetimeSeconds: 3 * HOUR,
    refreshTokenLifetimeSeconds: 365 * DAY,
  },
  {
    // The `offline` scope for a refresh token, asked for again with every refresh (or the answer carries no new
    // one); one-hour access tokens; each refresh answers a new refresh token.
    id: 'whoop',
    displayName: 'WHOOP',
    source: 'https://developer.whoop.com/docs/developing/oauth',
    tokenUrl: 'https://api.prod.whoop.com/oauth/oauth2/token',
    authorizationUrl: 'https://api.prod.whoop.com/oauth/oauth2/auth',
    authorization: { defaultScopes: ['offline', 'read:profile'] },
    clientAuth: 'client_secret_post',
    scope: 'offline',
    rotation: { rotates: 'always' },
    defaultLifetimeSeconds: HOUR,
  },
];
