import type { ProviderDefinition } from '@evergreen/core';
import type { StoredConnection } from '@evergreen/store';

/** A credential grant needs its credentials: a password grant a login, a client-credentials grant a client. */
export function missingCredentials(provider: ProviderDefinition, connection: StoredConnection): boolean {
  if (provider.grant === 'password') return !connection.credentials?.username || !connection.credentials.password;
  if (provider.grant === 'client_credentials') {
    return (connection.credentials?.clientId ?? provider.clientId) === null;
  }
  return false;
}
