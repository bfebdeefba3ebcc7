import { concordance } from './outage-measure.ts';

/**
 * The rate-limited scenario's figures (issue 19, item 2): while one provider answers a share of its token requests
 * 429 with Retry-After, which tokens lapsed (per provider, and by how much), how late refreshes ran against their due
 * time, whether anything was sent to that provider during a pause it announced, and in what order its backlog was
 * refreshed. Pure: the runner hands it the providers' own records.
 */

/** One request as a fake provider recorded it (`at`: when it arrived). */
export interface RateLimitedRequest {
  at: number;
  grantId: string | null;
  status: number;
  outcome: string;
}

/** A connection of the scenario: its grant, when it fell due and when its first access token expired (epoch ms). */
export interface RateLimitedGrant {
  grantId: string;
  dueAt: number;
  expiresAt: number;
}

export interface ProviderRecords {
  grants: readonly RateLimitedGrant[];
  requests: readonly RateLimitedRequest[];
  /** Grants the provider revoked because a replaced refresh token came back. */
  revokedByReuse: number;
}

export interface RateLimitedInput {
  limited: ProviderRecords;
  steady: ProviderRecords;
  /** The Retry-After the limited provider announces with each 429. */
  retryAfterMs: number;
  /** How long after a 429 answer left the provider a request still counts as already under way (not a violation). */
  inFlightAllowanceMs: number;
  /** The provider's own latency: a request's answer leaves this long after it arrived. */
  providerLatencyMs: number;
  /** When the records were taken: a connection not refreshed by then lapsed only if its token expired before. */
  endedAt: number;
  /** A backlog is what waited: refreshed this much or more after its due time (for the order figure). */
  backlogAfterMs: number;
  /**
   * When Redis lost its keys (a FLUSHALL): every worker forgets a pause live then (a limit docs/reliability.md
   * states), so requests inside that pause count in `sentDuringPause` but not as sent knowing of it.
   */
  forgottenAt?: readonly number[];
}

export interface ProviderFigures {
  connections: number;
  /** Refreshed at least once (successfully) during the run. */
  refreshed: number;
  /** Tokens that expired before their connection's first successful refresh (target 0), and by how much at most. */
  lapsed: number;
  maxLapseMs: number;
  /** Not refreshed by the end, token still valid: not judged. */
  pending: number;
  /** First successful refresh against the due time (ms; early refreshes count 0). */
  lateness: { p50: number; p99: number; max: number };
  requests: number;
  answered429: number;
  revokedByReuse: number;
}

export interface RateLimitedFigures {
  limited: ProviderFigures;
  steady: ProviderFigures;
  /** Requests that arrived at the limited provider inside a Retry-After pause it had announced, in all. */
  sentDuringPause: number;
  /** Of those, the ones that arrived more than the in-flight allowance after the 429 left: sent knowing of the pause. */
  sentDuringPauseBeyondInFlight: number;
  /** Share of the limited provider's backlog refreshed in order of expiry (pairs more than a second apart). */
  backlogOrderConcordance: number;
  /** The connections that waited (refreshed `backlogAfterMs` or more after their due time). */
  backlog: number;
}

export function measureRateLimited(input: RateLimitedInput): RateLimitedFigures {
  const pauses = pauseWindows(input.limited.requests, input.providerLatencyMs, input.retryAfterMs);
  let sentDuringPause = 0;
  let beyond = 0;
  for (const r of input.limited.requests) {
    const window = pauses.find((p) => r.at > p.from && r.at < p.until);
    if (!window) continue;
    sentDuringPause += 1;
    const forgotten = (input.forgottenAt ?? []).some((at) => at >= window.from && at <= window.until);
    if (!forgotten && r.at > window.from + input.inFlightAllowanceMs) beyond += 1;
  }
  const firstOk = firstOkPerGrant(input.limited.requests);
  const backlog = input.limited.grants.flatMap((g) => {
    const at = firstOk.get(g.grantId);
    return at !== undefined && at - g.dueAt >= input.backlogAfterMs
      ? [{ expiresAt: g.expiresAt, refreshedAt: at }]
      : [];
  });
  return {
    limited: providerFigures(input.limited, input.endedAt),
    steady: providerFigures(input.steady, input.endedAt),
    sentDuringPause,
    sentDuringPauseBeyondInFlight: beyond,
    backlogOrderConcordance: concordance(backlog),
    backlog: backlog.length,
  };
}

/**
 * The pauses the provider announced: from each 429's answer (arrival + latency) for Retry-After, merged where they
 * overlap (each window keeps the start of the 429 that opened it, so the in-flight allowance counts from there).
 */
export function pauseWindows(
  requests: readonly RateLimitedRequest[],
  latencyMs: number,
  retryAfterMs: number,
): { from: number; until: number }[] {
  const starts = requests
    .filter((r) => r.status === 429)
    .map((r) => r.at + latencyMs)
    .sort((a, b) => a - b);
  const windows: { from: number; until: number }[] = [];
  for (const from of starts) {
    const last = windows[windows.length - 1];
    // A 429 that left inside a window was itself a request under way: it extends the pause, but the allowance for
    // requests already under way is the opening one's.
    if (last && from <= last.until) last.until = Math.max(last.until, from + retryAfterMs);
    else windows.push({ from, until: from + retryAfterMs });
  }
  return windows;
}

function firstOkPerGrant(requests: readonly RateLimitedRequest[]): Map<string, number> {
  const first = new Map<string, number>();
  for (const r of requests) {
    if (r.outcome !== 'ok' || r.grantId === null) continue;
    const seen = first.get(r.grantId);
    if (seen === undefined || r.at < seen) first.set(r.grantId, r.at);
  }
  return first;
}

function providerFigures(records: ProviderRecords, endedAt: number): ProviderFigures {
  const firstOk = firstOkPerGrant(records.requests);
  let lapsed = 0;
  let maxLapseMs = 0;
  let pending = 0;
  const lateness: number[] = [];
  for (const g of records.grants) {
    const at = firstOk.get(g.grantId);
    if (at === undefined) {
      if (g.expiresAt > endedAt) pending += 1;
      else {
        lapsed += 1;
        maxLapseMs = Math.max(maxLapseMs, endedAt - g.expiresAt);
      }
      continue;
    }
    lateness.push(Math.max(0, at - g.dueAt));
    if (at > g.expiresAt) {
      lapsed += 1;
      maxLapseMs = Math.max(maxLapseMs, at - g.expiresAt);
    }
  }
  return {
    connections: records.grants.length,
    refreshed: firstOk.size,
    lapsed,
    maxLapseMs,
    pending,
    lateness: quantiles(lateness),
    requests: records.requests.length,
    answered429: records.requests.filter((r) => r.status === 429).length,
    revokedByReuse: records.revokedByReuse,
  };
}

function quantiles(values: number[]): { p50: number; p99: number; max: number } {
  if (values.length === 0) return { p50: 0, p99: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1]! };
}
