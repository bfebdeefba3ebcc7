import type { ProviderEntry } from '@evergreen/core';
import { DAY, HOUR } from './units.ts';

/** File storage and sharing. */
export const STORAGE: readonly ProviderEntry[] = [
  {
    // One-hour access tokens; single-use refresh tokens, a new one with every refresh, 60 days each.
    id: 'box',
    displayName: 'Box',
    source: 'https://developer.box.com/guides/authentication/oauth2/',
    tokenUrl: 'https://api.box.com/oauth2/token',
    revocationUrl: 'https://api.box.com/oauth2/revoke',
    authorizationUrl: 'https://account.box.com/api/oauth2/authorize',
    clientAuth: 'client_secret_post',
    rotation: { rotates: 'always' },
    defaultLifetimeSeconds: HOUR,
    refreshTokenLifetimeSeconds: 60 * DAY,
  },
  {
    // Short-lived (4-hour) access tokens; token_access_type=offline for a refresh token, which never rotates or
    // expires. Its /2/auth/token/revoke is an API call with the access token, not RFC 7009: no revocationUrl.
    id: 'dropbox',
    displayName: 'Dropbox',
    source: 'https://developers.dropbox.com/oauth-guide',
    tokenUrl: 'https://api.dropboxapi.com/oauth2/token',
    authorizationUrl: 'https://www.dropbox.com/oauth2/authorize',
    authorization: { params: { token_access_type: 'offline' } },
    clientAuth: 'client_secret_basic',
    rotation: { rotates: 'never' },
    defaultLifetimeSeconds: 4 * HOUR,
  },
];
