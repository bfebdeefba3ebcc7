import type { ProviderEntry } from '@evergreen/core';
import { CATALOGUE } from './catalogue/index.ts';
import { CREDENTIAL_ENTRIES } from './credential-entries.ts';

/**
 * The built-in catalogue: what each provider's token endpoint does, as documented by the provider. Entries are
 * templates: a providers file names one (or `extends` it) and adds the client id and secret. The named providers live
 * in catalogue/, one file per category, each with its `source` (the provider's documentation page); the generic
 * entries below describe a kind of endpoint rather than a provider. docs/providers.md is generated from this list
 * (`pnpm docs:providers`).
 */
export const BUILTIN_PROVIDERS: readonly ProviderEntry[] = [
  ...CATALOGUE.flatMap((section) => section.providers),
  {
    // The reference systems' custom endpoint: POST {"refreshToken"} → {"accessToken", "refreshToken"}; the expiry
    // comes from the access token's JWT exp. Extend it with your tokenUrl.
    id: 'custom-json',
    displayName: 'Custom JSON refresh endpoint',
    // No authorization side: the app that extends it names its own authorizationUrl (or issuer).
    clientAuth: 'none',
    request: { format: 'json', grantTypeField: null, refreshTokenField: 'refreshToken' },
    response: { accessToken: 'accessToken', refreshToken: 'refreshToken', expiresIn: 'expiresIn', error: 'error' },
    rotation: { rotates: 'sometimes' },
  },
  {
    // A token that never expires (a GitHub personal access token): stored, never scheduled.
    id: 'github-pat',
    displayName: 'GitHub personal access token',
    grant: 'none',
    clientAuth: 'none',
    defaultLifetimeSeconds: null,
  },
  {
    // RFC 6749 §4.4: the connection renews with the client's own credentials (the provider's, or the connection's).
    id: 'client-credentials',
    displayName: 'OAuth 2.0 client credentials',
    grant: 'client_credentials',
    clientAuth: 'client_secret_basic',
  },
  {
    // RFC 6749 §4.3: the connection renews with a user's login, stored encrypted with it.
    id: 'password',
    displayName: 'OAuth 2.0 password grant',
    grant: 'password',
    clientAuth: 'client_secret_basic',
  },
  {
    // Reference 003's login endpoint: POST {"email", "password"} → {"token"} (a JWT whose exp is the expiry).
    id: 'json-login',
    displayName: 'JSON login endpoint',
    grant: 'password',
    clientAuth: 'none',
    request: { format: 'json', grantTypeField: null, usernameField: 'email', passwordField: 'password' },
    response: { accessToken: 'token', refreshToken: null },
    defaultLifetimeSeconds: null,
    keepAliveSeconds: 3600,
  },
  ...CREDENTIAL_ENTRIES,
];
