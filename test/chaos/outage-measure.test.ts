import { describe, expect, it } from 'vitest';
import { concordance, measureOutage, type OutageInput, type SentRequest } from './outage-measure.ts';

const S = 1_000;
const ok = (grantId: string, at: number): SentRequest => ({ at, grantId, outcome: 'ok' });
const fault = (grantId: string, at: number): SentRequest => ({ at, grantId, outcome: 'fault' });

function input(over: Partial<OutageInput> = {}): OutageInput {
  return {
    downAt: 100 * S,
    upAt: 200 * S,
    bufferMs: 300 * S,
    refreshedWithinMs: 50 * S,
    endedAt: 1_000 * S,
    down: { grants: [], requests: [] },
    steady: { grants: [], requests: [] },
    ...over,
  };
}

describe('measureOutage', () => {
  it('counts what was sent while down, per minute', () => {
    const requests = [
      fault('a', 99 * S),
      fault('a', 100 * S),
      fault('a', 150 * S),
      fault('a', 199 * S),
      ok('a', 200 * S),
    ];
    const figures = measureOutage(input({ down: { grants: [{ grantId: 'a', expiresAt: 400 * S }], requests } }));
    expect(figures.sentWhileDown).toBe(3);
    expect(figures.sentPerMinuteWhileDown).toBe(1.8);
  });

  it('finds the backlog, how soon and in what order it was refreshed, and the tokens that lapsed after the recovery', () => {
    const grants = [
      { grantId: 'first', expiresAt: 210 * S }, // due at -90 s, refreshed in time
      { grantId: 'second', expiresAt: 230 * S }, // lapsed by 5 s
      { grantId: 'later', expiresAt: 900 * S }, // due long after the recovery: not backlog
      { grantId: 'gone', expiresAt: 150 * S }, // lapsed during the outage
      { grantId: 'before', expiresAt: 120 * S }, // refreshed before the outage
    ];
    const requests = [
      ok('before', 50 * S),
      fault('first', 120 * S),
      ok('first', 205 * S),
      ok('second', 235 * S),
      ok('gone', 201 * S),
      ok('later', 600 * S),
    ];
    const figures = measureOutage(input({ down: { grants, requests } }));
    expect(figures).toMatchObject({
      waitingAtRecovery: 2,
      refreshedWithin: 2,
      lastRefreshedAfterMs: 35 * S,
      expiredAfterRecovery: 1,
      maxLapseMs: 5 * S,
      expiredDuringOutage: 1,
      expiryOrderConcordance: 1,
    });
    expect(figures.perSecondAfterRecovery[1]).toBe(1); // 'gone' at +1 s
    expect(figures.perSecondAfterRecovery[5]).toBe(1);
  });

  it('judges a connection never refreshed by when its token expired: lapsed by the end, or not judged yet', () => {
    const grants = [
      { grantId: 'lapsed', expiresAt: 400 * S },
      { grantId: 'pending', expiresAt: 1_200 * S },
    ];
    const figures = measureOutage(input({ down: { grants, requests: [] } }));
    expect(figures).toMatchObject({ expiredAfterRecovery: 1, maxLapseMs: 600 * S, notRefreshedByEnd: 1 });
  });

  it('says whether the other provider kept its cadence', () => {
    const steady = {
      grants: [
        { grantId: 's1', expiresAt: 160 * S },
        { grantId: 's2', expiresAt: 140 * S },
      ],
      requests: [ok('s1', 150 * S), ok('s2', 141 * S)],
    };
    expect(measureOutage(input({ steady })).steady).toEqual({ refreshedWhileDown: 2, grants: 2, lapsed: 1 });
  });
});

describe('concordance', () => {
  it('is 1 in expiry order, 0 reversed, and ignores near ties', () => {
    const inOrder = [1, 2, 3, 4].map((i) => ({ expiresAt: i * 10 * S, refreshedAt: i * S }));
    expect(concordance(inOrder)).toBe(1);
    expect(concordance(inOrder.map((x) => ({ ...x, refreshedAt: -x.refreshedAt })))).toBe(0);
    expect(
      concordance([
        { expiresAt: 0, refreshedAt: 5 },
        { expiresAt: 500, refreshedAt: 1 },
      ]),
    ).toBe(1);
  });
});
