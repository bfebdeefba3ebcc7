import type { ProviderEntry } from '@evergreen/core';
import { DAY, HOUR } from './units.ts';

/** Work management, documents, scheduling and e-signature. */
export const PRODUCTIVITY: readonly ProviderEntry[] = [
  {
    // One-hour access tokens; the refresh token from the code exchange is kept (refreshes answer none).
    id: 'asana',
    displayName: 'Asana',
    source: 'https://developers.asana.com/docs/oauth',
    tokenUrl: 'https://app.asana.com/-/oauth_token',
    revocationUrl: 'https://app.asana.com/-/oauth_revoke',
    authorizationUrl: 'https://app.asana.com/-/oauth_authorize',
    clientAuth: 'client_secret_post',
    rotation: { rotates: 'never' },
    defaultLifetimeSeconds: HOUR,
  },
  {
    // Basic auth with a JSON body; a refresh answers a new access token and a new refresh token. Older public
    // integrations' tokens state no expiry: when the answer has no expires_in the connection is kept alive daily
    // rather than trusted forever (RFC 6749 leaves it unknown).
    id: 'notion',
    displayName: 'Notion',
    source: 'https://developers.notion.com/docs/authorization',
    tokenUrl: 'https://api.notion.com/v1/oauth/token',
    authorizationUrl: 'https://api.notion.com/v1/oauth/authorize',
    authorization: { params: { owner: 'user' } },
    clientAuth: 'client_secret_basic',
    request: { format: 'json' },
    rotation: { rotates: 'always' },
    defaultLifetimeSeconds: null,
    keepAliveSeconds: DAY,
  },
  {
    // PKCE is required; one-hour access tokens; each refresh answers a new refresh token (60 days).
    id: 'airtable',
    displayName: 'Airtable',
    source: 'https://airtable.com/developers/web/api/oauth-reference',
    tokenUrl: 'https://airtable.com/oauth2/v1/token',
    authorizationUrl: 'https://airtable.com/oauth2/v1/authorize',
    authorization: { pkce: 'required' },
    clientAuth: 'client_secret_basic',
    rotation: { rotates: 'always' },
    defaultLifetimeSeconds: HOUR,
    refreshTokenLifetimeSeconds: 60 * DAY,
  },
  {
    // The answer's `host` names the account's data centre (www.wrike.com, app-eu.wrike.com): later refreshes go there.
    id: 'wrike',
    displayName: 'Wrike',
    source: 'https://developers.wrike.com/oauth-20-authorization/',
    tokenUrl: 'https://{domain}/oauth2/token',
    authorizationUrl: 'https://login.wrike.com/oauth2/authorize/v4',
    tokenUrlHosts: ['login.wrike.com', '*.wrike.com'],
    metadataDefaults: { domain: 'login.wrike.com' },
    clientAuth: 'client_secret_post',
    response: { metadata: { domain: 'host' } },
    rotation: { rotates: 'sometimes' },
    defaultLifetimeSeconds: HOUR,
  },
  {
    // Harvest ID. The documented lifetime could not be confirmed here: the answer's expires_in decides, and the RFC
    // default (an hour) stands in when it is missing. Harvest's API also wants a User-Agent naming the app.
    id: 'harvest',
    displayName: 'Harvest',
    source: 'https://help.getharvest.com/api-v2/authentication-api/authentication/authentication/',
    tokenUrl: 'https://id.getharvest.com/api/v2/oauth2/token',
    authorizationUrl: 'https://id.getharvest.com/oauth2/authorize',
    clientAuth: 'client_secret_post',
    rotation: { rotates: 'sometimes' },
  },
  {
    // Expiring tokens (the app setting Miro recommends): one-hour access tokens, rotating 60-day refresh tokens.
    id: 'miro',
    displayName: 'Miro',
    source: 'https://developers.miro.com/docs/getting-started-with-oauth',
    tokenUrl: 'https://api.miro.com/v1/oauth/token',
    authorizationUrl: 'https://miro.com/oauth/authorize',
    clientAuth: 'client_secret_post',
    rotation: { rotates: 'always' },
    defaultLifetimeSeconds: HOUR,
    refreshTokenLifetimeSeconds: 60 * DAY,
  },
  {
    // Basic auth for web clients; two-hour access tokens; single-use refresh tokens, each refresh answering the next.
    id: 'calendly',
    displayName: 'Calendly',
    source: 'https://developer.calendly.com/api-docs/calendly-o-auth/o-auth/post-oauth-refresh-token',
    tokenUrl: 'https://auth.calendly.com/oauth/token',
    revocationUrl: 'https://auth.calendly.com/oauth/revoke',
    authorizationUrl: 'https://auth.calendly.com/oauth/authorize',
    clientAuth: 'client_secret_basic',
    rotation: { rotates: 'always' },
    defaultLifetimeSeconds: 2 * HOUR,
  },
  {
    // Production and the developer sandbox are separate account servers (`domain`); 8-hour access tokens and
    // 30-day refresh tokens, a new one with each refresh.
    id: 'docusign',
    displayName: 'DocuSign eSignature',
    source: 'https://developers.docusign.com/platform/auth/authcode/authcode-get-token/',
    tokenUrl: 'https://{domain}/oauth/token',
    authorizationUrl: 'https://{domain}/oauth/auth',
    tokenUrlHosts: ['account.docusign.com', 'account-d.docusign.com'],
    metadataDefaults: { domain: 'account.docusign.com' },
    authorization: { defaultScopes: ['signature', 'extended'] },
    clientAuth: 'client_secret_basic',
    rotation: { rotates: 'always' },
    defaultLifetimeSeconds: 8 * HOUR,
    refreshTokenLifetimeSeconds: 30 * DAY,
  },
  {
    // One-week access tokens; the `offline` scope for a refresh token.
    id: 'typeform',
    displayName: 'Typeform',
    source: 'https://www.typeform.com/developers/get-started/applications/',
    tokenUrl: 'https://api.typeform.com/oauth/token',
    authorizationUrl: 'https://api.typeform.com/oauth/authorize',
    authorization: { defaultScopes: ['offline', 'accounts:read'] },
    clientAuth: 'client_secret_post',
    rotation: { rotates: 'sometimes' },
    defaultLifetimeSeconds: 7 * DAY,
  },
  {
    // Access tokens do not expire and no refresh token is issued: stored after the connect flow, never refreshed.
    id: 'monday',
    displayName: 'monday.com',
    source: 'https://developer.monday.com/apps/docs/oauth',
    tokenUrl: 'https://auth.monday.com/oauth2/token',
    authorizationUrl: 'https://auth.monday.com/oauth2/authorize',
    clientAuth: 'client_secret_post',
    response: { refreshToken: null },
    rotation: { rotates: 'never' },
    defaultLifetimeSeconds: null,
  },
  {
    // Access tokens do not expire and no refresh token is issued: stored after the connect flow, never refreshed.
    id: 'clickup',
    displayName: 'ClickUp',
    source: 'https://developer.clickup.com/docs/authentication',
    tokenUrl: 'https://api.clickup.com/api/v2/oauth/token',
    authorizationUrl: 'https://app.clickup.com/api',
    clientAuth: 'client_secret_post',
    response: { refreshToken: null },
    rotation: { rotates: 'never' },
    defaultLifetimeSeconds: null,
  },
];
