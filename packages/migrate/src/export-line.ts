/** A connection as `connections export` reads it: its view, and its secrets when they are asked for. */
export interface ExportedConnection {
  connectionId: string;
  ownerId: string;
  provider: string;
  status: string;
  scopes: string[];
  metadata: Record<string, unknown>;
  expiresAt: Date | null;
  secrets?: { accessToken: string | null; refreshToken: string | null; credentials?: unknown } | null;
}

/**
 * One export line: the enqueueConnection input that brings the connection back (so an export imports as it is, here
 * or elsewhere), with its `status` (the import leaves out those that no longer refresh). Secrets only when given.
 */
export function exportLine(c: ExportedConnection): string {
  const line: Record<string, unknown> = {
    connectionId: c.connectionId,
    ownerId: c.ownerId,
    provider: c.provider,
    status: c.status,
  };
  if (c.secrets) {
    if (c.secrets.accessToken !== null) line.accessToken = c.secrets.accessToken;
    if (c.secrets.refreshToken !== null) line.refreshToken = c.secrets.refreshToken;
    if (c.secrets.credentials !== undefined && c.secrets.credentials !== null) line.credentials = c.secrets.credentials;
  }
  if (c.expiresAt !== null) line.expiresAt = c.expiresAt.toISOString();
  if (c.scopes.length > 0) line.scopes = c.scopes;
  if (Object.keys(c.metadata).length > 0) line.metadata = c.metadata;
  return JSON.stringify(line);
}
