import { createPrivateKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { PROVIDER_ID_PATTERN } from './connection-input.ts';
import type { InputIssue } from './errors.ts';
import {
  ABSOLUTE_TIME_FORMATS,
  ASSERTION_ALGORITHMS,
  ASSERTION_SCOPES,
  CLIENT_AUTH_METHODS,
  STATIC_GRANTS,
  type AssertionAlgorithm,
  DEFAULT_AUTHORIZATION_SHAPE,
  DEFAULT_REQUEST_SHAPE,
  DEFAULT_RESPONSE_SHAPE,
  ERROR_MEANINGS,
  GRANTS,
  PKCE_SUPPORT,
  type ProviderDefinition,
} from './provider-definition.ts';
import { tokenUrlHostPlaceholders, tokenUrlProblem, tokenUrlTemplateProblem } from './token-url.ts';
import { hostPatternProblem } from './token-url-hosts.ts';

const str = (what = 'must be a string') => z.string({ error: what });
const nonEmpty = () => str().min(1, { error: 'must not be empty' });
const path = () => nonEmpty();
const seconds = (what: string) =>
  z
    .number({ error: `must be a number of seconds${what}` })
    .int({ error: 'must be a whole number of seconds' })
    .positive({ error: 'must be positive' });
const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of ${values.join(', ')}` });

/** One entry of a providers file. Everything but `id` may come from the entry it extends (or the built-in). */
export const providerEntrySchema = z.strictObject({
  id: str('is required').regex(PROVIDER_ID_PATTERN, {
    error: 'must be lower-case letters, digits, "_" or "-", starting with a letter or digit',
  }),
  extends: str().regex(PROVIDER_ID_PATTERN, { error: 'must name a provider id' }).optional(),
  displayName: nonEmpty().optional(),
  /**
   * The provider's own documentation page the entry's facts come from (the built-ins' rule; docs/providers.md links
   * it). Never read by the refresh path.
   */
  source: nonEmpty()
    .regex(/^https:\/\/[^\s/?#]+([/?#]\S*)?$/, { error: 'must be an https URL of the documentation page' })
    .optional(),
  grant: oneOf(GRANTS).optional(),
  tokenUrl: nonEmpty().optional(),
  tokenUrlHosts: z.array(nonEmpty(), { error: 'must be a list of host patterns' }).nullable().optional(),
  metadataDefaults: z.record(str(), str(), { error: 'must map names to strings' }).optional(),
  /** null in an entry that extends a built-in: this deployment does not revoke there. */
  revocationUrl: nonEmpty().nullable().optional(),
  /** null in an entry that extends a built-in: no connect flow through this entry. */
  authorizationUrl: nonEmpty().nullable().optional(),
  issuer: nonEmpty().nullable().optional(),
  authorization: z
    .strictObject({
      scopeSeparator: str().min(1, { error: 'must not be empty' }).optional(),
      defaultScopes: z.array(nonEmpty(), { error: 'must be a list of scopes' }).optional(),
      params: z.record(str(), str(), { error: 'must map names to strings' }).optional(),
      pkce: oneOf(PKCE_SUPPORT).optional(),
    })
    .optional(),
  clientId: nonEmpty().optional(),
  clientSecret: nonEmpty().optional(),
  clientAuth: oneOf(CLIENT_AUTH_METHODS).optional(),
  privateKey: nonEmpty().optional(),
  privateKeyAlgorithm: oneOf(ASSERTION_ALGORITHMS).optional(),
  keyId: nonEmpty().optional(),
  assertionAudience: nonEmpty().optional(),
  assertionScope: oneOf(ASSERTION_SCOPES).optional(),
  /** api_key: how the provider's API takes the key. */
  apiKey: z
    .strictObject({
      in: oneOf(['header', 'query'] as const).optional(),
      name: nonEmpty().optional(),
      prefix: str().optional(),
    })
    .optional(),
  /** api_key, basic: a request that says whether the credential still works. null: none. */
  check: z
    .strictObject({
      url: nonEmpty(),
      method: oneOf(['GET', 'POST'] as const).optional(),
      revokedStatuses: z
        .array(
          z
            .number({ error: 'must be a number' })
            .int({ error: 'must be a whole number' })
            .min(400, { error: 'must be a 4xx status' })
            .max(499, { error: 'must be a 4xx status' }),
          { error: 'must be a list of HTTP statuses' },
        )
        .min(1, { error: 'must name at least one status' })
        .optional(),
      intervalSeconds: seconds('').min(60, { error: 'must be at least 60' }).optional(),
    })
    .nullable()
    .optional(),
  statusErrors: z
    .record(str().regex(/^[1-5]\d\d$/), oneOf(ERROR_MEANINGS), {
      error: 'must map HTTP statuses (such as "404") to meanings',
    })
    .optional(),
  /** Shorthand for `request.scope: fixed` with this value. */
  scope: nonEmpty().optional(),
  request: z
    .strictObject({
      format: oneOf(['form', 'json'] as const).optional(),
      grantTypeField: nonEmpty().nullable().optional(),
      refreshTokenField: nonEmpty().optional(),
      usernameField: nonEmpty().optional(),
      passwordField: nonEmpty().optional(),
      scope: oneOf(['none', 'connection', 'fixed'] as const).optional(),
      scopeValue: nonEmpty().nullable().optional(),
      params: z.record(str(), str(), { error: 'must map names to strings' }).optional(),
    })
    .optional(),
  response: z
    .strictObject({
      accessToken: path().optional(),
      refreshToken: path().nullable().optional(),
      expiresIn: path().nullable().optional(),
      expiresInUnit: oneOf(['seconds', 'milliseconds'] as const).optional(),
      expiresAt: path().nullable().optional(),
      expiresAtFormat: oneOf(ABSOLUTE_TIME_FORMATS).optional(),
      issuedAt: path().nullable().optional(),
      issuedAtFormat: oneOf(ABSOLUTE_TIME_FORMATS).optional(),
      refreshTokenExpiresIn: path().nullable().optional(),
      error: path().optional(),
      successFlag: path().nullable().optional(),
      metadata: z.record(str(), path(), { error: 'must map metadata keys to response paths' }).optional(),
    })
    .optional(),
  errors: z.record(str(), oneOf(ERROR_MEANINGS), { error: 'must map error codes to meanings' }).optional(),
  rotation: z
    .strictObject({
      rotates: oneOf(['always', 'sometimes', 'never'] as const).optional(),
      graceSeconds: z
        .number({ error: 'must be a number of seconds' })
        .int({ error: 'must be a whole number of seconds' })
        .min(0, { error: 'must not be negative' })
        .optional(),
    })
    .optional(),
  refreshBufferSeconds: z
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number of seconds' })
    .min(0, { error: 'must not be negative' })
    .max(86_400, { error: 'must be at most 86400 (a day)' })
    .optional(),
  defaultLifetimeSeconds: seconds(' or null').nullable().optional(),
  keepAliveSeconds: seconds(' or null').nullable().optional(),
  refreshTokenLifetimeSeconds: seconds(' or null').nullable().optional(),
  refreshTokenWarningSeconds: seconds('').optional(),
  rateLimit: z
    .strictObject({
      max: z
        .number({ error: 'must be a number' })
        .int({ error: 'must be a whole number' })
        .positive({ error: 'must be positive' }),
      durationMs: z
        .number({ error: 'must be a number' })
        .int({ error: 'must be a whole number' })
        .positive({ error: 'must be positive' }),
    })
    .nullable()
    .optional(),
  queueShards: z
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(1, { error: 'must be at least 1' })
    .max(256, { error: 'must be at most 256' })
    .nullable()
    .optional(),
});

export type ProviderEntry = z.input<typeof providerEntrySchema>;
type Entry = z.output<typeof providerEntrySchema>;

const DEFAULTS: Omit<ProviderDefinition, 'id' | 'displayName' | 'tokenUrl' | 'clientId'> = {
  grant: 'refresh_token',
  tokenUrlHosts: null,
  metadataDefaults: {},
  revocationUrl: null,
  authorizationUrl: null,
  issuer: null,
  authorization: DEFAULT_AUTHORIZATION_SHAPE,
  clientSecret: null,
  clientAuth: 'client_secret_basic',
  privateKey: null,
  privateKeyAlgorithm: 'RS256',
  keyId: null,
  assertionAudience: null,
  assertionScope: 'request',
  apiKey: { in: 'header', name: 'Authorization', prefix: 'Bearer ' },
  check: null,
  statusErrors: {},
  request: DEFAULT_REQUEST_SHAPE,
  response: DEFAULT_RESPONSE_SHAPE,
  errors: {},
  rotation: { rotates: 'sometimes', graceSeconds: 0 },
  refreshBufferSeconds: 300,
  defaultLifetimeSeconds: 3600,
  keepAliveSeconds: null,
  refreshTokenLifetimeSeconds: null,
  refreshTokenWarningSeconds: 7 * 24 * 3600,
  rateLimit: null,
  queueShards: null,
};

export type EntryResult = { ok: true; provider: ProviderDefinition } | { ok: false; issues: InputIssue[] };

/**
 * Resolves providers-file entries against the built-ins. An entry `extends` a built-in or an earlier entry; an entry
 * named like a built-in starts from it. Issues name the entry (`providers[2] (salesforce)`) and the field.
 */
export function resolveProviderEntries(
  builtins: readonly ProviderEntry[],
  entries: readonly unknown[],
  source = 'providers',
): { providers: ProviderDefinition[]; issues: InputIssue[] } {
  const known = new Map<string, Entry>();
  for (const builtin of builtins) known.set(builtin.id, providerEntrySchema.parse(builtin));
  const providers: ProviderDefinition[] = [];
  const issues: InputIssue[] = [];
  const seen = new Set<string>();
  entries.forEach((raw, index) => {
    const id =
      typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'string'
        ? (raw as { id: string }).id
        : null;
    const where = `${source}[${index}]${id ? ` (${id})` : ''}`;
    const parsed = providerEntrySchema.safeParse(raw);
    if (!parsed.success) {
      issues.push(...parsed.error.issues.map((i) => ({ field: `${where}.${fieldOf(i)}`, reason: reasonOf(i) })));
      return;
    }
    const entry = parsed.data;
    if (seen.has(entry.id)) {
      issues.push({ field: `${where}.id`, reason: `'${entry.id}' is defined twice` });
      return;
    }
    const baseId = entry.extends ?? (known.has(entry.id) ? entry.id : undefined);
    const base = baseId === undefined ? undefined : known.get(baseId);
    if (baseId !== undefined && !base) {
      issues.push({ field: `${where}.extends`, reason: `'${baseId}' is neither a built-in nor an earlier entry` });
      return;
    }
    const merged = base ? mergeEntries(base, entry) : entry;
    const result = finishEntry(merged);
    if (!result.ok) {
      issues.push(...result.issues.map((i) => ({ field: `${where}.${i.field}`, reason: i.reason })));
      return;
    }
    seen.add(entry.id);
    known.set(entry.id, merged);
    providers.push(result.provider);
  });
  return { providers, issues };
}

/** One entry on its own, no `extends`: defaults applied, required fields checked. */
export function parseProviderEntry(raw: unknown): EntryResult {
  const parsed = providerEntrySchema.safeParse(raw);
  if (!parsed.success)
    return { ok: false, issues: parsed.error.issues.map((i) => ({ field: fieldOf(i), reason: reasonOf(i) })) };
  if (parsed.data.extends !== undefined) {
    return { ok: false, issues: [{ field: 'extends', reason: 'needs the other entries: resolve the whole file' }] };
  }
  return finishEntry(parsed.data);
}

function mergeEntries(base: Entry, over: Entry): Entry {
  const { extends: _ignored, ...rest } = over;
  // A child that sets request.scope itself must not inherit the base's `scope` shorthand, applied after it.
  const childScope = over.request?.scope !== undefined || over.request?.scopeValue !== undefined;
  return {
    ...base,
    ...(childScope && over.scope === undefined && { scope: undefined }),
    ...rest,
    extends: undefined,
    metadataDefaults: { ...base.metadataDefaults, ...over.metadataDefaults },
    request: { ...base.request, ...over.request, params: { ...base.request?.params, ...over.request?.params } },
    response: {
      ...base.response,
      ...over.response,
      metadata: { ...base.response?.metadata, ...over.response?.metadata },
    },
    errors: { ...base.errors, ...over.errors },
    statusErrors: { ...base.statusErrors, ...over.statusErrors },
    apiKey: { ...base.apiKey, ...over.apiKey },
    authorization: {
      ...base.authorization,
      ...over.authorization,
      params: { ...base.authorization?.params, ...over.authorization?.params },
    },
    rotation: { ...base.rotation, ...over.rotation },
  };
}

function finishEntry(entry: Entry): EntryResult {
  const issues: InputIssue[] = [];
  const grant = entry.grant ?? DEFAULTS.grant;
  const clientAuth = entry.clientAuth ?? DEFAULTS.clientAuth;
  const isStatic = STATIC_GRANTS.has(grant);
  // Static credentials never reach a token endpoint: they need neither a token URL nor a client.
  const renews = grant !== 'none' && !isStatic;
  // The app JWT is the client's proof at GitHub's installation endpoint; a signed assertion stands for the grant.
  const needsClient = renews && grant !== 'github_app_installation';
  const issuer = entry.issuer ?? null;
  // An OpenID Connect entry may name its issuer alone: its endpoints then come from discovery (oidc-discovery.ts).
  if (renews && entry.tokenUrl === undefined && issuer === null) {
    issues.push({ field: 'tokenUrl', reason: 'is required' });
  }
  if (issuer !== null) {
    const problem = issuerProblem(issuer);
    if (problem) issues.push({ field: 'issuer', reason: problem });
  }
  issues.push(...urlIssues(entry));
  entry.tokenUrlHosts?.forEach((pattern, index) => {
    const problem = hostPatternProblem(pattern);
    if (problem) issues.push({ field: `tokenUrlHosts.${index}`, reason: problem });
  });
  if (needsClient && clientAuth !== 'none' && entry.clientId === undefined)
    issues.push({ field: 'clientId', reason: 'is required' });
  if (
    renews &&
    (clientAuth === 'client_secret_basic' || clientAuth === 'client_secret_post') &&
    entry.clientSecret === undefined
  ) {
    issues.push({ field: 'clientSecret', reason: `is required with clientAuth ${clientAuth}` });
  }
  if (renews && clientAuth === 'private_key_jwt' && entry.privateKey === undefined) {
    issues.push({ field: 'privateKey', reason: 'is required with clientAuth private_key_jwt (a PEM private key)' });
  }
  if (entry.privateKey !== undefined) {
    const problem = privateKeyProblem(entry.privateKey, entry.privateKeyAlgorithm ?? DEFAULTS.privateKeyAlgorithm, {
      // A grant's own JWT is signed through node:crypto, which reads PKCS#1 too (GitHub hands out App keys so, and
      // `openssl genrsa` of OpenSSL 1.x writes them); a client assertion's key goes through jose's PKCS#8 import.
      pkcs1: (grant === 'github_app_installation' || grant === 'jwt_bearer') && clientAuth !== 'private_key_jwt',
    });
    if (problem) issues.push({ field: 'privateKey', reason: problem });
  }
  if (entry.check && !isStatic) {
    issues.push({ field: 'check', reason: `is for api_key and basic connections, not the ${grant} grant` });
  }
  const check = entry.check
    ? {
        url: entry.check.url,
        method: entry.check.method ?? 'GET',
        revokedStatuses: entry.check.revokedStatuses ?? [401, 403],
        intervalSeconds: entry.check.intervalSeconds ?? 86_400,
      }
    : null;
  const request = { ...DEFAULTS.request, ...stripUndefined(entry.request ?? {}) };
  if (entry.scope !== undefined) Object.assign(request, { scope: 'fixed', scopeValue: entry.scope });
  if (request.scope === 'fixed' && !request.scopeValue)
    issues.push({ field: 'request.scopeValue', reason: 'is required with scope fixed' });
  if (issues.length > 0) return { ok: false, issues };

  return {
    ok: true,
    provider: {
      ...DEFAULTS,
      ...stripUndefined({
        grant,
        clientAuth,
        tokenUrlHosts: entry.tokenUrlHosts,
        revocationUrl: entry.revocationUrl,
        authorizationUrl: entry.authorizationUrl,
        issuer,
        clientSecret: entry.clientSecret,
        privateKey: entry.privateKey,
        privateKeyAlgorithm: entry.privateKeyAlgorithm,
        keyId: entry.keyId,
        assertionAudience: entry.assertionAudience,
        assertionScope: entry.assertionScope,
        refreshBufferSeconds: entry.refreshBufferSeconds,
        defaultLifetimeSeconds: entry.defaultLifetimeSeconds,
        keepAliveSeconds: entry.keepAliveSeconds,
        // A static credential has no lifetime: its only schedule is the check's.
        ...(isStatic && { defaultLifetimeSeconds: null, keepAliveSeconds: check?.intervalSeconds ?? null }),
        refreshTokenLifetimeSeconds: entry.refreshTokenLifetimeSeconds,
        refreshTokenWarningSeconds: entry.refreshTokenWarningSeconds,
        rateLimit: entry.rateLimit,
        queueShards: entry.queueShards,
      }),
      id: entry.id,
      displayName: entry.displayName ?? entry.id,
      tokenUrl: entry.tokenUrl ?? '',
      clientId: entry.clientId ?? null,
      metadataDefaults: entry.metadataDefaults ?? {},
      request: { ...request, params: request.params ?? {} },
      response: {
        ...DEFAULTS.response,
        ...stripUndefined(entry.response ?? {}),
        metadata: entry.response?.metadata ?? {},
      },
      errors: entry.errors ?? {},
      statusErrors: entry.statusErrors ?? {},
      apiKey: { ...DEFAULTS.apiKey, ...stripUndefined(entry.apiKey ?? {}) },
      check,
      authorization: {
        ...DEFAULTS.authorization,
        ...stripUndefined(entry.authorization ?? {}),
        params: entry.authorization?.params ?? {},
        defaultScopes: entry.authorization?.defaultScopes ?? [],
      },
      rotation: { ...DEFAULTS.rotation, ...stripUndefined(entry.rotation ?? {}) },
    },
  };
}

/**
 * The token and revocation URL templates. Metadata comes from producers and providers' answers: a template taking
 * its host from there without a `tokenUrlHosts` list could send a token and the client secret anywhere, internal
 * addresses included (issue 15, finding 3). One issue for the list, naming every template that needs it.
 */
function urlIssues(entry: Entry): InputIssue[] {
  const issues: InputIssue[] = [];
  const needHosts: string[] = [];
  const placeholders = new Set<string>();
  const templates = {
    tokenUrl: entry.tokenUrl,
    revocationUrl: entry.revocationUrl,
    authorizationUrl: entry.authorizationUrl,
    'check.url': entry.check?.url,
  };
  for (const [field, template] of Object.entries(templates)) {
    if (template === undefined || template === null) continue;
    const problem = tokenUrlTemplateProblem(template);
    if (problem) {
      issues.push({ field, reason: problem });
      continue;
    }
    const fromMetadata = tokenUrlHostPlaceholders(template);
    if (fromMetadata.length === 0) continue;
    needHosts.push(field);
    for (const name of fromMetadata) placeholders.add(`{${name}}`);
  }
  if (needHosts.length > 0 && (entry.tokenUrlHosts ?? null) === null) {
    const which = needHosts.length === 1 ? `${needHosts[0]} takes its` : `${needHosts.join(' and ')} take their`;
    issues.push({
      field: 'tokenUrlHosts',
      reason: `is required: ${which} host from metadata (${[...placeholders].join(', ')}); list the hosts it may reach, such as *.example.com`,
    });
  }
  return issues;
}

/**
 * OpenID Connect Core §2: the issuer is an https URL without query or fragment (plain http on loopback, as for token
 * URLs); it is compared to an id_token's `iss` exactly.
 */
function issuerProblem(issuer: string): string | null {
  const problem = tokenUrlProblem(issuer);
  if (problem) return problem;
  const url = new URL(issuer);
  return url.search !== '' || url.hash !== '' ? 'must have no query or fragment' : null;
}

/**
 * A key that cannot sign is found at start (or at enqueue, for a connection's own key), not at the first refresh. The
 * message never quotes the key. `pkcs1`: GitHub's `BEGIN RSA PRIVATE KEY` is accepted too.
 */
export function privateKeyProblem(
  pem: string,
  algorithm: AssertionAlgorithm,
  options: { pkcs1?: boolean } = {},
): string | null {
  const pkcs1 = options.pkcs1 === true && pem.includes('-----BEGIN RSA PRIVATE KEY-----');
  if (!pem.includes('-----BEGIN PRIVATE KEY-----') && !pkcs1) {
    if (options.pkcs1) return 'must be a PEM private key (BEGIN PRIVATE KEY, or BEGIN RSA PRIVATE KEY)';
    return 'must be a PKCS#8 PEM key (BEGIN PRIVATE KEY); convert with `openssl pkcs8 -topk8 -nocrypt`';
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    return 'is not a readable PEM private key';
  }
  const type = key.asymmetricKeyType;
  if (algorithm === 'ES256') {
    return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1'
      ? null
      : 'must be a P-256 EC key for ES256';
  }
  return type === 'rsa' || type === 'rsa-pss' ? null : `must be an RSA key for ${algorithm}`;
}

function stripUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as never;
}

function fieldOf(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return [...issue.path.map(String), issue.keys.join(', ')].join('.');
  return issue.path.map(String).join('.') || '(entry)';
}

function reasonOf(issue: z.core.$ZodIssue): string {
  return issue.code === 'unrecognized_keys' ? 'is not a known field' : issue.message;
}
