import { describe, expect, it } from 'vitest';
import { eventsForOutcome, FAILURE_STREAK, type OutcomeEventInput } from '../src/connection-event.ts';

const connection = { id: 'c1', ownerId: 'o1', provider: 'acme', status: 'connected' as const, consecutiveFailures: 0 };
const kinds = (input: Partial<OutcomeEventInput>) =>
  eventsForOutcome({ connection, outcome: 'success', reason: null, status: 'connected', ...input }).map((e) => e.kind);

describe('eventsForOutcome', () => {
  it('announces every success, and a refresh token about to lapse', () => {
    expect(kinds({})).toEqual(['connection.refreshed']);
    expect(kinds({ warnRefreshTokenExpiry: true })).toEqual([
      'connection.refreshed',
      'connection.refresh_token_expiring',
    ]);
  });

  it('announces a transient streak once, when it reaches FAILURE_STREAK', () => {
    const at = (failuresBefore: number) =>
      kinds({
        outcome: 'transient',
        reason: 'server_error',
        connection: { ...connection, consecutiveFailures: failuresBefore },
      });
    expect(at(FAILURE_STREAK - 2)).toEqual([]);
    expect(at(FAILURE_STREAK - 1)).toEqual(['connection.refresh_failed']);
    expect(at(FAILURE_STREAK)).toEqual([]);
  });

  it('announces every change of status, and only changes', () => {
    expect(kinds({ outcome: 'transient', reason: 'timeout', status: 'token_expired' })).toEqual([
      'connection.token_expired',
    ]);
    expect(
      kinds({
        outcome: 'transient',
        reason: 'timeout',
        status: 'token_expired',
        connection: { ...connection, status: 'token_expired' },
      }),
    ).toEqual([]);
    expect(kinds({ outcome: 'reauth', reason: 'invalid_grant', status: 'needs_reauth' })).toEqual([
      'connection.needs_reauth',
    ]);
    expect(kinds({ outcome: 'fatal', reason: 'invalid_client', status: 'error' })).toEqual(['connection.error']);
    expect(kinds({ outcome: 'rate_limited', reason: 'rate_limited' })).toEqual([]);
  });

  it('carries identifiers, status, reason and times: nothing secret', () => {
    const [event] = eventsForOutcome({
      connection,
      outcome: 'reauth',
      reason: 'invalid_grant',
      status: 'needs_reauth',
      expiresAt: Date.UTC(2030, 0, 1),
    });
    expect(event!.payload).toEqual({
      connectionId: 'c1',
      ownerId: 'o1',
      provider: 'acme',
      status: 'needs_reauth',
      reason: 'invalid_grant',
      expiresAt: '2030-01-01T00:00:00.000Z',
      consecutiveFailures: 1,
    });
  });
});
