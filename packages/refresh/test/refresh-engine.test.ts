import {
  resolveProviderEntries,
  type BreakerState,
  type ProviderDefinition,
  type TokenEndpointReply,
} from '@evergreen/core';
import type { RefreshConfig } from '@evergreen/config';
import { createLogger } from '@evergreen/log';
import type { BreakerAnswers, HeldLock, RecordedAnswer } from '@evergreen/queue';
import type { AttemptAudit, FailureWrite, StoredConnection, SuccessWrite, WriteResult } from '@evergreen/store';
import { describe, expect, it } from 'vitest';
import {
  RefreshEngine,
  type EngineLock,
  type EnginePauses,
  type EngineSendSlots,
  type EngineStore,
  type EngineTokens,
} from '../src/refresh-engine.ts';
import type { RefreshObserver } from '../src/refresh-observer.ts';
import type { GuardBreakers, OutageEvents } from '../src/breaker-guard.ts';

/**
 * The engine's wiring with small fakes in place of Postgres, Redis and the token endpoint: the order of its steps,
 * what it sends, what it writes, and what it leaves alone. The policy itself is tested in core (refresh-gate,
 * outcome-plan); the real stores, locks and providers in test/refresh-pipeline and test/engine-faults.
 */

const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);
const MIN = 60_000;

const config: RefreshConfig = {
  lockTtlMs: 30_000,
  minIntervalMs: 10_000,
  jitterMs: 0,
  shortLifetimeFraction: 0.5,
  backoff: { baseMs: 1_000, capMs: 30_000, attempts: 8, cooldownMs: 5 * MIN },
  classify: { defaultRetryAfterMs: 60_000, maxRetryAfterMs: 600_000 },
  breaker: { failureRatio: 0.5, windowMs: 60_000, minRequests: 20, probeIntervalMs: 15_000, rampMs: 60_000 },
};

function provider(entry: Record<string, unknown> = {}): ProviderDefinition {
  const { providers, issues } = resolveProviderEntries(
    [],
    [{ id: 'acme', tokenUrl: 'https://acme.example/token', clientId: 'c', clientSecret: 's', ...entry }],
  );
  expect(issues).toEqual([]);
  return providers[0]!;
}

function row(fields: Partial<StoredConnection> = {}): StoredConnection {
  return {
    id: 'c1',
    ownerId: 'owner-1',
    provider: 'acme',
    accessToken: 'at1',
    refreshToken: 'rt1',
    previousRefreshToken: null,
    refreshTokenRotatedAt: null,
    refreshTokenExpiresAt: null,
    refreshTokenWarnedAt: null,
    credentials: null,
    scopes: [],
    metadata: {},
    expiresAt: new Date(NOW + 4 * MIN),
    refreshAt: new Date(NOW),
    status: 'connected',
    consecutiveFailures: 0,
    version: 1,
    lastRefreshAt: null,
    lastRefreshReason: null,
    ...fields,
  };
}

const json = (status: number, body: unknown): TokenEndpointReply => ({
  kind: 'response',
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
  truncated: false,
});
const GRANTED = json(200, { access_token: 'at2', refresh_token: 'rt2', expires_in: 3600 });
const INVALID_GRANT = json(400, { error: 'invalid_grant' });

/** A store whose `find` answers from a script (the last answer repeats) and whose writes are recorded. */
class FakeStore implements EngineStore {
  readonly successes: { write: SuccessWrite; audit: AttemptAudit }[] = [];
  readonly failures: { write: FailureWrite; audit: AttemptAudit }[] = [];
  applied = true;
  /** This many success writes throw first (Postgres away). */
  failingWrites = 0;
  #rows: (StoredConnection | null)[];

  constructor(...rows: (StoredConnection | null)[]) {
    this.#rows = rows;
  }

  async find(): Promise<StoredConnection | null> {
    return (this.#rows.length > 1 ? this.#rows.shift() : this.#rows[0]) ?? null;
  }

  async recordSuccess(_c: StoredConnection, write: SuccessWrite, audit: AttemptAudit): Promise<WriteResult> {
    if (this.failingWrites > 0) {
      this.failingWrites -= 1;
      throw new Error('the database is unreachable');
    }
    this.successes.push({ write, audit });
    return this.applied ? { applied: true, version: 2 } : { applied: false };
  }

  async recordFailure(_c: StoredConnection, write: FailureWrite, audit: AttemptAudit): Promise<WriteResult> {
    this.failures.push({ write, audit });
    return this.applied ? { applied: true, version: 2 } : { applied: false };
  }
}

class FakeLock implements EngineLock {
  readonly calls: string[] = [];
  held: HeldLock | null = { key: 'lock:c1', token: 'mine', expiresAt: NOW + 18_000 };
  extends = true;
  remaining = 0;

  async acquire(): Promise<HeldLock | null> {
    this.calls.push('acquire');
    return this.held;
  }
  readonly extendedFor: number[] = [];
  async extend(_lock: HeldLock, ms: number): Promise<boolean> {
    this.calls.push('extend');
    this.extendedFor.push(ms);
    return this.extends;
  }
  async release(): Promise<boolean> {
    this.calls.push('release');
    return true;
  }
  async remainingMs(): Promise<number> {
    return this.remaining;
  }
}

/** A token endpoint answering from a script, remembering the refresh token each request presented. */
class FakeTokens implements EngineTokens {
  readonly presented: (string | undefined)[] = [];
  constructor(readonly replies: TokenEndpointReply[]) {}

  async request(...[, , context]: Parameters<EngineTokens['request']>) {
    this.presented.push(context.refreshToken);
    const reply = this.replies.shift();
    if (!reply) throw new Error('no more scripted replies');
    return { reply, startedAt: NOW, durationMs: 40 };
  }

  async check(...[, , credential]: Parameters<EngineTokens['check']>) {
    this.presented.push(credential);
    const reply = this.replies.shift();
    if (!reply) throw new Error('no more scripted replies');
    return { reply, startedAt: NOW, durationMs: 40 };
  }
}

function setup(options: {
  store: FakeStore;
  replies?: TokenEndpointReply[];
  provider?: ProviderDefinition;
  sendSlots?: EngineSendSlots;
  pauses?: EnginePauses;
  breakers?: GuardBreakers;
  events?: OutageEvents;
}) {
  const lines: Record<string, unknown>[] = [];
  const seen: string[] = [];
  const observer: RefreshObserver = {
    attempt: (e) => seen.push(`attempt ${e.outcome}`),
    lateness: () => seen.push('lateness'),
    lockContention: () => seen.push('lockContention'),
    breakerTransition: (e) => seen.push(`breaker ${e.to}`),
  };
  const lock = new FakeLock();
  const tokens = new FakeTokens(options.replies ?? []);
  const p = options.provider ?? provider();
  const engine = new RefreshEngine({
    store: options.store,
    lock,
    tokens,
    ...(options.sendSlots && { sendSlots: options.sendSlots }),
    ...(options.pauses && { pauses: options.pauses }),
    ...(options.breakers && { breakers: options.breakers }),
    ...(options.events && { outageEvents: options.events }),
    providers: new Map([[p.id, p]]),
    config,
    httpDeadlineMs: 15_000,
    log: createLogger({
      level: 'info',
      destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
    }),
    hashOwner: (id) => `hash(${id})`,
    observer,
    now: () => NOW,
    random: () => 0,
  });
  return { engine, lock, tokens, lines, seen };
}

describe('RefreshEngine, with small fakes', () => {
  it('a due connection: one request, the answer written once, the next refresh scheduled, the lock released', async () => {
    const store = new FakeStore(row());
    const { engine, lock, tokens, lines, seen } = setup({ store, replies: [GRANTED] });

    const decision = await engine.run('c1', { trigger: 'schedule' });

    expect(decision).toEqual({ kind: 'delay', runAt: NOW + 60 * MIN - 5 * MIN, why: 'scheduled' });
    expect(tokens.presented).toEqual(['rt1']);
    expect(store.successes).toHaveLength(1);
    expect(store.successes[0]!.write).toMatchObject({
      accessToken: 'at2',
      refreshToken: 'rt2',
      replacedRefreshToken: 'rt1',
      expiresAt: new Date(NOW + 60 * MIN),
      refreshAt: new Date(NOW + 55 * MIN),
    });
    expect(store.successes[0]!.audit).toEqual({
      outcome: 'success',
      reason: null,
      httpStatus: 200,
      durationMs: 40,
      trigger: 'schedule',
    });
    expect(lock.calls).toEqual(['acquire', 'release']);
    expect(seen).toEqual(['lateness', 'attempt success']);
    const [line] = lines.filter((l) => l.msg === 'refresh');
    expect(line).toMatchObject({ outcome: 'success', owner: 'hash(owner-1)', next: 'delay', why: 'scheduled' });
    expect(JSON.stringify(lines)).not.toMatch(/at2|rt2|rt1|owner-1"/);
  });

  it('another process holds the lock: nothing is read or sent, and the job looks again shortly', async () => {
    const store = new FakeStore(row());
    const { engine, lock, tokens, seen } = setup({ store, replies: [GRANTED] });
    lock.held = null;
    lock.remaining = 400;

    expect(await engine.run('c1', { trigger: 'schedule' })).toEqual({ kind: 'delay', runAt: NOW + 500, why: 'locked' });
    expect(tokens.presented).toEqual([]);
    expect(seen).toEqual(['lockContention']);
    expect(lock.calls).toEqual(['acquire']);
  });

  it('a row the gate turns away sends nothing and writes nothing, and the lock is still released', async () => {
    const store = new FakeStore(row({ refreshAt: new Date(NOW + 10 * MIN) }));
    const { engine, lock, tokens } = setup({ store, replies: [GRANTED] });

    expect(await engine.run('c1', { trigger: 'schedule' })).toEqual({
      kind: 'delay',
      runAt: NOW + 10 * MIN,
      why: 'not_due',
    });
    expect(tokens.presented).toEqual([]);
    expect(store.successes.length + store.failures.length).toBe(0);
    expect(lock.calls).toEqual(['acquire', 'release']);
  });

  it('a lock with too little time left that cannot be extended: the request is not sent', async () => {
    const store = new FakeStore(row());
    const { engine, lock, tokens } = setup({ store, replies: [GRANTED] });
    lock.held = { key: 'lock:c1', token: 'mine', expiresAt: NOW + 15_999 };
    lock.extends = false;

    expect(await engine.run('c1', { trigger: 'schedule' })).toEqual({
      kind: 'delay',
      runAt: NOW + 1_000,
      why: 'locked',
    });
    expect(tokens.presented).toEqual([]);
    expect(lock.calls).toEqual(['acquire', 'extend', 'release']);
  });

  it('the provider`s declared rate is spent: the queue pauses and nothing is sent', async () => {
    const store = new FakeStore(row());
    const { engine, tokens } = setup({
      store,
      replies: [GRANTED],
      provider: provider({ rateLimit: { max: 1, durationMs: 1_000 } }),
      sendSlots: { take: async () => 700 },
    });

    expect(await engine.run('c1', { trigger: 'schedule' })).toEqual({ kind: 'rate_limited', retryAfterMs: 700 });
    expect(tokens.presented).toEqual([]);
  });

  it('invalid_grant after the row moved on is a lost race: nothing is written and the job follows the newer row', async () => {
    const moved = row({ version: 2, refreshAt: new Date(NOW + 50 * MIN) });
    const store = new FakeStore(row(), moved);
    const { engine, lines } = setup({ store, replies: [INVALID_GRANT] });

    expect(await engine.run('c1', { trigger: 'schedule' })).toEqual({
      kind: 'delay',
      runAt: NOW + 50 * MIN,
      why: 'fenced',
    });
    expect(store.failures).toEqual([]);
    expect(lines.map((l) => l.msg)).toContain('refresh write fenced by a newer version');
  });

  it('invalid_grant on an unchanged row: needs_reauth is written and the job stops', async () => {
    const store = new FakeStore(row());
    const { engine } = setup({ store, replies: [INVALID_GRANT] });

    expect(await engine.run('c1', { trigger: 'schedule' })).toEqual({
      kind: 'stop',
      status: 'needs_reauth',
      reason: 'invalid_grant',
    });
    expect(store.failures.map((f) => f.write)).toEqual([
      { status: 'needs_reauth', refreshAt: null, countsAsFailure: true },
    ]);
  });

  it('a refused refresh token inside the provider`s grace period: the previous one is presented, once', async () => {
    const store = new FakeStore(row({ previousRefreshToken: 'rt0', refreshTokenRotatedAt: new Date(NOW - 10_000) }));
    const { engine, tokens, lock } = setup({
      store,
      replies: [INVALID_GRANT, GRANTED],
      provider: provider({ rotation: { rotates: 'always', graceSeconds: 30 } }),
    });

    expect(await engine.run('c1', { trigger: 'schedule' })).toMatchObject({ kind: 'delay', why: 'scheduled' });
    expect(tokens.presented).toEqual(['rt1', 'rt0']);
    expect(lock.calls).toEqual(['acquire', 'extend', 'release']);
    expect(store.successes[0]!.write.replacedRefreshToken).toBe('rt0');
  });

  it('a job taken just before its provider paused (a 429 elsewhere) sends nothing into the pause', async () => {
    const store = new FakeStore(row());
    const { engine, tokens } = setup({ store, replies: [GRANTED], pauses: { pausedForMs: async () => 4_200 } });

    expect(await engine.run('c1', { trigger: 'schedule' })).toEqual({ kind: 'rate_limited', retryAfterMs: 4_200 });
    expect(tokens.presented).toEqual([]);
    expect(store.successes).toEqual([]);
    expect(store.failures).toEqual([]);
  });

  it('new tokens whose write fails are written again, the lock extended each time for one request and write only', async () => {
    const store = new FakeStore(row());
    store.failingWrites = 2;
    const { engine, lock } = setup({ store, replies: [GRANTED] });

    expect(await engine.run('c1', { trigger: 'schedule' })).toMatchObject({ kind: 'delay', why: 'scheduled' });
    expect(store.successes).toHaveLength(1);
    // Not the whole TTL (30 s): a worker killed while it retries must free the connection as soon as a kill
    // otherwise does, so the retry presents the rotated-away token within the provider's grace period.
    expect(lock.extendedFor).toEqual([18_000, 18_000]);
  });

  it('a transient failure whose write is fenced follows the newer row instead of retrying', async () => {
    const store = new FakeStore(row(), row({ version: 2, refreshAt: new Date(NOW + 30 * MIN) }));
    store.applied = false;
    const { engine } = setup({ store, replies: [json(503, {})] });

    expect(await engine.run('c1', { trigger: 'schedule' })).toEqual({
      kind: 'delay',
      runAt: NOW + 30 * MIN,
      why: 'fenced',
    });
    expect(store.failures.map((f) => f.write.status)).toEqual(['connected']);
  });
});

/** A provider's breaker in memory: its state and every call made to it. */
class FakeBreakers implements GuardBreakers {
  readonly calls: string[] = [];
  state_: BreakerState;
  window = { requests: 0, failures: 0 };
  probeWait = 0;

  constructor(state: BreakerState) {
    this.state_ = state;
  }
  async state(): Promise<BreakerState> {
    this.calls.push('state');
    return this.state_;
  }
  async record(_p: string, answers: BreakerAnswers): Promise<RecordedAnswer> {
    this.calls.push(`record ${answers.working} working ${answers.failures} failed`);
    this.window = {
      requests: this.window.requests + answers.working + answers.failures,
      failures: this.window.failures + answers.failures,
    };
    return { ...this.window, state: this.state_.kind, fresh: false, now: NOW };
  }
  async open(): Promise<number | null> {
    this.calls.push('open');
    if (this.state_.kind === 'open') return null;
    this.state_ = { kind: 'open', openedAt: NOW, why: null, nextProbeAt: NOW + 15_000 };
    return NOW;
  }
  async close(): Promise<{ openedAt: number; closedAt: number } | null> {
    this.calls.push('close');
    if (this.state_.kind !== 'open') return null;
    const openedAt = this.state_.openedAt;
    this.state_ = { kind: 'closed', closedAt: NOW };
    return { openedAt, closedAt: NOW };
  }
  async takeProbe(): Promise<number> {
    this.calls.push('takeProbe');
    return this.probeWait;
  }
  async takeRampSlot(): Promise<number> {
    this.calls.push('takeRampSlot');
    return 0;
  }
}

describe('RefreshEngine and the provider breaker', () => {
  const open = (nextProbeAt: number): BreakerState => ({ kind: 'open', openedAt: NOW - MIN, why: null, nextProbeAt });
  const SERVER_ERROR = json(503, { error: 'server_error' });

  it('a worker holds a job of an open provider before any lock or read, sending nothing', async () => {
    const store = new FakeStore(row());
    const breakers = new FakeBreakers(open(NOW + 10_000));
    const { engine, lock, tokens } = setup({ store, breakers });
    expect(await engine.run('c1', { trigger: 'schedule', provider: 'acme' })).toEqual({
      kind: 'provider_outage',
      retryAfterMs: 5_000,
    });
    expect(lock.calls).toEqual([]);
    expect(tokens.presented).toEqual([]);
    expect(store.failures).toEqual([]);
  });

  it('the probe that fails holds its job, due, its streak untouched', async () => {
    const store = new FakeStore(row({ consecutiveFailures: 4 }));
    const breakers = new FakeBreakers(open(NOW));
    const { engine, tokens } = setup({ store, breakers, replies: [SERVER_ERROR] });
    expect(await engine.run('c1', { trigger: 'schedule', provider: 'acme' })).toEqual({
      kind: 'provider_outage',
      retryAfterMs: 5_000,
    });
    expect(tokens.presented).toEqual(['rt1']);
    expect(store.failures[0]!.write).toEqual({ status: 'connected', refreshAt: new Date(NOW), countsAsFailure: false });
    expect(breakers.calls).toEqual(['state', 'takeProbe', 'record 0 working 1 failed']);
  });

  it('a lost probe slot sends nothing', async () => {
    const breakers = new FakeBreakers(open(NOW));
    breakers.probeWait = 14_000;
    const { engine, tokens } = setup({ store: new FakeStore(row()), breakers });
    expect(await engine.run('c1', { trigger: 'on_demand', force: true })).toEqual({
      kind: 'provider_outage',
      retryAfterMs: 5_000,
    });
    expect(tokens.presented).toEqual([]);
  });

  it('a successful probe closes the breaker once, counted and announced', async () => {
    const breakers = new FakeBreakers(open(NOW));
    const announced: string[] = [];
    const events: OutageEvents = {
      recordProviderOutage: async (kind) => {
        announced.push(kind);
        return true;
      },
    };
    const { engine, seen, lines } = setup({ store: new FakeStore(row()), breakers, events, replies: [GRANTED] });
    expect((await engine.run('c1', { trigger: 'schedule', provider: 'acme' })).kind).toBe('delay');
    expect(breakers.state_).toEqual({ kind: 'closed', closedAt: NOW });
    expect(seen).toContain('breaker closed');
    expect(announced).toEqual(['provider.outage_ended']);
    expect(lines.some((l) => String(l.msg).startsWith('provider breaker closed'))).toBe(true);
  });

  it('failures past the threshold open it once, with a log line saying when and why', async () => {
    const breakers = new FakeBreakers({ kind: 'closed', closedAt: null });
    breakers.window = { requests: 19, failures: 10 };
    const announced: string[] = [];
    const events: OutageEvents = {
      recordProviderOutage: async (kind) => {
        announced.push(kind);
        return true;
      },
    };
    const { engine, lines, seen } = setup({ store: new FakeStore(row()), breakers, events, replies: [SERVER_ERROR] });
    expect((await engine.run('c1', { trigger: 'schedule', provider: 'acme' })).kind).toBe('delay');
    expect(breakers.state_.kind).toBe('open');
    expect(seen).toContain('breaker open');
    expect(announced).toEqual(['provider.outage_started']);
    expect(lines.find((l) => String(l.msg).startsWith('provider breaker opened'))).toMatchObject({
      provider: 'acme',
      reason: 'server_error',
      failures: 11,
      requests: 20,
    });
  });

  it("a success the closed breaker admitted is not recorded at once: the provider's next failure carries it", async () => {
    const breakers = new FakeBreakers({ kind: 'closed', closedAt: null });
    const { engine } = setup({ store: new FakeStore(row()), breakers, replies: [GRANTED, SERVER_ERROR] });
    try {
      await engine.run('c1', { trigger: 'schedule', provider: 'acme' });
      expect(breakers.calls).toEqual(['state']);
      await engine.run('c1', { trigger: 'schedule', provider: 'acme' });
      expect(breakers.calls).toEqual(['state', 'state', 'record 1 working 1 failed']);
    } finally {
      engine.close();
    }
  });

  it('invalid_grant never opens it, however the window looks', async () => {
    const breakers = new FakeBreakers({ kind: 'closed', closedAt: null });
    breakers.window = { requests: 100, failures: 99 };
    const { engine } = setup({ store: new FakeStore(row()), breakers, replies: [INVALID_GRANT] });
    expect((await engine.run('c1', { trigger: 'schedule', provider: 'acme' })).kind).toBe('stop');
    expect(breakers.calls).toEqual(['state', 'record 1 working 0 failed']);
  });
});
