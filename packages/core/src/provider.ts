import { z } from 'zod';
import { PROVIDER_ID_PATTERN } from './connection-input.ts';

/** RFC 6749 §2.3.1 and friends: how a client proves itself to the token endpoint. */
export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

/** One provider, as Evergreen uses it at run time. Built from a providers-file entry after defaults are applied. */
export interface ProviderDefinition {
  id: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string | null;
  clientAuth: ClientAuthMethod;
  /** Sent as `scope` on refresh when set (RFC 6749 §6 allows narrowing). */
  scope: string | null;
  /** Refresh this many seconds before expiry. */
  refreshBufferSeconds: number;
  /** Lifetime assumed when neither the response nor the token says; null: the expiry stays unknown. */
  defaultLifetimeSeconds: number | null;
  /** Most token requests per `durationMs` across all workers; null: no limit of our own. */
  rateLimit: { max: number; durationMs: number } | null;
}

const LOOPBACK_HOSTS = new Set(['localhost', '[::1]', '::1']);

/** Token URLs must be https, except on loopback, which local development and tests use (DESIGN.md contracts). */
export function tokenUrlProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol === 'https:') return null;
  if (url.protocol !== 'http:') return 'must be an https URL';
  const loopback = LOOPBACK_HOSTS.has(url.hostname) || /^127(\.\d{1,3}){3}$/.test(url.hostname);
  return loopback ? null : 'must be https (plain http is allowed only on loopback hosts)';
}

export const providerEntrySchema = z.strictObject({
  id: z.string({ error: 'is required' }).regex(PROVIDER_ID_PATTERN, {
    error: 'must be lower-case letters, digits, "_" or "-", starting with a letter or digit',
  }),
  tokenUrl: z.string({ error: 'is required' }).superRefine((value, ctx) => {
    const problem = tokenUrlProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  clientId: z.string({ error: 'is required' }).min(1, { error: 'must not be empty' }),
  clientSecret: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }).optional(),
  clientAuth: z
    .enum(CLIENT_AUTH_METHODS, { error: `must be one of ${CLIENT_AUTH_METHODS.join(', ')}` })
    .default('client_secret_basic'),
  scope: z.string({ error: 'must be a string' }).optional(),
  refreshBufferSeconds: z
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number of seconds' })
    .min(0, { error: 'must not be negative' })
    .max(86_400, { error: 'must be at most 86400 (a day)' })
    .default(300),
  defaultLifetimeSeconds: z
    .number({ error: 'must be a number or null' })
    .int({ error: 'must be a whole number of seconds' })
    .positive({ error: 'must be positive' })
    .nullable()
    .default(3600),
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
    .optional(),
});

export type ProviderEntry = z.input<typeof providerEntrySchema>;

/** Applies defaults and checks one entry; issues name the field within the entry. */
export function parseProviderEntry(
  raw: unknown,
): { ok: true; provider: ProviderDefinition } | { ok: false; issues: { field: string; reason: string }[] } {
  const result = providerEntrySchema.safeParse(raw);
  if (!result.success) {
    return {
      ok: false,
      issues: result.error.issues.map((issue) =>
        issue.code === 'unrecognized_keys'
          ? { field: issue.keys.join(', '), reason: 'is not a known field' }
          : { field: issue.path.map(String).join('.') || '(entry)', reason: issue.message },
      ),
    };
  }
  const entry = result.data;
  const problems: { field: string; reason: string }[] = [];
  if (entry.clientAuth !== 'none' && entry.clientSecret === undefined) {
    problems.push({ field: 'clientSecret', reason: `is required with clientAuth ${entry.clientAuth}` });
  }
  if (problems.length > 0) return { ok: false, issues: problems };
  return {
    ok: true,
    provider: {
      id: entry.id,
      tokenUrl: entry.tokenUrl,
      clientId: entry.clientId,
      clientSecret: entry.clientSecret ?? null,
      clientAuth: entry.clientAuth,
      scope: entry.scope ?? null,
      refreshBufferSeconds: entry.refreshBufferSeconds,
      defaultLifetimeSeconds: entry.defaultLifetimeSeconds,
      rateLimit: entry.rateLimit ?? null,
    },
  };
}
