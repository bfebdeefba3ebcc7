import type { ConnectionStatus } from '@evergreen/core';
import { count, sql } from 'drizzle-orm';
import type { Database } from './database.ts';
import { connections, LIVE } from './schema.ts';
import { throwsDatabaseErrors } from './database-error.ts';

export interface StatusCount {
  provider: string;
  status: ConnectionStatus;
  count: number;
}

export interface ExpiringCount {
  provider: string;
  /** Live connections whose access token lapses within each window (or already has), in the windows' order. */
  counts: number[];
}

/**
 * How many connections are in which state: the numbers behind the metrics' gauges and the operators' token health,
 * counted the same way for both. Each is one index-backed group-by; nothing here reads a token column.
 */
export class ConnectionCounts {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /** Every connection, by provider and status (pairs with no rows are absent). */
  async byStatus(): Promise<StatusCount[]> {
    const rows = await this.#db
      .select({ provider: connections.provider, status: connections.status, count: count() })
      .from(connections)
      .groupBy(connections.provider, connections.status);
    return rows.map((row) => ({ ...row, status: row.status as ConnectionStatus }));
  }

  /**
   * Live connections whose access token lapses within each of `windowsSeconds` from now (or already has), per
   * provider: every window in one pass over the live expires_at index, bounded by the widest. Providers with none
   * within the widest window are absent.
   */
  async expiring(windowsSeconds: readonly number[]): Promise<ExpiringCount[]> {
    if (windowsSeconds.length === 0) return [];
    const within = (seconds: number) => sql`expires_at <= now() + make_interval(secs => ${seconds})`;
    const counts = sql.join(
      windowsSeconds.map(
        (seconds, i) => sql`count(*) filter (where ${within(seconds)})::int as ${sql.identifier(`w${i}`)}`,
      ),
      sql`, `,
    );
    // LIVE is the partial index's own predicate, literally, so the planner can always use the index.
    const rows = await this.#db.execute<{ provider: string; [window: `w${number}`]: number }>(sql`
      select provider, ${counts} from connections
      where ${LIVE} and ${within(Math.max(...windowsSeconds))}
      group by provider`);
    return [...rows].map((row) => ({
      provider: row.provider,
      counts: windowsSeconds.map((_, i) => row[`w${i}`] ?? 0),
    }));
  }
}

throwsDatabaseErrors(ConnectionCounts);
