import { providerEventSubject, type ProviderEventKind, type ProviderOutagePayload } from '@evergreen/core';
import { sql, type SQL } from 'drizzle-orm';

/**
 * The statement that writes a provider's outage event to the outbox, unless the provider's last outage event already
 * is of that kind: a breaker Redis lost (and that opened again) announces its outage once, and an end is only told
 * after a start. The row names the provider's subject (`provider:<id>`) in place of a connection id. Returns the
 * written rows as `EVENTS_WRITTEN` does, for the NOTIFY.
 */
export function providerOutageEventSql(kind: ProviderEventKind, payload: ProviderOutagePayload): SQL {
  const subject = providerEventSubject(payload.provider);
  return sql`
    with last as (
      select kind from connection_events
      where connection_id = ${subject} and kind in ('provider.outage_started', 'provider.outage_ended')
      order by id desc limit 1
    ), evented as (
      insert into connection_events (connection_id, kind, payload)
      select ${subject}, ${kind}, ${JSON.stringify(payload)}::jsonb
      where coalesce((select kind from last), 'provider.outage_ended') <> ${kind}
      returning id, kind, payload, created_at
    )
    select (select array_agg(json_build_object('id', id, 'kind', kind, 'data', payload,
      'createdAt', created_at)::text order by id)::text from evented) as events`;
}
