/**
 * The provider-outage scenario's figures (issue 19), from the providers' own records: what was sent to the provider
 * while it was down, how soon the waiting connections were refreshed once it came back and in what order, which tokens
 * lapsed, and whether the other provider noticed. Pure: the runner hands it the records.
 */

/** One request as a fake provider recorded it. */
export interface SentRequest {
  at: number;
  grantId: string | null;
  outcome: string;
}

/** A connection of the scenario: its grant, and when its first token expires (epoch ms). */
export interface OutageGrant {
  grantId: string;
  expiresAt: number;
}

export interface OutageInput {
  /** When the provider went down and when it came back (epoch ms). */
  downAt: number;
  upAt: number;
  /** The provider that went down: its connections and its records. */
  down: { grants: readonly OutageGrant[]; requests: readonly SentRequest[] };
  /** The provider that stayed up. */
  steady: { grants: readonly OutageGrant[]; requests: readonly SentRequest[] };
  /** How long after the recovery the "refreshed within" figure looks (its run: 50 s). */
  refreshedWithinMs: number;
  /** The provider's refresh buffer: a connection is due this long before its token expires. */
  bufferMs: number;
  /** When the records were taken: a connection not refreshed by then lapsed only if its token expired before. */
  endedAt: number;
}

export interface OutageFigures {
  downForMs: number;
  /** Requests the provider received while down, in all and per minute. */
  sentWhileDown: number;
  sentPerMinuteWhileDown: number;
  /** Connections waiting at the recovery: due by then, not refreshed yet, their token still valid. */
  waitingAtRecovery: number;
  /** Of those, refreshed within `refreshedWithinMs` of the recovery. */
  refreshedWithin: number;
  /** How long after the recovery the last of them was refreshed (null: not all were). */
  lastRefreshedAfterMs: number | null;
  /** Tokens that outlived the outage yet lapsed before their refresh (target 0), and by how much at most (the end of
   * the run for one never refreshed). */
  expiredAfterRecovery: number;
  maxLapseMs: number;
  /** Never refreshed, their token still valid at the end of the run: not judged. */
  notRefreshedByEnd: number;
  /** Tokens that lapsed during the outage itself (expiry before the recovery): nothing can refresh those. */
  expiredDuringOutage: number;
  /**
   * Order after the recovery: the share of pairs of waiting connections refreshed in the order of their expiry (1:
   * nearest expiry first throughout, 0.5: no order), over pairs whose expiries differ by more than a second.
   */
  expiryOrderConcordance: number;
  /** Requests per second after the recovery, second by second for the first minute (the ramp). */
  perSecondAfterRecovery: number[];
  /** The other provider: its connections refreshed while the first was down, and any of its tokens lapsed. */
  steady: { refreshedWhileDown: number; grants: number; lapsed: number };
}

export function measureOutage(input: OutageInput): OutageFigures {
  const { downAt, upAt } = input;
  const downForMs = upAt - downAt;
  const sentWhileDown = input.down.requests.filter((r) => r.at >= downAt && r.at < upAt).length;

  const firstOkAfter = (requests: readonly SentRequest[], from: number) => {
    const first = new Map<string, number>();
    for (const r of requests) {
      if (r.outcome !== 'ok' || r.grantId === null || r.at < from) continue;
      if (!first.has(r.grantId)) first.set(r.grantId, r.at);
    }
    return first;
  };
  const refreshedBeforeDown = new Set(
    input.down.requests.filter((r) => r.outcome === 'ok' && r.at < downAt && r.grantId !== null).map((r) => r.grantId),
  );
  const firstAfterDown = firstOkAfter(input.down.requests, downAt);

  let expiredAfterRecovery = 0;
  let expiredDuringOutage = 0;
  let maxLapseMs = 0;
  let notRefreshedByEnd = 0;
  const waiting: { expiresAt: number; refreshedAt: number | null }[] = [];
  // Every token that outlived the outage counts for the lapses; those due by the recovery are its backlog.
  for (const g of input.down.grants) {
    if (refreshedBeforeDown.has(g.grantId)) continue;
    const refreshedAt = firstAfterDown.get(g.grantId) ?? null;
    if (refreshedAt !== null && refreshedAt < upAt) continue; // refreshed by a probe, during the outage
    if (g.expiresAt <= upAt) {
      if (refreshedAt === null || refreshedAt > g.expiresAt) expiredDuringOutage += 1;
      continue;
    }
    if (refreshedAt === null && g.expiresAt > input.endedAt) notRefreshedByEnd += 1;
    else if (refreshedAt === null || refreshedAt > g.expiresAt) {
      expiredAfterRecovery += 1;
      maxLapseMs = Math.max(maxLapseMs, (refreshedAt ?? input.endedAt) - g.expiresAt);
    }
    if (g.expiresAt - input.bufferMs <= upAt) waiting.push({ expiresAt: g.expiresAt, refreshedAt });
  }
  const refreshedTimes = waiting.map((w) => w.refreshedAt);
  const refreshedWithin = refreshedTimes.filter((t) => t !== null && t - upAt <= input.refreshedWithinMs).length;
  const backlog = waiting.filter((w): w is { expiresAt: number; refreshedAt: number } => w.refreshedAt !== null);
  const lastRefreshedAfterMs = refreshedTimes.some((t) => t === null)
    ? null
    : Math.max(0, ...refreshedTimes.map((t) => (t as number) - upAt));

  const perSecondAfterRecovery = Array.from({ length: 60 }, () => 0);
  for (const r of input.down.requests) {
    const second = Math.floor((r.at - upAt) / 1_000);
    if (second >= 0 && second < 60) perSecondAfterRecovery[second]! += 1;
  }

  const steadyOk = input.steady.requests.filter((r) => r.outcome === 'ok' && r.grantId !== null);
  const steadyRefreshedWhileDown = new Set(steadyOk.filter((r) => r.at >= downAt && r.at < upAt).map((r) => r.grantId))
    .size;
  let steadyLapsed = 0;
  for (const g of input.steady.grants) {
    const first = steadyOk.find((r) => r.grantId === g.grantId);
    if (first && first.at > g.expiresAt) steadyLapsed += 1;
  }

  return {
    downForMs,
    sentWhileDown,
    sentPerMinuteWhileDown: downForMs > 0 ? Math.round((sentWhileDown / downForMs) * 60_000 * 10) / 10 : 0,
    waitingAtRecovery: waiting.length,
    refreshedWithin,
    lastRefreshedAfterMs,
    expiredAfterRecovery,
    maxLapseMs,
    notRefreshedByEnd,
    expiredDuringOutage,
    expiryOrderConcordance: concordance(backlog),
    perSecondAfterRecovery,
    steady: { refreshedWhileDown: steadyRefreshedWhileDown, grants: input.steady.grants.length, lapsed: steadyLapsed },
  };
}

/**
 * The share of pairs refreshed in the order of their expiry, over pairs whose expiries differ by more than a second
 * (closer ones are a tie for any purpose). Samples 2,000 items at most, evenly, to stay quadratic in a small number.
 */
export function concordance(items: readonly { expiresAt: number; refreshedAt: number }[]): number {
  const step = Math.max(1, Math.ceil(items.length / 2_000));
  const sample = items.filter((_, i) => i % step === 0);
  let agree = 0;
  let pairs = 0;
  for (let i = 0; i < sample.length; i++) {
    for (let j = i + 1; j < sample.length; j++) {
      const a = sample[i]!;
      const b = sample[j]!;
      if (Math.abs(a.expiresAt - b.expiresAt) <= 1_000) continue;
      pairs += 1;
      if (Math.sign(a.expiresAt - b.expiresAt) === Math.sign(a.refreshedAt - b.refreshedAt)) agree += 1;
    }
  }
  return pairs === 0 ? 1 : Math.round((agree / pairs) * 1_000) / 1_000;
}
