import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONNECTION_STATUSES, isLive } from '../src/connection-status.ts';
import { GRANTS, type ProviderDefinition } from '../src/provider-definition.ts';
import { resolveProviderEntries } from '../src/provider-entry.ts';
import { checkBeforeRefresh, DUE_TOLERANCE_MS, type GateRow, type RefreshGateInput } from '../src/refresh-gate.ts';
import { now } from './fuzz-support.ts';

/**
 * Property tests of the checks before a token request, on any row the store can return, any clock and any caller
 * (scheduled, forced, on demand): a request goes out only for a live, due connection that something can renew, and
 * every other answer is a decision whose time follows from its inputs.
 */

const S = 1_000;
const DAY = 86_400 * S;

/** One provider of each grant, plus an id no provider has. */
const PROVIDERS: ReadonlyMap<string, ProviderDefinition> = new Map(
  resolveProviderEntries(
    [],
    GRANTS.map((grant) => ({
      id: grant,
      grant,
      tokenUrl: `https://${grant}.example/token`,
      clientId: 'c',
      clientSecret: 's',
    })),
  ).providers.map((p) => [p.id, p]),
);
const PROVIDER_IDS = [...GRANTS, 'unknown'];

/** A time near `now`: most rows are due within a few seconds or days, either side. */
const offset = fc.oneof(
  fc.integer({ min: -5 * S, max: 5 * S }),
  fc.integer({ min: -30 * DAY, max: 30 * DAY }),
  fc.constantFrom(0, DUE_TOLERANCE_MS, DUE_TOLERANCE_MS + 1, -1),
);
const time = (at: number) => fc.option(offset.map((ms) => new Date(at + ms)));

const row = (at: number): fc.Arbitrary<GateRow> =>
  fc.record({
    provider: fc.constantFrom(...PROVIDER_IDS),
    status: fc.constantFrom(...CONNECTION_STATUSES),
    accessToken: fc.option(fc.constant('at')),
    refreshToken: fc.option(fc.constant('rt')),
    expiresAt: time(at),
    refreshAt: time(at),
  });

const scenario: fc.Arbitrary<RefreshGateInput<GateRow>> = now.chain((at) =>
  fc.record({
    connection: fc.option(row(at), { freq: 10 }),
    providers: fc.constant(PROVIDERS),
    now: fc.constant(at),
    force: fc.boolean(),
    onlyIfExpiringWithinMs: fc.option(fc.integer({ min: 0, max: 2 * DAY }), { nil: undefined }),
    unknownProviderRetryMs: fc.integer({ min: 100, max: DAY }),
  }),
);

describe('checkBeforeRefresh, fuzzed', () => {
  it('the generators reach every verdict the gate can give', () => {
    expect([...PROVIDERS.keys()].sort()).toEqual([...GRANTS].sort());
    const seen = new Set(
      fc.sample(scenario, { numRuns: 5_000, seed: 14 }).map((input) => {
        const verdict = checkBeforeRefresh(input);
        return verdict.kind === 'send'
          ? 'send'
          : verdict.decision.kind === 'done' || verdict.decision.kind === 'delay'
            ? verdict.decision.why
            : verdict.decision.kind;
      }),
    );
    for (const why of [
      'send',
      'not_found',
      'nothing_to_schedule',
      'not_due',
      'unknown_provider',
      'never_expires',
      'fresh',
      'no_refresh_token',
    ]) {
      expect(seen).toContain(why);
    }
  });

  it('sends only for a live, due row of a known, expiring provider that has something to renew with', () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const verdict = checkBeforeRefresh(input);
        if (verdict.kind !== 'send') return;
        const { connection } = verdict;
        expect(connection).toBe(input.connection);
        expect(isLive(connection.status)).toBe(true);
        expect(verdict.provider).toBe(PROVIDERS.get(connection.provider));
        expect(verdict.provider.grant).not.toBe('none');
        if (verdict.provider.grant === 'refresh_token') expect(connection.refreshToken).not.toBeNull();
        if (!input.force) {
          expect(connection.refreshAt).not.toBeNull();
          expect(connection.refreshAt!.getTime()).toBeLessThanOrEqual(input.now + DUE_TOLERANCE_MS);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('never refreshes for an on-demand caller whose stored token already has what it asked for', () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const verdict = checkBeforeRefresh(input);
        const { connection, onlyIfExpiringWithinMs: wanted } = input;
        if (verdict.kind !== 'send' || wanted === undefined || connection?.accessToken === null) return;
        expect(connection!.expiresAt).not.toBeNull();
        expect(connection!.expiresAt!.getTime() - input.now).toBeLessThanOrEqual(wanted);
      }),
      { numRuns: 2_000 },
    );
  });

  it('every skip is a decision whose reason matches the row and whose time follows from it', () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const verdict = checkBeforeRefresh(input);
        if (verdict.kind !== 'skip') return;
        const { decision } = verdict;
        const { connection } = input;
        switch (decision.kind) {
          case 'delay':
            expect(Number.isFinite(decision.runAt)).toBe(true);
            if (decision.why === 'not_due') {
              expect(input.force).toBe(false);
              expect(decision.runAt).toBe(connection!.refreshAt!.getTime());
              expect(decision.runAt).toBeGreaterThan(input.now + DUE_TOLERANCE_MS);
            } else {
              expect(decision.why).toBe('unknown_provider');
              expect(PROVIDERS.has(connection!.provider)).toBe(false);
              expect(decision.runAt).toBe(input.now + input.unknownProviderRetryMs);
            }
            break;
          case 'done':
            if (decision.why === 'not_found') expect(connection).toBeNull();
            else if (decision.why.startsWith('status_')) {
              expect(isLive(connection!.status)).toBe(false);
              expect(decision.why).toBe(`status_${connection!.status}`);
            } else {
              expect(isLive(connection!.status)).toBe(true);
              expect(['nothing_to_schedule', 'never_expires', 'fresh', 'no_refresh_token']).toContain(decision.why);
            }
            if (decision.why === 'fresh') expect(input.onlyIfExpiringWithinMs).toBeDefined();
            break;
          default:
            throw new Error(`the gate never decides ${JSON.stringify(decision)}`);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('forcing never stops a refresh that would have gone out anyway', () => {
    fc.assert(
      fc.property(scenario, (input) => {
        if (checkBeforeRefresh({ ...input, force: false }).kind === 'send') {
          expect(checkBeforeRefresh({ ...input, force: true }).kind).toBe('send');
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('is deterministic and leaves the row as it found it', () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const before = structuredClone(input.connection);
        const first = checkBeforeRefresh(input);
        expect(input.connection).toEqual(before);
        expect(checkBeforeRefresh({ ...input, connection: before })).toEqual(first);
      }),
      { numRuns: 500 },
    );
  });
});
