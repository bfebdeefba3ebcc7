import type postgres from 'postgres';

export interface WaitProfile {
  samples: number;
  /** Average number of Evergreen backends in each state/wait (`active:CPU`, `active:LWLock/WALWrite`, ...). */
  backends: Record<string, number>;
}

/**
 * pg_stat_statements is not loaded on the shared Postgres (and restarting it is not ours to do), so this samples
 * pg_stat_activity instead: how many of Evergreen's backends are running, and what they wait on. Backends of other
 * Evergreen processes on the same database (other people's tests) count too; a quiet database makes that small.
 */
export function sampleWaits(sql: postgres.Sql, intervalMs = 100): () => Promise<WaitProfile> {
  const counts = new Map<string, number>();
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const rows = await sql<{ key: string; n: number }[]>`
        select state || ':' || coalesce(wait_event_type || '/' || wait_event, 'CPU') as key, count(*)::int as n
        from pg_stat_activity
        where application_name = 'evergreen' and datname = current_database() and pid <> pg_backend_pid()
          and state <> 'idle'
        group by 1`.catch(() => []);
      samples += 1;
      for (const r of rows) counts.set(r.key, (counts.get(r.key) ?? 0) + r.n);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    const backends = Object.fromEntries(
      [...counts.entries()]
        .map(([k, v]) => [k, Math.round((v / Math.max(1, samples)) * 100) / 100] as const)
        .filter(([, v]) => v >= 0.05)
        .sort((a, b) => b[1] - a[1]),
    );
    return { samples, backends };
  };
}
