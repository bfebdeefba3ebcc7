import { z } from 'zod';
import type { ConnectionCredentials } from './connection-credentials.ts';
import { ASSERTION_ALGORITHMS } from './provider-definition.ts';
import { InvalidInputError, type InputIssue } from './errors.ts';
import { isStorableText, isStorableTime, isWellFormedText } from './storable.ts';

/**
 * BullMQ job ids may not contain ':', and ids travel in URLs and logs: keep them plain. Never dots alone: a URL path
 * reads `.` and `..` as "this" and "parent" (`/api/connections/./refresh` is the bulk route).
 */
export const CONNECTION_ID_PATTERN = /^(?!\.+$)[A-Za-z0-9_.-]{1,128}$/;
/** CONNECTION_ID_PATTERN in words, for the errors of every place that checks an id. */
export const CONNECTION_ID_RULE = 'must be 1-128 characters of letters, digits, "_", "." or "-", and not dots alone';
/** Provider ids name queues and Redis keys. */
export const PROVIDER_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

const MAX_TOKEN_LENGTH = 16_384;
/** RFC 6749 §3.3 scope tokens are short names; the joined list is sent with refreshes that carry the scopes. */
const MAX_SCOPE_LENGTH = 256;
const MAX_SCOPES = 500;
const MAX_SCOPES_TOTAL = 16_384;
const MAX_METADATA_BYTES = 16_384;
const TEN_YEARS_S = 10 * 365 * 24 * 3600;

const NOT_STORABLE = 'must not contain NUL characters or lone surrogates';

const token = z
  .string({ error: 'must be a string' })
  .min(1, { error: 'must not be empty' })
  .max(MAX_TOKEN_LENGTH, { error: `must be at most ${MAX_TOKEN_LENGTH} characters` })
  // The keyring seals UTF-8: a lone surrogate would decrypt as U+FFFD, a different token.
  .refine(isWellFormedText, { error: 'must be well-formed Unicode text (no lone surrogates)' });

/** A claim, an id or a type URI: short, printable, never a secret. */
const shortText = z
  .string({ error: 'must be a string' })
  .min(1, { error: 'must not be empty' })
  .max(1024, { error: 'must be at most 1024 characters' })
  .refine(isStorableText, { error: NOT_STORABLE });

/**
 * The shape of `enqueueConnection`'s input as zod sees it (types and bounds, not the checks across fields that
 * `parseConnectionInput` adds): exported so the HTTP API validates and documents the same shape.
 */
export const CONNECTION_INPUT_SCHEMA = z.strictObject(
  {
    connectionId: z
      .string({ error: 'must be a string' })
      .regex(CONNECTION_ID_PATTERN, { error: CONNECTION_ID_RULE })
      .optional(),
    ownerId: z
      .string({ error: 'is required and must be a string' })
      .min(1, { error: 'must not be empty' })
      .max(256, { error: 'must be at most 256 characters' })
      .refine(isStorableText, { error: NOT_STORABLE }),
    provider: z
      .string({ error: 'is required and must be a string' })
      .regex(PROVIDER_ID_PATTERN, { error: 'must be a provider id: lower-case letters, digits, "_" or "-"' }),
    accessToken: token.optional(),
    refreshToken: token.optional(),
    expiresAt: z
      .union([z.date(), z.iso.datetime({ offset: true })], {
        error: 'must be a Date or an ISO-8601 date-time string (use expiresIn for seconds)',
      })
      .optional(),
    expiresIn: z
      .number({ error: 'must be a number of seconds' })
      .finite({ error: 'must be finite' })
      .min(0, { error: 'must not be negative' })
      .max(TEN_YEARS_S, { error: 'must be at most ten years' })
      .optional(),
    refreshTokenExpiresIn: z
      .number({ error: 'must be a number of seconds' })
      .finite({ error: 'must be finite' })
      .min(0, { error: 'must not be negative' })
      .max(TEN_YEARS_S, { error: 'must be at most ten years' })
      .optional(),
    credentials: z
      .strictObject(
        {
          username: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }).max(1024).optional(),
          password: token.optional(),
          clientId: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }).max(1024).optional(),
          clientSecret: token.optional(),
          apiKey: token.optional(),
          privateKey: token.optional(),
          keyId: shortText.optional(),
          algorithm: z
            .enum(ASSERTION_ALGORITHMS, { error: `must be one of ${ASSERTION_ALGORITHMS.join(', ')}` })
            .optional(),
          issuer: shortText.optional(),
          subject: shortText.optional(),
          audience: shortText.optional(),
          appId: shortText.optional(),
          subjectToken: token.optional(),
          subjectTokenType: shortText.optional(),
        },
        { error: "must be an object holding the credentials of the provider's grant (docs/credentials.md)" },
      )
      .optional(),
    scopes: z
      .array(
        z
          .string({ error: 'must be a string' })
          .min(1, { error: 'must not be empty' })
          .max(MAX_SCOPE_LENGTH, { error: `must be at most ${MAX_SCOPE_LENGTH} characters` })
          .refine(isStorableText, { error: NOT_STORABLE }),
        { error: 'must be an array of strings' },
      )
      .max(MAX_SCOPES, { error: `must hold at most ${MAX_SCOPES} scopes` })
      .refine((scopes) => scopes.join(' ').length <= MAX_SCOPES_TOTAL, {
        error: `must be at most ${MAX_SCOPES_TOTAL} characters together (joined by spaces)`,
      })
      .optional(),
    metadata: z.record(z.string(), z.unknown(), { error: 'must be a plain object' }).optional(),
  },
  { error: 'must be an object' },
);

export interface ConnectionInput {
  connectionId?: string;
  ownerId: string;
  provider: string;
  /** Absent only for credential grants, which can log in on their own. */
  accessToken?: string;
  refreshToken?: string;
  /** Epoch ms. */
  expiresAt?: number;
  expiresIn?: number;
  refreshTokenExpiresIn?: number;
  /** For credential grants: a login (password grant) or a client of the connection's own (client credentials). */
  credentials?: ConnectionCredentials;
  scopes: string[];
  metadata: Record<string, unknown>;
}

/**
 * Checks what a producer hands `enqueueConnection()` and normalises it. Throws InvalidInputError naming every
 * offending field; messages never repeat the value, since a value may be a token.
 */
export function parseConnectionInput(raw: unknown, context = 'enqueueConnection'): ConnectionInput {
  const result = CONNECTION_INPUT_SCHEMA.safeParse(raw);
  if (!result.success) {
    throw new InvalidInputError(context, result.error.issues.map(toIssue));
  }
  const value = result.data;
  const issues: InputIssue[] = [];
  if (value.expiresAt !== undefined && value.expiresIn !== undefined) {
    issues.push({ field: 'expiresIn', reason: 'give either expiresAt or expiresIn, not both' });
  }
  const expiresAt = value.expiresAt === undefined ? undefined : new Date(value.expiresAt).getTime();
  if (expiresAt !== undefined && !Number.isFinite(expiresAt)) {
    issues.push({ field: 'expiresAt', reason: 'is not a valid date' });
  } else if (expiresAt !== undefined && !isStorableTime(expiresAt)) {
    // Postgres's timestamptz reads back four-digit years only.
    issues.push({ field: 'expiresAt', reason: 'must fall between the years 0001 and 9999' });
  }
  // zod reads a Date or a Map as an object without fields: credentials handed over so would be stored empty.
  const credentialsTag = Object.prototype.toString.call((raw as { credentials?: unknown }).credentials);
  if (value.credentials !== undefined && credentialsTag !== '[object Object]') {
    issues.push({
      field: 'credentials',
      reason: "must be a plain object holding the credentials of the provider's grant",
    });
  }
  // The caller's own object, not zod's copy: the copy loses a "__proto__" key (assigning it sets the prototype).
  const metadata = readMetadata(value.metadata === undefined ? {} : (raw as { metadata: object }).metadata);
  if (!metadata.ok) issues.push({ field: 'metadata', reason: metadata.reason });
  if (issues.length > 0 || !metadata.ok) throw new InvalidInputError(context, issues);

  return {
    ...(value.connectionId !== undefined && { connectionId: value.connectionId }),
    ownerId: value.ownerId,
    provider: value.provider,
    ...(value.accessToken !== undefined && { accessToken: value.accessToken }),
    ...(value.refreshToken !== undefined && { refreshToken: value.refreshToken }),
    ...(expiresAt !== undefined && { expiresAt }),
    ...(value.expiresIn !== undefined && { expiresIn: value.expiresIn }),
    ...(value.refreshTokenExpiresIn !== undefined && { refreshTokenExpiresIn: value.refreshTokenExpiresIn }),
    ...(value.credentials !== undefined && { credentials: value.credentials }),
    scopes: value.scopes ?? [],
    metadata: metadata.value,
  };
}

/**
 * Metadata as it will be stored: its JSON, read back, so what is checked and used is exactly what the row holds.
 * Exported for metadata updates, which must meet the same rules as an enqueue.
 */
export function readMetadata(
  metadata: object,
): { ok: true; value: Record<string, unknown> } | { ok: false; reason: string } {
  let json: string | undefined;
  let storable = true;
  try {
    // It is stored as jsonb, which refuses NUL characters and lone surrogates in keys and strings alike.
    json = JSON.stringify(metadata, (key: string, value: unknown) => {
      if (!isStorableText(key) || (typeof value === 'string' && !isStorableText(value))) storable = false;
      return value;
    });
  } catch {
    return { ok: false, reason: 'must be JSON-serialisable' };
  }
  const value: unknown = json === undefined ? undefined : JSON.parse(json);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'must be JSON-serialisable as an object' };
  }
  if (!storable) return { ok: false, reason: NOT_STORABLE };
  if (Buffer.byteLength(json) > MAX_METADATA_BYTES) {
    return { ok: false, reason: `must serialise to at most ${MAX_METADATA_BYTES} bytes` };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

function toIssue(issue: z.core.$ZodIssue): InputIssue {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    return { field: [...issue.path.map(String), issue.keys.join(', ')].join('.'), reason: 'is not a known field' };
  }
  return { field: path === '' ? '(input)' : path, reason: issue.message };
}
