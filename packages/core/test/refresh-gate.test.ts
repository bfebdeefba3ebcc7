import { describe, expect, it } from 'vitest';
import type { ProviderDefinition } from '../src/provider-definition.ts';
import { resolveProviderEntries } from '../src/provider-entry.ts';
import { checkBeforeRefresh, DUE_TOLERANCE_MS, type GateRow, type RefreshGateInput } from '../src/refresh-gate.ts';

const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);
const MIN = 60_000;
const COOLDOWN = 5 * MIN;

function provider(id: string, grant: ProviderDefinition['grant']): ProviderDefinition {
  const { providers, issues } = resolveProviderEntries(
    [],
    [{ id, tokenUrl: `https://${id}.example/token`, clientId: 'client', clientSecret: 'secret', grant }],
  );
  expect(issues).toEqual([]);
  return providers[0]!;
}

const PROVIDERS = new Map(
  [
    provider('acme', 'refresh_token'),
    provider('pat', 'none'),
    provider('machine', 'client_credentials'),
    provider('login', 'password'),
  ].map((p) => [p.id, p]),
);

const due: GateRow = {
  provider: 'acme',
  status: 'connected',
  accessToken: 'at',
  refreshToken: 'rt',
  expiresAt: new Date(NOW + 4 * MIN),
  refreshAt: new Date(NOW),
};

function gate(row: Partial<GateRow> | null, options: Partial<RefreshGateInput<GateRow>> = {}) {
  return checkBeforeRefresh({
    connection: row === null ? null : { ...due, ...row },
    providers: PROVIDERS,
    now: NOW,
    force: false,
    unknownProviderRetryMs: COOLDOWN,
    ...options,
  });
}

describe('checkBeforeRefresh', () => {
  it('sends for a live, due row of a known provider, handing back that row and provider', () => {
    const row = { ...due };
    const verdict = checkBeforeRefresh({
      connection: row,
      providers: PROVIDERS,
      now: NOW,
      force: false,
      unknownProviderRetryMs: COOLDOWN,
    });
    expect(verdict).toEqual({ kind: 'send', connection: row, provider: PROVIDERS.get('acme') });
    if (verdict.kind === 'send') expect(verdict.connection).toBe(row);
  });

  it.each([
    ['a missing row', null, {}, { kind: 'done', why: 'not_found' }],
    ['a row that needs a person', { status: 'needs_reauth' }, {}, { kind: 'done', why: 'status_needs_reauth' }],
    ['a row in error', { status: 'error' }, { force: true }, { kind: 'done', why: 'status_error' }],
    ['a disconnected row', { status: 'disconnected' }, {}, { kind: 'done', why: 'status_disconnected' }],
    ['a row with no next refresh', { refreshAt: null }, {}, { kind: 'done', why: 'nothing_to_schedule' }],
    ['a provider whose tokens never expire', { provider: 'pat' }, {}, { kind: 'done', why: 'never_expires' }],
    ['a refresh-token grant without one', { refreshToken: null }, {}, { kind: 'done', why: 'no_refresh_token' }],
  ] as const)('ends the job for %s', (_name, row, options, decision) => {
    expect(gate(row, options)).toEqual({ kind: 'skip', decision });
  });

  it('follows a row another path moved on: the job moves to its refresh_at', () => {
    const later = NOW + 10 * MIN;
    expect(gate({ refreshAt: new Date(later) })).toEqual({
      kind: 'skip',
      decision: { kind: 'delay', runAt: later, why: 'not_due' },
    });
  });

  it('counts a job that wakes up to DUE_TOLERANCE_MS early as due, and one a millisecond earlier as not', () => {
    expect(gate({ refreshAt: new Date(NOW + DUE_TOLERANCE_MS) }).kind).toBe('send');
    expect(gate({ refreshAt: new Date(NOW + DUE_TOLERANCE_MS + 1) })).toMatchObject({
      decision: { why: 'not_due' },
    });
  });

  it('a forced refresh is due whatever the row says, and needs no next refresh', () => {
    expect(gate({ refreshAt: new Date(NOW + 10 * MIN) }, { force: true }).kind).toBe('send');
    expect(gate({ refreshAt: null }, { force: true }).kind).toBe('send');
  });

  it('looks again after the cooldown when the row names a provider this process does not know', () => {
    expect(gate({ provider: 'gone' })).toEqual({
      kind: 'skip',
      decision: { kind: 'delay', runAt: NOW + COOLDOWN, why: 'unknown_provider' },
    });
  });

  it('credential grants need no refresh token', () => {
    expect(gate({ provider: 'machine', refreshToken: null }).kind).toBe('send');
    expect(gate({ provider: 'login', refreshToken: null }).kind).toBe('send');
  });

  describe('an on-demand caller', () => {
    const onDemand = { force: true, onlyIfExpiringWithinMs: 5 * MIN };

    it('gets "fresh" when the stored token has more than it asked for left', () => {
      expect(gate({ expiresAt: new Date(NOW + 5 * MIN + 1) }, onDemand)).toEqual({
        kind: 'skip',
        decision: { kind: 'done', why: 'fresh' },
      });
    });

    it('refreshes when exactly what it asked for, or less, is left', () => {
      expect(gate({ expiresAt: new Date(NOW + 5 * MIN) }, onDemand).kind).toBe('send');
      expect(gate({ expiresAt: new Date(NOW - MIN) }, onDemand).kind).toBe('send');
    });

    it('finds a token that never expires fresh, and refreshes a row that has no access token', () => {
      expect(gate({ expiresAt: null }, onDemand)).toMatchObject({ decision: { why: 'fresh' } });
      expect(gate({ accessToken: null, expiresAt: null }, onDemand).kind).toBe('send');
    });

    it('a fresh token wins over a missing refresh token: the caller has what it needs', () => {
      expect(gate({ refreshToken: null, expiresAt: new Date(NOW + 10 * MIN) }, onDemand)).toMatchObject({
        decision: { why: 'fresh' },
      });
    });
  });

  describe('the order of the checks', () => {
    it('a row that is not live ends the job even when its provider is unknown or it is not due', () => {
      expect(gate({ status: 'needs_reauth', provider: 'gone', refreshAt: new Date(NOW + 10 * MIN) })).toMatchObject({
        decision: { why: 'status_needs_reauth' },
      });
    });

    it('a row that is not due is followed before its provider is looked up', () => {
      expect(gate({ provider: 'gone', refreshAt: new Date(NOW + 10 * MIN) })).toMatchObject({
        decision: { why: 'not_due' },
      });
    });

    it('an unknown provider is reported before a missing refresh token', () => {
      expect(gate({ provider: 'gone', refreshToken: null })).toMatchObject({ decision: { why: 'unknown_provider' } });
    });
  });
});
