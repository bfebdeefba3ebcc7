import { z } from 'zod';
import { InvalidInputError, type InputIssue } from './errors.ts';

/** BullMQ job ids may not contain ':', and ids travel in URLs and logs: keep them plain. */
export const CONNECTION_ID_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;
/** Provider ids name queues and Redis keys. */
export const PROVIDER_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

const MAX_TOKEN_LENGTH = 16_384;
const MAX_METADATA_BYTES = 16_384;
const TEN_YEARS_S = 10 * 365 * 24 * 3600;

const token = z
  .string({ error: 'must be a string' })
  .min(1, { error: 'must not be empty' })
  .max(MAX_TOKEN_LENGTH, { error: `must be at most ${MAX_TOKEN_LENGTH} characters` });

const inputSchema = z.strictObject(
  {
    connectionId: z
      .string({ error: 'must be a string' })
      .regex(CONNECTION_ID_PATTERN, { error: 'must be 1-128 characters of letters, digits, "_", "." or "-"' })
      .optional(),
    ownerId: z
      .string({ error: 'is required and must be a string' })
      .min(1, { error: 'must not be empty' })
      .max(256, { error: 'must be at most 256 characters' }),
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
        },
        { error: 'must be an object with username and password, or clientId and clientSecret' },
      )
      .optional(),
    scopes: z
      .array(z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }), {
        error: 'must be an array of strings',
      })
      .max(500, { error: 'must hold at most 500 scopes' })
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
  credentials?: { username?: string; password?: string; clientId?: string; clientSecret?: string };
  scopes: string[];
  metadata: Record<string, unknown>;
}

/**
 * Checks what a producer hands `enqueueConnection()` and normalises it. Throws InvalidInputError naming every
 * offending field; messages never repeat the value, since a value may be a token.
 */
export function parseConnectionInput(raw: unknown, context = 'enqueueConnection'): ConnectionInput {
  const result = inputSchema.safeParse(raw);
  if (!result.success) {
    throw new InvalidInputError(context, result.error.issues.map(toIssue));
  }
  const value = result.data;
  const issues: InputIssue[] = [];
  if (value.expiresAt !== undefined && value.expiresIn !== undefined) {
    issues.push({ field: 'expiresIn', reason: 'give either expiresAt or expiresIn, not both' });
  }
  const expiresAt = value.expiresAt === undefined ? undefined : new Date(value.expiresAt).getTime();
  if (expiresAt !== undefined && !Number.isFinite(expiresAt))
    issues.push({ field: 'expiresAt', reason: 'is not a valid date' });
  const metadata = value.metadata ?? {};
  const metadataIssue = checkMetadata(metadata);
  if (metadataIssue) issues.push({ field: 'metadata', reason: metadataIssue });
  if (issues.length > 0) throw new InvalidInputError(context, issues);

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
    metadata,
  };
}

function checkMetadata(metadata: Record<string, unknown>): string | null {
  let json: string;
  try {
    json = JSON.stringify(metadata);
  } catch {
    return 'must be JSON-serialisable';
  }
  if (Buffer.byteLength(json) > MAX_METADATA_BYTES) return `must serialise to at most ${MAX_METADATA_BYTES} bytes`;
  return null;
}

function toIssue(issue: z.core.$ZodIssue): InputIssue {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    return { field: [...issue.path.map(String), issue.keys.join(', ')].join('.'), reason: 'is not a known field' };
  }
  return { field: path === '' ? '(input)' : path, reason: issue.message };
}
