import { CONNECTION_INPUT_SCHEMA, CONNECTION_STATUSES } from '@evergreen/core';
import { connectionPageSchema, connectionViewSchema, listQuery } from '@evergreen/operator';
import { z } from 'zod';

/**
 * The /v1 routes' shapes. Inputs are validated with them (400 naming each field); every response is serialised
 * through its schema, which drops what it does not declare; the same schemas make the OpenAPI document.
 */

export { connectionPageSchema, connectionViewSchema, listQuery };

const blankToUndefined = (value: unknown) => (value === '' ? undefined : value);
const seconds = (max: number) =>
  z.coerce
    .number({ error: 'must be a whole number of seconds' })
    .int('must be a whole number of seconds')
    .min(0, 'must be at least 0')
    .max(max, `must be at most ${max}`);

/** A day: a token that must outlive that is not a token any provider issues. */
const MAX_MIN_VALIDITY_SECONDS = 24 * 3600;
export const MAX_BATCH_ITEMS = 1_000;

const minValiditySeconds = z
  .preprocess(blankToUndefined, seconds(MAX_MIN_VALIDITY_SECONDS).optional())
  .describe(
    "The token must stay valid this long; it is refreshed first when it would not. Default: the provider's buffer.",
  );

/** The SDK's own default: a caller that wants longer asks for it. */
export const MAX_TIMEOUT_MS = 120_000;

const timeoutMs = z
  .preprocess(
    blankToUndefined,
    z.coerce
      .number({ error: 'must be a whole number of milliseconds' })
      .int('must be a whole number of milliseconds')
      .min(1, 'must be at least 1')
      .max(MAX_TIMEOUT_MS, `must be at most ${MAX_TIMEOUT_MS}`)
      .optional(),
  )
  .describe(
    'The longest the call may wait for a refresh, its own or one in flight elsewhere (default 30000); past it the ' +
      'answer is 503 ERR_TOKEN_TIMEOUT.',
  );

export const tokenQuery = z.strictObject({ minValiditySeconds, timeoutMs });
export const refreshQuery = z.strictObject({ timeoutMs });

const required = (what: string) =>
  z
    .string({ error: 'is required' })
    .min(1, 'must not be empty')
    .max(256, 'must be at most 256 characters')
    .describe(what);

export const tokenByOwnerQuery = z.strictObject({
  ownerId: required('The owner the connection was enqueued for.'),
  provider: required('The provider id.'),
  minValiditySeconds,
  timeoutMs,
});

/** enqueueConnection's input, as core checks it (the checks across fields follow in the SDK). */
export const connectionInput = CONNECTION_INPUT_SCHEMA;

export const batchBody = z.strictObject({
  items: z
    .array(
      // Each item is checked on its own by enqueueConnections (a bad one becomes its own error result, the others are
      // stored), so validation lets any item through; the union documents the shape: the transform drops the
      // unknown branch, which has no JSON Schema of its own.
      z.union([connectionInput, z.unknown()]),
      { error: 'must be an array of connections' },
    )
    .min(1, 'must hold at least one connection')
    .max(MAX_BATCH_ITEMS, `must hold at most ${MAX_BATCH_ITEMS} connections`),
});

/** Only `revoke`, and only `true` or `false`: anything else is refused (400), never read as false. */
export const disconnectQuery = z.strictObject({
  revoke: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .optional()
    .describe('true: also revoke the grant at the provider (RFC 7009) where it has a revocation endpoint'),
});

/** The disconnected connection; with `?revoke=true`, whether the grant was revoked and why not. */
export const disconnectResultSchema = connectionViewSchema.extend({
  revoked: z
    .boolean()
    .optional()
    .describe('With ?revoke=true: whether the provider revoked the grant. The connection is disconnected either way.'),
  revocationReason: z
    .enum(['no_endpoint', 'no_token', 'invalid_url', 'provider_error'])
    .optional()
    .describe(
      'Why not: no_endpoint (the provider has no revocation URL), no_token (nothing stored to revoke), invalid_url ' +
        "(the URL cannot be filled from the connection's metadata), provider_error (the provider or network failed)",
    ),
  revocationRetryable: z.boolean().optional().describe('With provider_error: whether a later try may succeed'),
});

export const metadataPatchBody = z.strictObject({
  metadata: z
    .record(z.string(), z.unknown(), { error: 'must be an object' })
    .describe('Merged into the stored metadata; a null value removes its key (RFC 7396).'),
});

const timestamp = z.date();

export const enqueueResultSchema = z.object({
  connectionId: z.string(),
  status: z.enum(CONNECTION_STATUSES),
  expiresAt: timestamp.nullable(),
  refreshAt: timestamp.nullable(),
  scheduling: z.enum(['scheduled', 'pending', 'not_needed']),
  created: z.boolean().describe('True when this call stored a new connection, false when it replaced its tokens.'),
});

const issueSchema = z.object({ field: z.string(), reason: z.string() });

export const batchResultSchema = z.object({
  results: z.array(
    z.union([
      enqueueResultSchema.extend({ index: z.number().int(), ok: z.literal(true) }),
      z.object({
        index: z.number().int(),
        ok: z.literal(false),
        error: z.object({ code: z.string(), message: z.string(), issues: z.array(issueSchema) }),
      }),
    ]),
  ),
  succeeded: z.number().int(),
  failed: z.number().int(),
});

const credentialSend = z
  .object({ in: z.enum(['header', 'query']), name: z.string(), value: z.string() })
  .describe('The one header or query parameter that carries the credential, ready to send.');

const tokenBase = {
  accessToken: z.string().describe('The bearer token, the API key, or the Basic token (base64 of username:password).'),
  expiresAt: timestamp.nullable(),
  scopes: z.array(z.string()),
  provider: z.string(),
  send: credentialSend,
};

/** docs/credentials.md: what the caller holds, by `type`. */
export const tokenSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('bearer'), tokenType: z.literal('Bearer'), ...tokenBase }),
  z.object({ type: z.literal('api_key'), tokenType: z.literal('ApiKey'), apiKey: z.string(), ...tokenBase }),
  z.object({
    type: z.literal('basic'),
    tokenType: z.literal('Basic'),
    username: z.string(),
    password: z.string(),
    ...tokenBase,
  }),
]);

/** RFC 9457 problem details with Evergreen's stable code. */
export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string(),
  errors: z.array(issueSchema).optional(),
  reason: z
    .string()
    .optional()
    .describe(
      'ERR_REFRESH_FAILED, ERR_REFRESH_UNAVAILABLE: the classified reason (invalid_client, server_error, ...).',
    ),
});

/** Problem responses for a route's OpenAPI entry, served as application/problem+json. */
export function problemResponses(...statuses: number[]): Record<number, unknown> {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: 'Problem details (RFC 9457)', content: { 'application/problem+json': { schema: problemSchema } } },
    ]),
  );
}
