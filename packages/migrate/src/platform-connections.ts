import { createDecipheriv } from 'node:crypto';
import { STATUS_ON_IMPORT, type ImportRecord, type RecordIssue } from './import-record.ts';

/**
 * The reference systems' `platform_connections` (reference 004): tokens sealed with AES-256-GCM under one 32-byte key
 * given as 64 hex characters, stored as `iv:authTag:ciphertext`, each part hex; `(user_id, platform)` unique;
 * `token_expires_at` a `timestamp` without time zone, written in UTC.
 */
export interface PlatformConnectionRow {
  id: string;
  user_id: string;
  platform: string;
  access_token: string | null;
  refresh_token: string | null;
  /** As Postgres renders a `timestamp` in JSON (`2026-01-02T03:04:05.678`), read in UTC, not the process's zone. */
  token_expires_at: string | null;
  status: string | null;
}

/** The key as the reference keeps it (ENCRYPTION_KEY): 64 hex characters. Throws with the reason otherwise. */
export function parseReferenceKey(hex: string): Buffer {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error('must be 64 hexadecimal characters (a 32-byte AES-256 key)');
  return Buffer.from(hex, 'hex');
}

/** Opens one `iv:authTag:ciphertext` value; throws with a reason that quotes nothing of the value. */
export function decryptReferenceToken(value: string, key: Buffer): string {
  const parts = value.split(':');
  if (parts.length !== 3 || parts.some((p) => !/^(?:[0-9a-fA-F]{2})+$/.test(p))) {
    throw new Error('is not iv:authTag:ciphertext in hex');
  }
  const [iv, tag, data] = parts.map((p) => Buffer.from(p, 'hex')) as [Buffer, Buffer, Buffer];
  if (tag.length !== 16) throw new Error('has an authentication tag that is not 16 bytes');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
  } catch {
    throw new Error('does not decrypt with this key (authentication failed: another key, or a corrupted value)');
  }
}

/**
 * One row as an import record. Statuses: `connected` and `token_expired` import (an expired access token with a refresh
 * token is refreshed at once, or at the cut-over); `needs_reauth`, `error` and `disconnected` are left out and
 * reported, since their refresh tokens are refused or gone. A missing refresh token imports the access token alone
 * (kept until it expires, never refreshed). A value that does not decrypt keeps the row out, reported by field.
 */
export function platformRecord(row: PlatformConnectionRow, key: Buffer, line: number): ImportRecord {
  const where = { line, id: row.id };
  const status = row.status ?? 'connected';
  const rule = STATUS_ON_IMPORT[status];
  if (rule === undefined) {
    return {
      ...where,
      outcome: { kind: 'invalid', issues: [{ field: 'status', reason: `'${status}' is not a reference status` }] },
    };
  }
  if (!rule.import) return { ...where, outcome: { kind: 'skipped', field: 'status', reason: rule.reason } };

  const issues: RecordIssue[] = [];
  const open = (field: 'access_token' | 'refresh_token', value: string | null): string | undefined => {
    if (value === null || value === '') return undefined;
    try {
      return decryptReferenceToken(value, key);
    } catch (error) {
      issues.push({ field, reason: (error as Error).message });
      return undefined;
    }
  };
  const accessToken = open('access_token', row.access_token);
  const refreshToken = open('refresh_token', row.refresh_token);
  if (issues.length === 0 && accessToken === undefined) {
    issues.push({ field: 'access_token', reason: 'is empty: the row holds no token to import' });
  }
  if (issues.length > 0) return { ...where, outcome: { kind: 'invalid', issues } };
  const input: Record<string, unknown> = { ownerId: row.user_id, provider: row.platform, accessToken };
  if (refreshToken !== undefined) input.refreshToken = refreshToken;
  if (row.token_expires_at !== null) input.expiresAt = utcIso(row.token_expires_at);
  return { ...where, outcome: { kind: 'input', input } };
}

/** A `timestamp` without zone, read as UTC: `2026-01-02T03:04:05.6` → `2026-01-02T03:04:05.6Z` (an offset is kept). */
function utcIso(text: string): string {
  const iso = text.replace(' ', 'T');
  return /(?:Z|[+-]\d{2}(?::?\d{2})?)$/.test(iso) ? iso : `${iso}Z`;
}
