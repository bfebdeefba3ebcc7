import type { Keyring } from '@evergreen/keyring';
import { asc, sql } from 'drizzle-orm';
import type { Database } from './database.ts';
import { throwsDatabaseErrors } from './database-error.ts';
import { keyUsage } from './schema.ts';

export interface KeyUsageTotal {
  keyId: string;
  /** Values sealed with the key, by every process, up to their last flush. */
  encryptions: number;
}

export interface KeyUsageFlush extends KeyUsageTotal {
  /** What this flush added: `encryptions - added` is where the count stood before it. */
  added: number;
}

/**
 * The durable count of encryptions per key id, in `key_usage`. Each process's keyring counts in memory (an increment
 * per encryption, no round trip on the refresh path); `flush` adds that count with one upsert, which a process runs at
 * most once a minute and on close (`KeyUsageRecorder`). A process killed between flushes loses at most its last
 * minute of counts, small beside the margin the warnings leave (docs/security-keys.md).
 */
export class KeyUsage {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /**
   * Adds `keyring`'s uncounted encryptions to its current key's row; null when there were none (no query then). A
   * failed write gives the count back to the keyring for the next flush.
   */
  async flush(keyring: Keyring): Promise<KeyUsageFlush | null> {
    const added = keyring.takeEncryptionCount();
    if (added === 0) return null;
    try {
      const [row] = await this.#db
        .insert(keyUsage)
        .values({ keyId: keyring.currentKeyId, encryptions: added })
        .onConflictDoUpdate({
          target: keyUsage.keyId,
          set: { encryptions: sql`${keyUsage.encryptions} + excluded.encryptions`, updatedAt: sql`now()` },
        })
        .returning({ encryptions: keyUsage.encryptions });
      return { keyId: keyring.currentKeyId, encryptions: Number(row?.encryptions ?? added), added };
    } catch (error) {
      keyring.restoreEncryptionCount(added);
      throw error;
    }
  }

  /** Every key id's count, in id order: the metric's source. */
  async totals(): Promise<KeyUsageTotal[]> {
    const rows = await this.#db
      .select({ keyId: keyUsage.keyId, encryptions: keyUsage.encryptions })
      .from(keyUsage)
      .orderBy(asc(keyUsage.keyId));
    return rows.map((r) => ({ keyId: r.keyId, encryptions: Number(r.encryptions) }));
  }
}

throwsDatabaseErrors(KeyUsage);

/** What a process hears of its key-usage flushes: each count written (to warn near the limit), each failure. */
export interface KeyUsageReports {
  onFlush?: (flush: KeyUsageFlush) => void;
  onError?: (error: unknown) => void;
}

/**
 * Write-behind for one keyring's count: after a write that sealed values, a flush starts (in the background, not
 * awaited) when the last one is at least `everyMs` old. No timer: a busy process writes its count once a minute, an
 * idle one has nothing new to write, and `flush()` on close writes what is left. A failed flush keeps the count for the
 * next one.
 */
export class KeyUsageRecorder {
  readonly #usage: KeyUsage;
  readonly #keyring: Keyring;
  readonly #everyMs: number;
  readonly #now: () => number;
  readonly #reports: KeyUsageReports;
  #lastFlushAt: number;
  #flushing: Promise<KeyUsageFlush | null> | null = null;

  constructor(
    usage: KeyUsage,
    keyring: Keyring,
    options: KeyUsageReports & { everyMs?: number; now?: () => number } = {},
  ) {
    this.#usage = usage;
    this.#keyring = keyring;
    this.#everyMs = options.everyMs ?? 60_000;
    this.#now = options.now ?? Date.now;
    this.#reports = options;
    this.#lastFlushAt = this.#now();
  }

  /** After a write that sealed values. */
  afterWrite(): void {
    if (this.#flushing === null && this.#now() - this.#lastFlushAt >= this.#everyMs) {
      this.flush().catch(() => {}); // reported through onError
    }
  }

  /** Writes the count now (one flush at a time: a call during one waits for it, then writes what came since). */
  async flush(): Promise<KeyUsageFlush | null> {
    while (this.#flushing) await this.#flushing.catch(() => null);
    this.#lastFlushAt = this.#now();
    this.#flushing = this.#usage.flush(this.#keyring);
    try {
      const flushed = await this.#flushing;
      if (flushed) this.#reports.onFlush?.(flushed);
      return flushed;
    } catch (error) {
      this.#reports.onError?.(error);
      throw error;
    } finally {
      this.#flushing = null;
    }
  }
}
