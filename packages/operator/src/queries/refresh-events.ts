import { tables, type Database } from '@evergreen/store';
import { desc, eq } from 'drizzle-orm';

const e = tables.refreshEvents;

export interface RefreshEventRow {
  outcome: string;
  reason: string | null;
  httpStatus: number | null;
  durationMs: number;
  applied: boolean;
  trigger: string;
  process: string;
  createdAt: Date;
}

/** A connection's most recent refresh attempts, newest first. The audit table holds no token by construction. */
export async function recentRefreshEvents(db: Database, connectionId: string, limit = 50): Promise<RefreshEventRow[]> {
  return db
    .select({
      outcome: e.outcome,
      reason: e.reason,
      httpStatus: e.httpStatus,
      durationMs: e.durationMs,
      applied: e.applied,
      trigger: e.trigger,
      process: e.process,
      createdAt: e.createdAt,
    })
    .from(e)
    .where(eq(e.connectionId, connectionId))
    .orderBy(desc(e.createdAt), desc(e.id))
    .limit(limit);
}
