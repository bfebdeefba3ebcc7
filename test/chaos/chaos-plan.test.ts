import { describe, expect, it } from 'vitest';
import { planChaos } from './chaos-plan.ts';

const providers = [
  { id: 'a', limited: false },
  { id: 'b', limited: true },
];

describe('the chaos plan', () => {
  it('is the same for the same seed, and different for another', () => {
    const one = planChaos({ seed: 42, durationMs: 120_000, providers, revocations: 10 });
    expect(planChaos({ seed: 42, durationMs: 120_000, providers, revocations: 10 })).toEqual(one);
    expect(planChaos({ seed: 43, durationMs: 120_000, providers, revocations: 10 })).not.toEqual(one);
  });

  it('breaks every part at least once inside the run, in order, and revokes exactly the control group', () => {
    const plan = planChaos({ seed: 1, durationMs: 100_000, providers, revocations: 10 });
    const kinds = new Set(plan.map((a) => a.kind));
    for (const kind of ['kill-worker', 'term-worker', 'redis-crash', 'redis-flushall', 'pg-cut', 'pg-crash']) {
      expect(kinds).toContain(kind);
    }
    expect(plan.every((a) => a.at >= 0 && a.at < 100_000)).toBe(true);
    expect(plan.map((a) => a.at)).toEqual([...plan.map((a) => a.at)].sort((x, y) => x - y));
    expect(plan.filter((a) => a.kind === 'revoke').reduce((n, a) => n + (a.kind === 'revoke' ? a.count : 0), 0)).toBe(
      10,
    );
    expect(plan.filter((a) => a.kind === 'redis-flushall')).toHaveLength(1);
  });

  it('sends 429 storms only to a provider that declares a rate limit', () => {
    const plan = planChaos({ seed: 5, durationMs: 600_000, providers, revocations: 4 });
    const storms = plan.filter((a) => a.kind === 'provider-fault' && a.label.startsWith('429'));
    expect(storms.length).toBeGreaterThan(0);
    expect(storms.every((a) => a.kind === 'provider-fault' && a.provider === 'b')).toBe(true);
  });
});
