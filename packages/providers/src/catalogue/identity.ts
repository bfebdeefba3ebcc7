import type { ProviderEntry } from '@evergreen/core';
import { DAY, HOUR } from './units.ts';

/** Identity platforms: sign-in and the APIs behind one account (Google, Microsoft, Okta, Auth0, Yahoo). */
export const IDENTITY: readonly ProviderEntry[] = [
  {
    // No rotation; the response carries no refresh_token, so the stored one is kept.
    id: 'google',
    displayName: 'Google',
    source: 'https://developers.google.com/identity/protocols/oauth2/web-server',
    tokenUrl: 'https://oauth2.googleapis.com/token',
    // https://developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke
    revocationUrl: 'https://oauth2.googleapis.com/revoke',
    // https://developers.google.com/identity/protocols/oauth2/web-server#creatingclient: a refresh token only with
    // access_type=offline, and again on a later consent only with prompt=consent.
    authorizationUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
    // https://developers.google.com/identity/openid-connect/openid-connect#discovery
    issuer: 'https://accounts.google.com',
    authorization: {
      defaultScopes: ['openid', 'email'],
      params: { access_type: 'offline', prompt: 'consent' },
      pkce: 'supported',
    },
    clientAuth: 'client_secret_post',
    rotation: { rotates: 'never' },
    defaultLifetimeSeconds: 3600,
  },
  {
    // Rotates, but the old refresh token stays valid; scope is required on every refresh; tenant in the URL.
    id: 'microsoft',
    displayName: 'Microsoft identity platform',
    source: 'https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow',
    tokenUrl: 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token',
    tokenUrlHosts: ['login.microsoftonline.com'],
    metadataDefaults: { tenant: 'common' },
    // https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow: the tenant in the path,
    // offline_access for a refresh token. No issuer: with `common` the id_token's iss names the user's own tenant.
    authorizationUrl: 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize',
    authorization: { defaultScopes: ['offline_access', 'User.Read'], pkce: 'supported' },
    clientAuth: 'client_secret_post',
    request: { scope: 'connection' },
    rotation: { rotates: 'always', graceSeconds: DAY },
    refreshTokenLifetimeSeconds: 90 * DAY,
  },
  {
    // The org's own domain (or a custom domain the operator lists); the `default` custom authorization server, which
    // is the one that issues refresh tokens for API access. Rotation is a per-app setting, with a 30-second grace
    // period by default (configurable 0-60 s): `sometimes` keeps whichever refresh token comes back.
    id: 'okta',
    displayName: 'Okta',
    source: 'https://developer.okta.com/docs/guides/refresh-tokens/main/',
    tokenUrl: 'https://{domain}/oauth2/default/v1/token',
    revocationUrl: 'https://{domain}/oauth2/default/v1/revoke',
    authorizationUrl: 'https://{domain}/oauth2/default/v1/authorize',
    tokenUrlHosts: ['*.okta.com', '*.oktapreview.com', '*.okta-emea.com'],
    authorization: { defaultScopes: ['openid', 'offline_access'], pkce: 'supported' },
    clientAuth: 'client_secret_basic',
    rotation: { rotates: 'sometimes', graceSeconds: 30 },
    defaultLifetimeSeconds: HOUR,
  },
  {
    // The tenant's domain (acme.us.auth0.com); a custom domain needs the entry's own tokenUrlHosts. Rotation is a
    // per-application setting with a reuse interval of 0 by default; access tokens last 24 hours unless the API says.
    id: 'auth0',
    displayName: 'Auth0',
    source: 'https://auth0.com/docs/secure/tokens/refresh-tokens/use-refresh-tokens',
    tokenUrl: 'https://{domain}/oauth/token',
    revocationUrl: 'https://{domain}/oauth/revoke',
    authorizationUrl: 'https://{domain}/authorize',
    tokenUrlHosts: ['*.auth0.com'],
    authorization: { defaultScopes: ['openid', 'offline_access'], pkce: 'supported' },
    clientAuth: 'client_secret_post',
    rotation: { rotates: 'sometimes' },
    defaultLifetimeSeconds: DAY,
  },
  {
    // One-hour access tokens; the refresh token does not expire and is not replaced (we keep whichever comes back).
    id: 'yahoo',
    displayName: 'Yahoo',
    source: 'https://developer.yahoo.com/oauth2/guide/flows_authcode/',
    tokenUrl: 'https://api.login.yahoo.com/oauth2/get_token',
    authorizationUrl: 'https://api.login.yahoo.com/oauth2/request_auth',
    authorization: { defaultScopes: ['openid'], pkce: 'supported' },
    clientAuth: 'client_secret_basic',
    rotation: { rotates: 'sometimes' },
    defaultLifetimeSeconds: HOUR,
  },
];
