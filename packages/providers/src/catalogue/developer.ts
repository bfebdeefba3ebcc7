import type { ProviderEntry } from '@evergreen/core';
import { DAY, HOUR } from './units.ts';

/** Source control, issue tracking and cloud platforms. */
export const DEVELOPER: readonly ProviderEntry[] = [
  {
    // GitHub App user-to-server tokens: 8 hours; single-use rotating refresh tokens that lapse after about 6 months;
    // errors arrive with HTTP 200; form-encoded answers unless JSON is asked for (we ask).
    id: 'github-app',
    displayName: 'GitHub App (user tokens)',
    source:
      'https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app',
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
    // Jira and Confluence Cloud (3LO): JSON bodies; audience=api.atlassian.com and offline_access for a refresh
    // token; rotating refresh tokens (each one disabled once used) that lapse after 90 days unused and 365 days after
    // the grant. A dead one is answered 403 with the standard `invalid_grant`.
    id: 'atlassian',
    displayName: 'Atlassian (Jira, Confluence)',
    source: 'https://developer.atlassian.com/cloud/oauth/getting-started/refresh-tokens/',
    tokenUrl: 'https://auth.atlassian.com/oauth/token',
    authorizationUrl: 'https://auth.atlassian.com/authorize',
    authorization: {
      defaultScopes: ['offline_access', 'read:me'],
      params: { audience: 'api.atlassian.com', prompt: 'consent' },
    },
    clientAuth: 'client_secret_post',
    request: { format: 'json' },
    rotation: { rotates: 'always' },
    defaultLifetimeSeconds: HOUR,
    refreshTokenLifetimeSeconds: 90 * DAY,
  },
  {
    // Basic auth; two-hour access tokens.
    id: 'bitbucket',
    displayName: 'Bitbucket Cloud',
    source: 'https://developer.atlassian.com/cloud/bitbucket/oauth-2/',
    tokenUrl: 'https://bitbucket.org/site/oauth2/access_token',
    authorizationUrl: 'https://bitbucket.org/site/oauth2/authorize',
    clientAuth: 'client_secret_basic',
    rotation: { rotates: 'sometimes' },
    defaultLifetimeSeconds: 2 * HOUR,
  },
  {
    // gitlab.com: two-hour access tokens, a new refresh token with each refresh. A self-managed instance extends
    // this entry with its own URLs.
    id: 'gitlab',
    displayName: 'GitLab',
    source: 'https://docs.gitlab.com/api/oauth2/',
    tokenUrl: 'https://gitlab.com/oauth/token',
    revocationUrl: 'https://gitlab.com/oauth/revoke',
    authorizationUrl: 'https://gitlab.com/oauth/authorize',
    authorization: { defaultScopes: ['read_user'] },
    clientAuth: 'client_secret_post',
    rotation: { rotates: 'always' },
    defaultLifetimeSeconds: 2 * HOUR,
  },
  {
    // Comma-separated scopes. Every app uses refresh tokens since April 2026: day-long access tokens by default
    // (the answer's expires_in decides), and each refresh answers a new token pair.
    id: 'linear',
    displayName: 'Linear',
    source: 'https://linear.app/developers/oauth-2-0-authentication',
    tokenUrl: 'https://api.linear.app/oauth/token',
    revocationUrl: 'https://api.linear.app/oauth/revoke',
    authorizationUrl: 'https://linear.app/oauth/authorize',
    authorization: { scopeSeparator: ',', defaultScopes: ['read'] },
    clientAuth: 'client_secret_post',
    rotation: { rotates: 'always' },
    defaultLifetimeSeconds: DAY,
  },
  {
    // 8-hour access tokens; the refresh token is long-lived and kept.
    id: 'heroku',
    displayName: 'Heroku',
    source: 'https://devcenter.heroku.com/articles/oauth',
    tokenUrl: 'https://id.heroku.com/oauth/token',
    authorizationUrl: 'https://id.heroku.com/oauth/authorize',
    authorization: { defaultScopes: ['identity'] },
    clientAuth: 'client_secret_post',
    rotation: { rotates: 'sometimes' },
    defaultLifetimeSeconds: 8 * HOUR,
  },
  {
    // 30-day access tokens; refresh tokens are single use, a new one with each refresh.
    id: 'digitalocean',
    displayName: 'DigitalOcean',
    source: 'https://docs.digitalocean.com/reference/api/oauth/',
    tokenUrl: 'https://cloud.digitalocean.com/v1/oauth/token',
    revocationUrl: 'https://cloud.digitalocean.com/v1/oauth/revoke',
    authorizationUrl: 'https://cloud.digitalocean.com/v1/oauth/authorize',
    authorization: { defaultScopes: ['read'] },
    clientAuth: 'client_secret_post',
    rotation: { rotates: 'always' },
    defaultLifetimeSeconds: 30 * DAY,
  },
];
