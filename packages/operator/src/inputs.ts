import { API_KEY_ID_PATTERN } from '@evergreen/api-keys';
import {
  CONNECTION_ID_PATTERN,
  CONNECTION_ID_RULE,
  CONNECTION_STATUSES,
  LIVE_STATUSES,
  PROVIDER_ID_PATTERN,
} from '@evergreen/core';
import { z } from 'zod';

const MAX_WINDOW_SECONDS = 366 * 24 * 3600;

/** Query strings arrive as text: numbers are coerced, an empty value counts as absent. */
const blankToUndefined = (value: unknown) => (value === '' ? undefined : value);

const connectionId = z.string({ error: 'must be a string' }).regex(CONNECTION_ID_PATTERN, CONNECTION_ID_RULE);

const status = z.enum(CONNECTION_STATUSES, { error: `must be one of ${CONNECTION_STATUSES.join(', ')}` });
const liveStatus = z.enum(LIVE_STATUSES, {
  error: `must be one of ${LIVE_STATUSES.join(', ')} (only live connections are refreshed)`,
});
const provider = z
  .string({ error: 'must be a string' })
  .regex(PROVIDER_ID_PATTERN, 'must be a provider id: lower-case letters, digits, "_" or "-"');
const ownerId = z
  .string({ error: 'must be a string' })
  .min(1, 'must not be empty')
  .max(256, 'must be at most 256 characters');

const int = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

export const connectionParams = z.strictObject({ id: connectionId });

export const apiKeyParams = z.strictObject({
  id: z
    .string({ error: 'must be a string' })
    .regex(API_KEY_ID_PATTERN, 'must be an API key id: 16 hexadecimal characters'),
});

/** Filters shared by the list and the bulk refresh. */
const filterShape = {
  status: z.preprocess(blankToUndefined, status.optional()),
  provider: z.preprocess(blankToUndefined, provider.optional()),
  ownerId: z.preprocess(blankToUndefined, ownerId.optional()),
  expiringWithinSeconds: z.preprocess(blankToUndefined, int(0, MAX_WINDOW_SECONDS).optional()),
};

export const listQuery = z.strictObject({
  ...filterShape,
  limit: z.preprocess(blankToUndefined, int(1, 500).default(50)),
  cursor: z.preprocess(blankToUndefined, connectionId.optional()),
});
export type ListQuery = z.output<typeof listQuery>;

export const bulkRefreshBody = z
  .strictObject({
    status: liveStatus.optional(),
    provider: provider.optional(),
    ownerId: ownerId.optional(),
    expiringWithinSeconds: z
      .number({ error: 'must be a whole number' })
      .int('must be a whole number')
      .min(0, 'must be at least 0')
      .max(MAX_WINDOW_SECONDS, `must be at most ${MAX_WINDOW_SECONDS}`)
      .optional(),
    limit: z
      .number({ error: 'must be a whole number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(1000, 'must be at most 1000')
      .default(1000),
  })
  .default({ limit: 1000 });
export type BulkRefreshBody = z.output<typeof bulkRefreshBody>;

export type ConnectionFilter = Pick<ListQuery, 'status' | 'provider' | 'ownerId' | 'expiringWithinSeconds'>;

/** A reconnect link's body: where the browser goes back to (optional: the first allowed return URL). */
export const reconnectBody = z
  .strictObject({
    returnTo: z.string({ error: 'must be a URL' }).min(1, 'must not be empty').max(2048).optional(),
  })
  .optional();
