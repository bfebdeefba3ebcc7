import type { ProviderDefinition } from '@evergreen/core';
import type { StoredConnection } from '@evergreen/store';

/**
 * A grant that renews from stored credentials needs them: a password grant a login, a client-credentials grant a
 * client, a signed grant a key (the connection's or the provider's), a token exchange its subject token.
 */
export function missingCredentials(provider: ProviderDefinition, connection: StoredConnection): boolean {
  const credentials = connection.credentials;
  switch (provider.grant) {
    case 'password':
      return !credentials?.username || !credentials.password;
    case 'client_credentials':
      return (credentials?.clientId ?? provider.clientId) === null;
    case 'jwt_bearer':
      return !(credentials?.privateKey ?? provider.privateKey) || !(credentials?.issuer ?? provider.clientId);
    case 'github_app_installation':
      return !(credentials?.privateKey ?? provider.privateKey) || !(credentials?.appId ?? provider.clientId);
    case 'token_exchange':
      return !credentials?.subjectToken;
    default:
      return false;
  }
}
