import {
  InvalidInputError,
  parseConnectionInput,
  planRefresh,
  resolveTokenUrl,
  type ConnectionInput,
  type InputIssue,
  type ProviderDefinition,
  type RefreshPlan,
} from '@evergreen/core';
import type { RefreshConfig } from '@evergreen/config';
import { timingPolicyFor } from '@evergreen/refresh';
import type { UpsertConnection } from '@evergreen/store';

export interface PreparedConnection {
  provider: ProviderDefinition;
  row: UpsertConnection;
  plan: Pick<RefreshPlan, 'expiresAt' | 'refreshAt'>;
}

/**
 * Everything enqueueConnection decides before touching Postgres or Redis: the input is valid, the provider is
 * configured and can renew this connection (its token URL can be made from the metadata; a credential grant has its
 * credentials), and when it expires and should be refreshed. Throws InvalidInputError naming each field.
 */
export function prepareConnection(
  raw: unknown,
  providers: ReadonlyMap<string, ProviderDefinition>,
  refresh: RefreshConfig,
  now: number,
  context = 'enqueueConnection',
): PreparedConnection {
  const input = parseConnectionInput(raw, context);
  const provider = providers.get(input.provider);
  if (!provider) throw unknownProvider(input.provider, providers, context);
  checkRenewal(provider, input, context);

  const renewable = provider.grant === 'refresh_token' ? input.refreshToken !== undefined : provider.grant !== 'none';
  // A credential-grant connection handed over without a token logs in at once.
  const plan =
    input.accessToken === undefined
      ? { expiresAt: null, refreshAt: now, refreshTokenExpiresAt: undefined }
      : planRefresh({
          now,
          issuedFrom: now,
          tokens: {
            accessToken: input.accessToken,
            ...(input.refreshToken !== undefined && { refreshToken: input.refreshToken }),
            ...(input.expiresIn !== undefined && { expiresInSeconds: input.expiresIn }),
            ...(input.expiresAt !== undefined && { expiresAt: input.expiresAt }),
            ...(input.refreshTokenExpiresIn !== undefined && {
              refreshTokenExpiresInSeconds: input.refreshTokenExpiresIn,
            }),
          },
          provider,
          renewable,
          current: { refreshToken: null, refreshTokenExpiresAt: null, refreshTokenWarned: false },
          timing: timingPolicyFor(provider, refresh),
          minIntervalMs: 0,
          random: Math.random,
        });
  const toDate = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms));
  return {
    provider,
    plan,
    row: {
      ...(input.connectionId !== undefined && { connectionId: input.connectionId }),
      ownerId: input.ownerId,
      provider: input.provider,
      ...(input.accessToken !== undefined && { accessToken: input.accessToken }),
      ...(input.refreshToken !== undefined && { refreshToken: input.refreshToken }),
      refreshTokenExpiresAt: toDate(plan.refreshTokenExpiresAt),
      ...(input.credentials !== undefined && { credentials: input.credentials }),
      scopes: input.scopes,
      metadata: input.metadata,
      expiresAt: toDate(plan.expiresAt),
      refreshAt: toDate(plan.refreshAt),
    },
  };
}

/**
 * What this provider needs to renew the connection, checked before anything is stored: the metadata its token URL
 * is made from, and the credentials of a credential grant.
 */
function checkRenewal(provider: ProviderDefinition, input: ConnectionInput, context: string): void {
  const issues: InputIssue[] = [];
  const credentialGrant = provider.grant === 'client_credentials' || provider.grant === 'password';
  if (input.accessToken === undefined && !credentialGrant) {
    issues.push({
      field: 'accessToken',
      reason: `is required (only credential grants can log in on their own; ${provider.id} uses ${provider.grant})`,
    });
  }
  if (provider.grant !== 'none') {
    const target = resolveTokenUrl(provider, input.metadata);
    if (!target.ok)
      issues.push({ field: target.field === 'tokenUrl' ? 'metadata' : target.field, reason: target.reason });
  }
  if (provider.grant === 'password') {
    if (!input.credentials?.username)
      issues.push({ field: 'credentials.username', reason: `is required by ${provider.id} (password grant)` });
    if (!input.credentials?.password)
      issues.push({ field: 'credentials.password', reason: `is required by ${provider.id} (password grant)` });
  }
  if (provider.grant === 'client_credentials' && provider.clientId === null && !input.credentials?.clientId) {
    issues.push({ field: 'credentials.clientId', reason: `is required: ${provider.id} has no client of its own` });
  }
  if (issues.length > 0) throw new InvalidInputError(context, issues);
}

function unknownProvider(
  id: string,
  providers: ReadonlyMap<string, ProviderDefinition>,
  context: string,
): InvalidInputError {
  const known = [...providers.keys()];
  return new InvalidInputError(context, [
    {
      field: 'provider',
      reason: `'${id}' is not configured (configured: ${known.length ? known.join(', ') : 'none'}); add it to the file named by EVERGREEN_PROVIDERS`,
    },
  ]);
}
