import type { EventSpec } from '@evergreen/core';
import { sql, type SQL } from 'drizzle-orm';

/** The NOTIFY channel of one Evergreen (one schema): in-process subscribers LISTEN on it. */
export function eventsChannel(schema: string): string {
  return `evergreen_events_${schema}`;
}

/**
 * CTE members that write `events` for the connection a preceding CTE named `source` returned (`returning id`), and
 * NOTIFY each one with its full JSON; none when `source` returned nothing (a compare-and-set that lost). The caller's
 * final SELECT must read `notified` for the NOTIFY to run: plain SELECT members are evaluated only when referenced.
 */
export function eventsCte(source: string, events: readonly EventSpec[], channel: string): SQL {
  return sql`evented as (
        insert into connection_events (connection_id, kind, payload)
        select s.id, e.kind, e.payload
        from ${sql.raw(source)} s, jsonb_to_recordset(${JSON.stringify(events)}::jsonb) as e(kind text, payload jsonb)
        returning id, kind, payload, created_at
      ), notified as (
        select pg_notify(${channel}, json_build_object('id', id, 'kind', kind, 'data', payload, 'createdAt', created_at)::text)
        from evented
      )`;
}
