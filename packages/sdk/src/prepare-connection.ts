import {
  basicToken,
  InvalidInputError,
  privateKeyProblem,
  renewalUrlTemplate,
  renewsConnections,
  STATIC_GRANTS,
  type Grant,
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
  const parsed = parseConnectionInput(raw, context);
  const provider = providers.get(parsed.provider);
  if (!provider) throw unknownProvider(parsed.provider, providers, context);
  const normalised = withTextInstallationId(provider, parsed);
  checkRenewal(provider, normalised, context);
  const input = asStored(provider, normalised);

  const renewable = provider.grant === 'refresh_token' ? input.refreshToken !== undefined : renewsConnections(provider);
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
  const isStatic = STATIC_GRANTS.has(provider.grant);
  const logsInItself = LOGS_IN_ITSELF.has(provider.grant);
  if (input.accessToken === undefined && !logsInItself && !isStatic) {
    issues.push({
      field: 'accessToken',
      reason: `is required (only credential grants can log in on their own; ${provider.id} uses ${provider.grant})`,
    });
  }
  if (input.accessToken !== undefined && isStatic) {
    const where = provider.grant === 'api_key' ? 'credentials.apiKey' : 'credentials.username and .password';
    issues.push({ field: 'accessToken', reason: `is not taken by ${provider.id} (${provider.grant}): pass ${where}` });
  }
  issues.push(...credentialIssues(provider, input));
  const template = renewalUrlTemplate(provider);
  if (template !== null) {
    const target = resolveTokenUrl({ ...provider, tokenUrl: template }, input.metadata);
    const field = !target.ok && (target.field === 'tokenUrl' ? 'metadata' : target.field);
    // A field the grant's own rules already named (GitHub's installation id) is reported once, by them.
    if (!target.ok && field && !issues.some((i) => i.field === field)) issues.push({ field, reason: target.reason });
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

/** Grants that get their first access token themselves: no token need be handed over. */
const LOGS_IN_ITSELF: ReadonlySet<Grant> = new Set<Grant>([
  'client_credentials',
  'password',
  'jwt_bearer',
  'github_app_installation',
  'token_exchange',
]);

/** GitHub's installation ids are positive integers; anything else would only ever get a 404. */
const INSTALLATION_ID = /^[1-9][0-9]{0,19}$/;

/** What each grant needs among the connection's credentials (and, for GitHub, its metadata). Never quotes a value. */
function credentialIssues(provider: ProviderDefinition, input: ConnectionInput): InputIssue[] {
  const issues: InputIssue[] = [];
  const c = input.credentials ?? {};
  const need = (field: keyof typeof c, why: string) => {
    if (!c[field]) issues.push({ field: `credentials.${field}`, reason: `is required by ${provider.id} (${why})` });
  };
  // Signed through node:crypto, which reads PKCS#1 too (grant-assertion.ts).
  const key = () => {
    if (c.privateKey === undefined) {
      if (provider.privateKey === null) need('privateKey', `${provider.grant}: a PEM private key`);
      return;
    }
    const problem = privateKeyProblem(c.privateKey, c.algorithm ?? provider.privateKeyAlgorithm, { pkcs1: true });
    if (problem) issues.push({ field: 'credentials.privateKey', reason: problem });
  };
  switch (provider.grant) {
    case 'password':
      need('username', 'password grant');
      need('password', 'password grant');
      break;
    case 'client_credentials':
      if (provider.clientId === null && !c.clientId) {
        issues.push({ field: 'credentials.clientId', reason: `is required: ${provider.id} has no client of its own` });
      }
      break;
    case 'api_key':
      need('apiKey', 'api_key');
      break;
    case 'basic':
      need('username', 'HTTP Basic');
      need('password', 'HTTP Basic');
      // RFC 7617 §2: the first colon ends the user-id.
      if (c.username?.includes(':')) issues.push({ field: 'credentials.username', reason: 'must not contain ":"' });
      break;
    case 'jwt_bearer':
      key();
      if (!c.issuer && provider.clientId === null) need('issuer', "jwt_bearer: the assertion's iss");
      break;
    case 'github_app_installation': {
      key();
      if (c.algorithm !== undefined && c.algorithm !== 'RS256') {
        issues.push({
          field: 'credentials.algorithm',
          reason: 'must be RS256 (GitHub signs app JWTs with RS256 only)',
        });
      }
      if (!c.appId && provider.clientId === null) need('appId', 'github_app_installation: the App id');
      const id = input.metadata.installation_id;
      if (!(typeof id === 'string' || typeof id === 'number') || !INSTALLATION_ID.test(String(id))) {
        issues.push({
          field: 'metadata.installation_id',
          reason: 'must be the installation id, a positive whole number',
        });
      }
      break;
    }
    case 'token_exchange':
      need('subjectToken', 'token_exchange');
      break;
    default:
      break;
  }
  return issues;
}

/**
 * The connection as stored: a static credential becomes the access token (what a caller sends: the API key, or the
 * RFC 7617 Basic token), and is kept nowhere else.
 */
function asStored(provider: ProviderDefinition, input: ConnectionInput): ConnectionInput {
  const c = input.credentials;
  if (provider.grant === 'api_key' && c?.apiKey) {
    const { credentials: _dropped, ...rest } = input;
    return { ...rest, accessToken: c.apiKey };
  }
  if (provider.grant === 'basic' && c?.username && c.password) {
    const { credentials: _dropped, ...rest } = input;
    return { ...rest, accessToken: basicToken(c.username, c.password) };
  }
  return input;
}

/** GitHub's installation ids are numbers in its payloads; metadata fills URL placeholders as text. */
function withTextInstallationId(provider: ProviderDefinition, input: ConnectionInput): ConnectionInput {
  const installation = input.metadata.installation_id;
  if (provider.grant !== 'github_app_installation' || typeof installation !== 'number') return input;
  return { ...input, metadata: { ...input.metadata, installation_id: String(installation) } };
}
