import type { EventSpec } from '@evergreen/core';
import { sql, type SQL } from 'drizzle-orm';

/** An outbox row as it is read back to go out: never a token (DESIGN.md invariant 8). */
export interface OutboxEvent {
  id: number;
  kind: string;
  payload: Record<string, unknown>;
  createdAt: Date;
}

/**
 * A CTE member that writes `events` for the connection a preceding CTE named `source` returned (`returning id`); none
 * when `source` returned nothing (a compare-and-set that lost). Read what it wrote with `EVENTS_WRITTEN` in the final
 * SELECT and hand that to `EventFeed.publishCommitted` once the statement has committed.
 */
export function eventsCte(source: string, events: readonly EventSpec[]): SQL {
  return sql`evented as (
        insert into connection_events (connection_id, kind, payload)
        select s.id, e.kind, e.payload
        from ${sql.raw(source)} s, jsonb_to_recordset(${JSON.stringify(events)}::jsonb) as e(kind text, payload jsonb)
        returning id, kind, payload, created_at
      )`;
}

/**
 * The NOTIFY payloads of the rows the `evented` member wrote, built where the rows are at hand, so the NOTIFY never
 * reads them again: Postgres's text of a text[] (null for none), handed back unparsed to the NOTIFY statement. A
 * select-list expression.
 */
export const EVENTS_WRITTEN = sql`(select array_agg(json_build_object('id', id, 'kind', kind, 'data', payload,
  'createdAt', created_at)::text order by id)::text from evented)`;
