/**
 * The chaos run's judgement, as pure functions over what the provider and the store recorded: no I/O, so the
 * counting itself is unit-tested (test/chaos/verdict.test.ts) and a report can be recomputed from its inputs.
 */

/** One request as the fake provider saw it. */
export interface ProviderRequest {
  at: number;
  grantId: string | null;
  status: number;
  outcome: string;
}

export interface GrantFacts {
  grantId: string;
  provider: string;
  connectionId: string;
  /** When the grant's first access token was issued (the enqueue), and how long each access token lives (ms). */
  issuedAt: number;
  initialLifetimeMs: number;
  lifetimeMs: number;
  revokedBecause: 'reuse' | 'manual' | null;
  /** Revoked by the chaos run on purpose: it must end in needs_reauth. */
  control: boolean;
  /** A strictly single-use provider without a grace period: its losses measure the crash window, they do not gate. */
  strict: boolean;
}

export interface RowFacts {
  connectionId: string;
  status: string;
}

/** A refresh Evergreen committed: the audit row of an applied success. */
export interface CommitFacts {
  connectionId: string;
  at: number;
}

export interface RateLimitFacts {
  provider: string;
  max: number;
  durationMs: number;
}

export interface VerdictInput {
  grants: readonly GrantFacts[];
  requests: ReadonlyMap<string, readonly ProviderRequest[]>;
  rows: readonly RowFacts[];
  commits: readonly CommitFacts[];
  /** Connections the store sampler saw holding an expired access token, with how long past expiry (ms). */
  expiredSightings: ReadonlyMap<string, number>;
  rateLimits: readonly RateLimitFacts[];
  /**
   * How late the providers' clock of record can be: they stamp a request when their event loop gets to it, and the
   * chaos run's own process (the providers' home) stalls on a loaded machine. Requests sent within one span of
   * `durationMs` can then arrive bunched; counted in spans shortened by this much, a correct sender still fits.
   */
  arrivalJitterMs: number;
  /**
   * The workers' retry policy, which defines a storm: after `attempts` consecutive failures a connection cools down
   * for at least half of `cooldownMs` (the jitter's floor), so no grant may see more than `attempts` requests, plus
   * one grace-period replay and one retry of a request a killed worker left unanswered, inside half a cooldown.
   */
  retry: { attempts: number; cooldownMs: number };
  runEndedAt: number;
  unexpectedExits: number;
  secretHits: number;
  /** Live rows whose stored tokens the provider would not accept at the end of the run. */
  staleStoredTokens: number;
}

export interface Counts {
  grantsRevokedByReuse: number;
  accessTokensExpired: number;
  wronglyNeedsReauth: number;
  wronglyError: number;
  missedRevocations: number;
  refreshStorms: number;
  rateLimitExcess: number;
  unexpectedExits: number;
  secretHits: number;
  staleStoredTokens: number;
}

export interface Verdict {
  ok: boolean;
  counts: Counts;
  /** Losses on strictly single-use providers (no grace period): the crash window's real cost, reported apart. */
  strictGrantsRevokedByReuse: number;
  maxRequestsPerGrantPerLifetime: number;
  /** Most requests for one grant in half a retry cooldown, against what the retry policy allows there. */
  maxRequestsPerGrantPerStormSpan: { requests: number; spanMs: number; limit: number };
  maxRateWindow: {
    provider: string;
    requests: number;
    max: number;
    durationMs: number;
    /** The span actually counted: the declared one less the providers' measured stamping delay. */
    countedOverMs: number;
    /** Most requests in a span of the full declared duration, bunching included. */
    rawMax: number;
    busiest: { at: number; grantId: string | null; outcome: string; status: number }[];
  }[];
  /** Commit time minus the provider's rotation time of the same refresh: the crash window as measured. */
  rotationToCommitMs: Percentiles | null;
  refreshesCommitted: number;
  /** Connections with at least one committed refresh: the run really did work. */
  connectionsRefreshed: number;
  examples: Partial<Record<keyof Counts, string[]>>;
}

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Requests a revoked grant may see from us: see `judge`. */
export const MAX_REQUESTS_AFTER_REVOCATION = 4;

export function judge(input: VerdictInput): Verdict {
  const examples: Partial<Record<keyof Counts, string[]>> = {};
  const note = (key: keyof Counts, text: string) => {
    const list = (examples[key] ??= []);
    if (list.length < 5) list.push(text);
  };
  const rowById = new Map(input.rows.map((r) => [r.connectionId, r]));

  let revokedByReuse = 0;
  let strictRevoked = 0;
  let wronglyNeedsReauth = 0;
  let wronglyError = 0;
  let missed = 0;
  let expired = 0;
  let storms = 0;
  let maxPerLifetime = 0;
  let maxPerStormSpan = 0;
  const stormSpanMs = input.retry.cooldownMs / 2;
  const stormLimit = input.retry.attempts + 2;
  for (const grant of input.grants) {
    const row = rowById.get(grant.connectionId);
    if (grant.revokedBecause === 'reuse') {
      if (grant.strict) strictRevoked += 1;
      else {
        revokedByReuse += 1;
        note('grantsRevokedByReuse', grant.connectionId);
      }
    }
    const requests = input.requests.get(grant.grantId) ?? [];
    if (grant.control) {
      if (row?.status !== 'needs_reauth') {
        missed += 1;
        note('missedRevocations', `${grant.connectionId}: ${row?.status ?? 'no row'}`);
      }
      // invalid_grant ends in needs_reauth, never in a retry loop: one request, one replay of the previous refresh
      // token in its grace period, and each of those once more if a kill lost its answer.
      const refused = requests.filter((r) => r.outcome === 'revoked').length;
      if (refused > MAX_REQUESTS_AFTER_REVOCATION) {
        storms += 1;
        note('refreshStorms', `${grant.connectionId}: ${refused} requests after its grant was revoked`);
      }
      continue;
    }
    if (grant.revokedBecause !== null) continue;
    if (row?.status === 'needs_reauth') {
      wronglyNeedsReauth += 1;
      note('wronglyNeedsReauth', grant.connectionId);
    }
    if (row?.status === 'error') {
      wronglyError += 1;
      note('wronglyError', grant.connectionId);
    }
    const gap = firstCoverageGap(grant, requests, input.runEndedAt);
    const sighting = input.expiredSightings.get(grant.connectionId);
    if (gap !== null || sighting !== undefined) {
      expired += 1;
      note('accessTokensExpired', `${grant.connectionId}: ${gap ?? `store held an expired token ${sighting} ms`}`);
    }
    const times = requests.map((r) => r.at);
    maxPerLifetime = Math.max(maxPerLifetime, maxInWindow(times, grant.lifetimeMs));
    const burst = maxInWindow(times, stormSpanMs);
    maxPerStormSpan = Math.max(maxPerStormSpan, burst);
    if (burst > stormLimit) {
      storms += 1;
      note(
        'refreshStorms',
        `${grant.connectionId}: ${burst} requests within ${stormSpanMs} ms (at most ${stormLimit})`,
      );
    }
  }

  let rateExcess = 0;
  const maxRateWindow: Verdict['maxRateWindow'] = [];
  for (const limit of input.rateLimits) {
    const all = input.grants
      .filter((g) => g.provider === limit.provider)
      .flatMap((g) => input.requests.get(g.grantId) ?? [])
      .sort((a, b) => a.at - b.at);
    const span = Math.max(limit.durationMs / 2, limit.durationMs - input.arrivalJitterMs);
    const worst = maxInWindow(
      all.map((r) => r.at),
      span,
    );
    // The busiest span itself, for the report: which requests, which outcomes (a retry? a grace replay?).
    const first = all.findIndex((r, i) => (all[i + worst - 1]?.at ?? Infinity) - r.at < span);
    const busiest = first < 0 ? [] : all.slice(first, first + worst);
    maxRateWindow.push({
      provider: limit.provider,
      requests: worst,
      max: limit.max,
      durationMs: limit.durationMs,
      countedOverMs: span,
      rawMax: maxInWindow(
        all.map((r) => r.at),
        limit.durationMs,
      ),
      busiest: busiest.map((r) => ({ at: r.at, grantId: r.grantId, outcome: r.outcome, status: r.status })),
    });
    if (worst > limit.max) {
      rateExcess += worst - limit.max;
      note(
        'rateLimitExcess',
        `${limit.provider}: ${worst} requests in ${span} ms (max ${limit.max} in ${limit.durationMs})`,
      );
    }
  }

  const counts: Counts = {
    grantsRevokedByReuse: revokedByReuse,
    accessTokensExpired: expired,
    wronglyNeedsReauth,
    wronglyError,
    missedRevocations: missed,
    refreshStorms: storms,
    rateLimitExcess: rateExcess,
    unexpectedExits: input.unexpectedExits,
    secretHits: input.secretHits,
    staleStoredTokens: input.staleStoredTokens,
  };
  return {
    ok: Object.values(counts).every((n) => n === 0),
    counts,
    strictGrantsRevokedByReuse: strictRevoked,
    maxRequestsPerGrantPerLifetime: maxPerLifetime,
    maxRequestsPerGrantPerStormSpan: { requests: maxPerStormSpan, spanMs: stormSpanMs, limit: stormLimit },
    maxRateWindow,
    rotationToCommitMs: percentiles(rotationWindows(input)),
    refreshesCommitted: input.commits.length,
    connectionsRefreshed: new Set(input.commits.map((c) => c.connectionId)).size,
    examples,
  };
}

/**
 * Walks a grant's successful refreshes in order: each must arrive before the access token before it expired (the
 * first one before the enqueued token's expiry), and the last token must still be alive when the run ends. Returns a
 * description of the first gap, or null. Successes whose answer Evergreen lost still renewed the grant at the
 * provider, so this is the provider's view; the store sampler catches the store's.
 */
export function firstCoverageGap(
  grant: Pick<GrantFacts, 'issuedAt' | 'initialLifetimeMs' | 'lifetimeMs'>,
  requests: readonly ProviderRequest[],
  runEndedAt: number,
): string | null {
  let expiresAt = grant.issuedAt + grant.initialLifetimeMs;
  for (const r of requests) {
    if (r.outcome !== 'ok') continue;
    if (r.at > expiresAt) return `refreshed ${r.at - expiresAt} ms after its access token expired`;
    expiresAt = r.at + grant.lifetimeMs;
  }
  return runEndedAt > expiresAt ? `access token expired ${runEndedAt - expiresAt} ms before the run ended` : null;
}

/** The largest number of the (unsorted) instants that fit in one window of the given width. */
export function maxInWindow(times: readonly number[], widthMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= widthMs) start += 1;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

/** For each commit, the time since the provider's last successful answer for that grant before it. */
export function rotationWindows(input: Pick<VerdictInput, 'grants' | 'requests' | 'commits'>): number[] {
  const grantOf = new Map(input.grants.map((g) => [g.connectionId, g.grantId]));
  const okTimes = new Map<string, number[]>();
  for (const [grantId, requests] of input.requests) {
    okTimes.set(
      grantId,
      requests.filter((r) => r.outcome === 'ok').map((r) => r.at),
    );
  }
  const windows: number[] = [];
  for (const commit of input.commits) {
    const grantId = grantOf.get(commit.connectionId);
    const times = grantId === undefined ? undefined : okTimes.get(grantId);
    if (!times) continue;
    let before: number | undefined;
    for (const t of times) if (t <= commit.at) before = t;
    if (before !== undefined) windows.push(commit.at - before);
  }
  return windows;
}

export function percentiles(values: readonly number[]): Percentiles | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.at(-1)! };
}
