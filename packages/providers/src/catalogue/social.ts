import type { ProviderEntry } from '@evergreen/core';
import { DAY, HOUR } from './units.ts';

/** Social networks, streaming and media. */
export const SOCIAL: readonly ProviderEntry[] = [
  {
    // Basic auth; sometimes returns a new refresh token, sometimes none.
    id: 'spotify',
    displayName: 'Spotify',
    source: 'https://developer.spotify.com/documentation/web-api/tutorials/code-flow',
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
    source: 'https://discord.com/developers/docs/topics/oauth2',
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
    // 60-day access tokens; programmatic refresh tokens (for approved apps) last a year from the grant and are not
    // extended by a refresh: refresh_token_expires_in says what is left.
    id: 'linkedin',
    displayName: 'LinkedIn',
    source: 'https://learn.microsoft.com/en-us/linkedin/shared/authentication/programmatic-refresh-tokens',
    tokenUrl: 'https://www.linkedin.com/oauth/v2/accessToken',
    revocationUrl: 'https://www.linkedin.com/oauth/v2/revoke',
    authorizationUrl: 'https://www.linkedin.com/oauth/v2/authorization',
    authorization: { defaultScopes: ['openid', 'profile', 'email'] },
    clientAuth: 'client_secret_post',
    rotation: { rotates: 'sometimes' },
    defaultLifetimeSeconds: 60 * DAY,
    refreshTokenLifetimeSeconds: 365 * DAY,
  },
  {
    // X API v2: PKCE required; offline.access for a refresh token; two-hour access tokens; confidential clients
    // authenticate with Basic; each refresh answers a new refresh token.
    id: 'twitter',
    displayName: 'X (Twitter)',
    source: 'https://docs.x.com/resources/fundamentals/authentication/oauth-2-0/user-access-token',
    tokenUrl: 'https://api.x.com/2/oauth2/token',
    revocationUrl: 'https://api.x.com/2/oauth2/revoke',
    authorizationUrl: 'https://x.com/i/oauth2/authorize',
    authorization: { defaultScopes: ['tweet.read', 'users.read', 'offline.access'], pkce: 'required' },
    clientAuth: 'client_secret_basic',
    rotation: { rotates: 'always' },
    defaultLifetimeSeconds: 2 * HOUR,
  },
  {
    // Basic auth; duration=permanent for a refresh token, which is kept; one-hour access tokens. Reddit asks for a
    // descriptive User-Agent on every request.
    id: 'reddit',
    displayName: 'Reddit',
    source: 'https://github.com/reddit-archive/reddit/wiki/OAuth2',
    tokenUrl: 'https://www.reddit.com/api/v1/access_token',
    revocationUrl: 'https://www.reddit.com/api/v1/revoke_token',
    authorizationUrl: 'https://www.reddit.com/api/v1/authorize',
    authorization: { defaultScopes: ['identity'], params: { duration: 'permanent' } },
    clientAuth: 'client_secret_basic',
    rotation: { rotates: 'sometimes' },
    defaultLifetimeSeconds: HOUR,
  },
  {
    // Access tokens of about four hours (the answer says); the refresh token may be replaced (keep the latest).
    id: 'twitch',
    displayName: 'Twitch',
    source: 'https://dev.twitch.tv/docs/authentication/refresh-tokens/',
    tokenUrl: 'https://id.twitch.tv/oauth2/token',
    revocationUrl: 'https://id.twitch.tv/oauth2/revoke',
    authorizationUrl: 'https://id.twitch.tv/oauth2/authorize',
    authorization: { defaultScopes: ['user:read:email'] },
    clientAuth: 'client_secret_post',
    rotation: { rotates: 'sometimes' },
    defaultLifetimeSeconds: 4 * HOUR,
  },
  {
    // Basic auth; comma-separated scopes; 30-day access tokens and year-long refresh tokens.
    id: 'pinterest',
    displayName: 'Pinterest',
    source: 'https://developers.pinterest.com/docs/getting-started/authentication-and-scopes/',
    tokenUrl: 'https://api.pinterest.com/v5/oauth/token',
    authorizationUrl: 'https://www.pinterest.com/oauth/',
    authorization: { scopeSeparator: ',', defaultScopes: ['user_accounts:read'] },
    clientAuth: 'client_secret_basic',
    rotation: { rotates: 'sometimes' },
    defaultLifetimeSeconds: 30 * DAY,
    refreshTokenLifetimeSeconds: 365 * DAY,
  },
];
