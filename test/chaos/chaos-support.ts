import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { EvergreenConfig } from '@evergreen/config';
import type { Evergreen } from '@evergreen/sdk';
import { closeDatabase, ConnectionStore, eventsChannel, openDatabase } from '@evergreen/store';
import postgres from 'postgres';
import type { ChaosProvider } from './chaos-providers.ts';
import type { CommitFacts, GrantFacts, RowFacts } from './verdict.ts';

export type MutableGrant = GrantFacts;

export async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`chaos: timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(100);
  }
}

/** Polls until the check says yes or the time is up; says which. */
export async function pollUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return true;
    if (Date.now() > deadline) return false;
    await delay(1_000);
  }
}

/**
 * Enqueues the run's connections through the SDK's bulk import, spread round-robin over the providers, each with a
 * first token of between half and all of its provider's lifetime, so refreshes are spread from the start.
 */
export async function enqueueAll(
  evergreen: Evergreen,
  providers: readonly ChaosProvider[],
  count: number,
  random: () => number,
): Promise<MutableGrant[]> {
  const grants: MutableGrant[] = [];
  for (let start = 0; start < count; start += 1_000) {
    const batch: { grant: MutableGrant; input: Parameters<Evergreen['enqueueConnection']>[0] }[] = [];
    for (let i = start; i < Math.min(count, start + 1_000); i++) {
      const provider = providers[i % providers.length]!;
      const expiresIn = Math.round((provider.lifetimeMs / 1_000) * (0.5 + random() * 0.5));
      const issued = provider.fake.issue({ expiresIn });
      batch.push({
        grant: {
          grantId: issued.grantId,
          provider: provider.id,
          connectionId: '',
          issuedAt: Date.now(),
          initialLifetimeMs: expiresIn * 1_000,
          lifetimeMs: provider.lifetimeMs,
          revokedBecause: null,
          control: false,
          strict: provider.strict,
        },
        input: {
          ownerId: `owner-${i}`,
          provider: provider.id,
          accessToken: issued.accessToken,
          refreshToken: issued.refreshToken,
          expiresIn,
          metadata: { chaos: true },
        },
      });
    }
    const result = await evergreen.enqueueConnections(batch.map((b) => b.input));
    for (const item of result.results) {
      if (!item.ok) throw new Error(`chaos: enqueue of item ${start + item.index} failed: ${item.error.message}`);
      const grant = batch[item.index]!.grant;
      grant.connectionId = item.connectionId;
      grants.push(grant);
    }
  }
  return grants;
}

/**
 * Samples the store every second for connections holding an access token past its expiry while their grant is
 * good: what an app calling the provider with the stored token would have run into.
 */
export class ExpirySampler {
  readonly sightings = new Map<string, number>();
  readonly #sql: postgres.Sql;
  #excluded: ReadonlySet<string> = new Set();
  #timer: NodeJS.Timeout | null = null;
  #running = false;
  samples = 0;
  failedSamples = 0;

  constructor(url: string, schema: string) {
    this.#sql = postgres(url, {
      max: 1,
      connect_timeout: 2,
      connection: { search_path: schema },
      onnotice: () => {},
      // Its pg_type lookup's promise is dropped and would kill this process when Postgres crashes (postgres#1192).
      fetch_types: false,
    });
  }

  start(): void {
    this.#timer = setInterval(() => void this.#sample(), 1_000);
  }

  exclude(ids: ReadonlySet<string>): void {
    this.#excluded = new Set(ids);
  }

  async statuses(): Promise<Map<string, string>> {
    const rows = await this.#sql<{ id: string; status: string }[]>`select id, status from connections`;
    return new Map(rows.map((r) => [r.id, r.status]));
  }

  /**
   * Every control row in needs_reauth, every other row either on time (connected, not overdue) or in a status it
   * cannot leave by itself (needs_reauth, error: the verdict counts those; waiting longer would not change them).
   */
  async settled(control: ReadonlySet<string>): Promise<boolean> {
    const rows = await this.#sql<{ id: string; status: string; overdue: boolean }[]>`
      select id, status, coalesce(refresh_at < now() - interval '5 seconds', false) as overdue from connections`;
    return rows.every((r) => {
      if (control.has(r.id)) return r.status === 'needs_reauth';
      if (r.status === 'needs_reauth' || r.status === 'error') return true;
      return r.status === 'connected' && r.overdue === false;
    });
  }

  async #sample(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      const rows = await this.#sql<{ id: string; overdue: number }[]>`
        select id, (extract(epoch from (now() - expires_at)) * 1000)::int as overdue from connections
        where expires_at < now() and status in ('connected', 'token_expired')`;
      this.samples += 1;
      for (const row of rows) {
        if (this.#excluded.has(row.id)) continue;
        this.sightings.set(row.id, Math.max(this.sightings.get(row.id) ?? 0, row.overdue));
      }
    } catch {
      // Postgres down or our connection cut: the chaos at work. The provider-side check covers the gap.
      this.failedSamples += 1;
    } finally {
      this.#running = false;
    }
  }

  #ended = false;

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    if (this.#ended) return;
    this.#ended = true;
    await this.#sql.end({ timeout: 2 }).catch(() => {});
  }
}

export interface EndState {
  checked: number;
  /** Rows whose stored access token the provider no longer accepts, or whose refresh token is not the grant's current one. */
  stale: number;
  staleExamples: string[];
  checkedAt: number;
}

/** Decrypts every live row and asks its provider whether what we hold is what it would accept now. */
export async function checkStoredTokens(
  config: EvergreenConfig,
  grants: readonly MutableGrant[],
  providers: readonly ChaosProvider[],
  control: ReadonlySet<string>,
): Promise<EndState> {
  const db = openDatabase({ url: config.databaseUrl, schema: config.dbSchema, max: 4 });
  const store = new ConnectionStore(db, config.keyring, 'chaos-checker', eventsChannel(config.dbSchema));
  const byId = new Map(providers.map((p) => [p.id, p]));
  let stale = 0;
  const staleExamples: string[] = [];
  try {
    for (const g of grants) {
      if (control.has(g.connectionId)) continue;
      const fake = byId.get(g.provider)!.fake;
      const snapshot = fake.grant(g.grantId)!;
      if (snapshot.revoked) continue;
      const row = await store.find(g.connectionId);
      const accessOk = row?.accessToken != null && fake.isAccessTokenValid(row.accessToken);
      const refreshOk = row?.refreshToken === snapshot.currentRefreshToken;
      if (!accessOk || !refreshOk) {
        stale += 1;
        if (staleExamples.length < 5) {
          staleExamples.push(
            `${g.connectionId}: ${accessOk ? '' : 'access token rejected '}${refreshOk ? '' : 'refresh token not current'}`,
          );
        }
      }
    }
  } finally {
    await closeDatabase(db);
  }
  return { checked: grants.length - control.size, stale, staleExamples, checkedAt: Date.now() };
}

export async function readStoreFacts(
  url: string,
  schema: string,
): Promise<{ rows: RowFacts[]; commits: CommitFacts[]; attempts: Record<string, number> }> {
  const sql = postgres(url, { max: 1, connection: { search_path: schema }, onnotice: () => {}, fetch_types: false });
  try {
    const rows = await sql<{ id: string; status: string }[]>`select id, status from connections`;
    const commits = await sql<{ connection_id: string; at: Date }[]>`
      select connection_id, created_at as at from refresh_events where outcome = 'success' and applied`;
    const outcomes = await sql<{ outcome: string; n: number }[]>`
      select outcome || coalesce(':' || reason, '') as outcome, count(*)::int as n from refresh_events group by 1`;
    return {
      rows: rows.map((r) => ({ connectionId: r.id, status: r.status })),
      commits: commits.map((c) => ({ connectionId: c.connection_id, at: c.at.getTime() })),
      attempts: Object.fromEntries(outcomes.map((o) => [o.outcome, o.n])),
    };
  } finally {
    await sql.end({ timeout: 2 });
  }
}

/**
 * One numeric field of the workers' log lines, every value found: `commitMs` is their own measure of the crash window
 * (answer received → commit acknowledged), `outageMs` how long a provider's breaker held it open.
 */
export function numbersFromWorkerLogs(logDir: string, field: 'commitMs' | 'outageMs'): number[] {
  const values: number[] = [];
  const marker = `"${field}"`;
  for (const file of readdirSync(logDir)) {
    if (!file.startsWith('worker-')) continue;
    for (const line of readFileSync(join(logDir, file), 'utf8').split('\n')) {
      if (!line.includes(marker)) continue;
      try {
        const value = (JSON.parse(line) as Record<string, unknown>)[field];
        if (typeof value === 'number') values.push(value);
      } catch {
        // A line cut short by a SIGKILL.
      }
    }
  }
  return values;
}
