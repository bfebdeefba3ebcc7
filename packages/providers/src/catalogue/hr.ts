import type { ProviderEntry } from '@evergreen/core';
import { HOUR } from './units.ts';

/** HR and payroll. */
export const HR: readonly ProviderEntry[] = [
  {
    // Two-hour access tokens; each refresh answers the next refresh token, and the previous one is revoked once the
    // new access token is first used.
    id: 'gusto',
    displayName: 'Gusto',
    source: 'https://docs.gusto.com/app-integrations/docs/authentication',
    tokenUrl: 'https://api.gusto.com/oauth/token',
    revocationUrl: 'https://api.gusto.com/oauth/revoke',
    authorizationUrl: 'https://api.gusto.com/oauth/authorize',
    clientAuth: 'client_secret_post',
    rotation: { rotates: 'always' },
    defaultLifetimeSeconds: 2 * HOUR,
  },
];
