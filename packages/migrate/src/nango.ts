import { createDecipheriv } from 'node:crypto';
import type { ImportRecord } from './import-record.ts';

/**
 * A row of a self-hosted Nango's `_nango_connections` (schema `nango` by default), as its migrations leave it: the
 * credentials are a JSON column holding `{ encrypted_credentials }` (base64) when NANGO_ENCRYPTION_KEY is set, with
 * `credentials_iv` and `credentials_tag` (base64) beside it; without a key they are the plain JSON.
 */
export interface NangoConnectionRow {
  id: number;
  connection_id: string;
  provider_config_key: string;
  credentials: Record<string, unknown> | null;
  credentials_iv: string | null;
  credentials_tag: string | null;
  connection_config: Record<string, unknown> | null;
  refresh_exhausted: boolean | null;
}

/** NANGO_ENCRYPTION_KEY: base64 of 32 bytes. Throws with the reason otherwise. */
export function parseNangoKey(base64: string): Buffer {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== 32 || key.toString('base64') !== base64.trim()) {
    throw new Error('must be base64 of 32 bytes (NANGO_ENCRYPTION_KEY)');
  }
  return key;
}

/** The connection's credentials as Nango decrypts them: AES-256-GCM, base64 parts, no associated data. */
export function openNangoCredentials(row: NangoConnectionRow, key: Buffer | null): Record<string, unknown> {
  const sealed = row.credentials?.encrypted_credentials;
  if (typeof sealed !== 'string') {
    if (row.credentials === null) throw new Error('is empty');
    return row.credentials; // stored in the clear (Nango ran without an encryption key)
  }
  if (key === null) throw new Error('is encrypted: give the Nango encryption key with --key');
  if (!row.credentials_iv || !row.credentials_tag) throw new Error('is encrypted but its iv or tag is missing');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(row.credentials_iv, 'base64'));
    decipher.setAuthTag(Buffer.from(row.credentials_tag, 'base64'));
    const text = Buffer.concat([decipher.update(Buffer.from(sealed, 'base64')), decipher.final()]).toString('utf8');
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error('does not decrypt with this key (authentication failed: another key, or a corrupted value)');
  }
}

/**
 * One Nango connection as an import record. Nango's `connection_id` is the owner, its `provider_config_key` names the
 * integration: it imports under the Evergreen provider of the same id, or the one `providerMap` names for it, and is
 * reported otherwise. Only OAuth 2 connections (`type: OAUTH2`) carry a refresh grant Evergreen keeps alive; other
 * auth modes are reported as skipped, as are connections whose refreshes Nango gave up on (`refresh_exhausted`).
 */
export function nangoRecord(
  row: NangoConnectionRow,
  line: number,
  options: { key: Buffer | null; providers: ReadonlySet<string>; providerMap: ReadonlyMap<string, string> },
): ImportRecord {
  const where = { line, id: String(row.id) };
  const provider = options.providerMap.get(row.provider_config_key) ?? row.provider_config_key;
  if (!options.providers.has(provider)) {
    return {
      ...where,
      outcome: {
        kind: 'invalid',
        issues: [
          {
            field: 'provider_config_key',
            reason: `'${row.provider_config_key}' matches no configured provider (configure one with that id, or map it: --provider-map ${row.provider_config_key}=<provider>)`,
          },
        ],
      },
    };
  }
  if (row.refresh_exhausted === true) {
    return {
      ...where,
      outcome: {
        kind: 'skipped',
        field: 'refresh_exhausted',
        reason: 'Nango gave up refreshing it: the user must reconnect',
      },
    };
  }
  let credentials: Record<string, unknown>;
  try {
    credentials = openNangoCredentials(row, options.key);
  } catch (error) {
    return {
      ...where,
      outcome: { kind: 'invalid', issues: [{ field: 'credentials', reason: (error as Error).message }] },
    };
  }
  if (credentials.type !== 'OAUTH2') {
    return {
      ...where,
      outcome: {
        kind: 'skipped',
        field: 'credentials.type',
        reason: `auth mode ${typeof credentials.type === 'string' ? credentials.type : '(none)'}: Evergreen keeps OAuth 2 grants`,
      },
    };
  }
  const override = credentials.config_override as { client_id?: unknown } | undefined;
  if (override && typeof override.client_id === 'string' && override.client_id !== '') {
    return {
      ...where,
      outcome: {
        kind: 'invalid',
        issues: [
          {
            field: 'credentials.config_override',
            reason: 'uses an OAuth client of its own, which Evergreen does not keep per connection',
          },
        ],
      },
    };
  }
  const input: Record<string, unknown> = { ownerId: row.connection_id, provider };
  if (typeof credentials.access_token === 'string' && credentials.access_token !== '') {
    input.accessToken = credentials.access_token;
  }
  if (typeof credentials.refresh_token === 'string' && credentials.refresh_token !== '') {
    input.refreshToken = credentials.refresh_token;
  }
  if (typeof credentials.expires_at === 'string') input.expiresAt = credentials.expires_at;
  const raw = credentials.raw as { scope?: unknown } | undefined;
  if (typeof raw?.scope === 'string') input.scopes = raw.scope.split(/[\s,]+/).filter(Boolean);
  // connection_config holds what Nango fills its URLs with (subdomain, instance_url...): Evergreen's metadata does that.
  if (row.connection_config && Object.keys(row.connection_config).length > 0) input.metadata = row.connection_config;
  return { ...where, outcome: { kind: 'input', input } };
}
