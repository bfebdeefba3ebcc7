import type { ProviderDefinition } from '@evergreen/core';
import type { OidcDiscovery } from './oidc-discovery.ts';

/**
 * Fills in the endpoints an OpenID Connect entry left to discovery (`issuer` alone, or without `authorizationUrl`):
 * the token, authorization and revocation endpoints from the issuer's `/.well-known/openid-configuration`. The
 * definitions are this process's own (parsed from its providers file), so they are completed in place, once, before
 * the first refresh. Answers the providers whose discovery failed, with why; their refreshes fail as `error` (no token
 * URL) until a restart finds the issuer answering.
 */
export async function completeFromDiscovery(
  providers: Iterable<ProviderDefinition>,
  discovery: Pick<OidcDiscovery, 'discover'>,
): Promise<{ provider: string; reason: string }[]> {
  const failures: { provider: string; reason: string }[] = [];
  const pending = [...providers].filter((p) => p.issuer !== null && (p.tokenUrl === '' || p.authorizationUrl === null));
  await Promise.all(
    pending.map(async (provider) => {
      const found = await discovery.discover(provider.issuer as string);
      if (!found.ok) {
        failures.push({ provider: provider.id, reason: found.reason });
        return;
      }
      const { configuration } = found;
      const definition = provider;
      if (definition.tokenUrl === '') definition.tokenUrl = configuration.tokenEndpoint;
      definition.authorizationUrl ??= configuration.authorizationEndpoint;
      definition.revocationUrl ??= configuration.revocationEndpoint;
    }),
  );
  return failures;
}
