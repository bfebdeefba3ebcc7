import { tokenAad, Keyring } from '@evergreen/keyring';
import { sql } from 'drizzle-orm';
import type { Database } from './database.ts';
import { rethrowDatabaseError } from './database-error.ts';
import { KeyUsage } from './key-usage.ts';

const SEALED_COLUMNS = ['access_token', 'refresh_token', 'previous_refresh_token', 'credentials'] as const;

export interface RotationProgress {
  /** Rows re-encrypted to the current key so far. */
  rotated: number;
  /** Rows skipped because a refresh wrote them meanwhile (they come round again in a later pass). */
  raced: number;
  /** Rows still sealed with another key when the pass ended. */
  remaining: number;
}

/**
 * Re-encrypts every stored secret to the keyring's current key, online and in batches: run it after putting a new key
 * first in EVERGREEN_ENCRYPTION_KEYS, then drop the old key once `remaining` is 0. Resumable by construction (it only
 * ever looks for rows still on another key). Each row is written with a compare-and-set on `version` that does not
 * bump it, so a refresh in flight is never fenced out by a rotation; a row a refresh rewrote meanwhile already carries
 * the current key.
 */
export function rotateKeys(
  db: Database,
  keyring: Keyring,
  options: { batchSize?: number; onBatch?: (progress: RotationProgress) => void } = {},
): Promise<RotationProgress> {
  return rotate(db, keyring, options).catch(rethrowDatabaseError);
}

async function rotate(
  db: Database,
  keyring: Keyring,
  options: { batchSize?: number; onBatch?: (progress: RotationProgress) => void },
): Promise<RotationProgress> {
  const batchSize = options.batchSize ?? 500;
  // Compared as a plain prefix, never with LIKE: key ids may hold `_`, which LIKE reads as any character, so a row
  // sealed with `k01` would pass for one sealed with `k_1` and the old key be dropped while still in use.
  const current = `evg1.${keyring.currentKeyId}.`;
  const progress: RotationProgress = { rotated: 0, raced: 0, remaining: 0 };
  const stale = sql.join(
    SEALED_COLUMNS.map(
      (c) => sql`(${sql.identifier(c)} is not null and not starts_with(${sql.identifier(c)}, ${current}))`,
    ),
    sql` or `,
  );
  const usage = new KeyUsage(db);
  let after = '';
  for (;;) {
    const rows = await db.execute<
      Record<(typeof SEALED_COLUMNS)[number], string | null> & { id: string; version: number }
    >(
      sql`select id, version, access_token, refresh_token, previous_refresh_token, credentials from connections
          where (${stale}) and id > ${after} order by id limit ${batchSize}`,
    );
    if (rows.length === 0) break;
    for (const row of rows) {
      const sets = SEALED_COLUMNS.filter(
        (c) => row[c] !== null && Keyring.keyIdOf(row[c]) !== keyring.currentKeyId,
      ).map(
        (c) =>
          sql`${sql.identifier(c)} = ${keyring.encrypt(keyring.decrypt(row[c] as string, tokenAad(row.id, c)), tokenAad(row.id, c))}`,
      );
      const updated = await db.execute(
        sql`update connections set ${sql.join(sets, sql`, `)} where id = ${row.id} and version = ${row.version} returning id`,
      );
      if (updated.length === 1) progress.rotated += 1;
      else progress.raced += 1;
    }
    after = rows[rows.length - 1]!.id;
    // A rotation seals as many values as it rotates: they count against the new key's budget like any others. The
    // count is bookkeeping: a rotation does not stop when it cannot be written (the keyring keeps it for a later try).
    await usage.flush(keyring).catch(() => null);
    options.onBatch?.({ ...progress });
  }
  const [left] = await db.execute<{ n: number }>(sql`select count(*)::int as n from connections where ${stale}`);
  progress.remaining = left?.n ?? 0;
  return progress;
}
