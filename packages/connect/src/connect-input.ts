import { CONNECTION_INPUT_SCHEMA, InvalidInputError, readMetadata, type InputIssue } from '@evergreen/core';
import { z } from 'zod';

/**
 * `POST /v1/connect/sessions` and `createConnectSession`: who connects, to which provider, and where the browser
 * goes back to. The fields shared with enqueueConnection keep its rules.
 */
export const CONNECT_SESSION_INPUT_SCHEMA = CONNECTION_INPUT_SCHEMA.pick({
  connectionId: true,
  ownerId: true,
  provider: true,
  scopes: true,
  metadata: true,
}).extend({
  returnTo: z
    .string({ error: 'is required and must be a URL' })
    .min(1, { error: 'must not be empty' })
    .max(2048, { error: 'must be at most 2048 characters' })
    .describe('Where the browser is sent back to; must start with an entry of EVERGREEN_CONNECT_RETURN_URLS.'),
});

export interface ConnectSessionInput {
  ownerId: string;
  provider: string;
  /** The provider's default scopes when absent. */
  scopes?: string[];
  /** Reconnect this connection in place (needs_reauth, error, disconnected), or create the new one under this id. */
  connectionId?: string;
  returnTo: string;
  /** Stored with the connection; fills placeholders of the provider's URLs (tenant, instance_url, subdomain). */
  metadata?: Record<string, unknown>;
}

export interface ParsedConnectInput {
  ownerId: string;
  provider: string;
  scopes: string[] | null;
  connectionId: string | null;
  returnTo: string;
  /** null when absent: a reconnect then keeps the connection's own. */
  metadata: Record<string, unknown> | null;
}

export function parseConnectInput(raw: unknown, context = 'createConnectSession'): ParsedConnectInput {
  const result = CONNECT_SESSION_INPUT_SCHEMA.safeParse(raw);
  if (!result.success) {
    throw new InvalidInputError(
      context,
      result.error.issues.map((issue): InputIssue => {
        if (issue.code === 'unrecognized_keys') return { field: issue.keys.join(', '), reason: 'is not a known field' };
        return { field: issue.path.map(String).join('.') || '(input)', reason: issue.message };
      }),
    );
  }
  const value = result.data;
  const metadata = value.metadata === undefined ? null : readMetadata(value.metadata);
  if (metadata && !metadata.ok) throw new InvalidInputError(context, [{ field: 'metadata', reason: metadata.reason }]);
  return {
    ownerId: value.ownerId,
    provider: value.provider,
    scopes: value.scopes ?? null,
    connectionId: value.connectionId ?? null,
    returnTo: value.returnTo,
    metadata: metadata === null ? null : metadata.value,
  };
}
