import { API_KEY_SCOPES } from '@evergreen/api-keys';
import { CONNECTION_STATUSES } from '@evergreen/core';
import { z } from 'zod';

/**
 * Response shapes. Every response is serialised through its schema (fastify-type-provider-zod's serializer compiler):
 * objects keep only the properties declared here, so whatever a query or the SDK returns, a token column never leaves.
 * The same schemas make the OpenAPI document.
 */

/** A Date in the handler's hands, an ISO 8601 string on the wire (JSON.stringify), `date-time` in OpenAPI. */
const timestamp = z.date();

export const connectionViewSchema = z.object({
  connectionId: z.string(),
  ownerId: z.string(),
  provider: z.string(),
  status: z.enum(CONNECTION_STATUSES),
  scopes: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()),
  expiresAt: timestamp.nullable(),
  refreshAt: timestamp.nullable(),
  refreshTokenExpiresAt: timestamp.nullable(),
  lastRefreshAt: timestamp.nullable(),
  lastRefreshOutcome: z.string().nullable(),
  lastRefreshReason: z.string().nullable(),
  consecutiveFailures: z.number().int(),
  version: z.number().int(),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const refreshEventSchema = z.object({
  outcome: z.string(),
  reason: z.string().nullable(),
  httpStatus: z.number().int().nullable(),
  durationMs: z.number().int(),
  applied: z.boolean(),
  trigger: z.string(),
  process: z.string(),
  createdAt: timestamp,
});

export const connectionPageSchema = z.object({
  items: z.array(connectionViewSchema),
  nextCursor: z.string().nullable(),
});

export const connectionDetailSchema = connectionViewSchema.extend({ refreshEvents: z.array(refreshEventSchema) });

export const bulkRefreshResultSchema = z.object({
  scheduled: z.number().int().describe('connections whose job now runs now (or is already running)'),
  deferred: z.number().int().describe('connections marked due whose job Redis did not take; the reconcile will'),
});

const statusCounts = z.object(Object.fromEntries(CONNECTION_STATUSES.map((s) => [s, z.number().int()])));

export const tokenHealthSchema = z.object({
  generatedAt: timestamp,
  total: z.number().int(),
  byStatus: statusCounts,
  byProvider: z.record(z.string(), statusCounts.extend({ total: z.number().int() })),
  expiringWithinHour: z.record(z.string(), z.number().int()),
  failuresLast24h: z.array(z.object({ outcome: z.string(), reason: z.string().nullable(), count: z.number().int() })),
  refreshes: z.object({
    bucketSeconds: z.number().int(),
    buckets: z.array(z.object({ start: timestamp, success: z.number().int(), failure: z.number().int() })),
  }),
  openBreakers: z
    .array(
      z.object({
        provider: z.string(),
        openedAt: timestamp,
        reason: z.string().nullable().describe('the classified reason of the failure that opened it'),
        failures: z.number().int().nullable(),
        requests: z.number().int().nullable(),
        nextProbeAt: timestamp,
      }),
    )
    .describe('providers whose circuit breaker is open: token endpoint failing, refreshes held, probes only'),
});

export const errorSchema = z.object({
  error: z.string(),
  message: z.string().optional(),
  issues: z.array(z.object({ field: z.string(), reason: z.string() })).optional(),
});

/** An API key as operators see it. No `key`, no `secretHash`: the serializer drops what is not declared here. */
export const apiKeyViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  scopes: z.array(z.enum(API_KEY_SCOPES)),
  providers: z.array(z.string()).nullable().describe('the providers whose connections the key sees; null: all'),
  createdAt: timestamp,
  lastUsedAt: timestamp.nullable().describe('updated at most once a minute'),
  revokedAt: timestamp.nullable(),
});

export const apiKeyListSchema = z.object({ items: z.array(apiKeyViewSchema) });

/** A reconnect link: a connect session of the connection's owner and provider. */
export const reconnectLinkSchema = z.object({
  sessionId: z.string(),
  authorizationUrl: z.string().describe('Send this to the user; it works once, for 10 minutes.'),
  expiresAt: z.date(),
});
