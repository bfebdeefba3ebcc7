import type { Fault } from '@evergreen/fake-provider';

/**
 * What the chaos run will do and when, decided up front from a seed: the same seed and sizes give the same plan,
 * so a failing run can be replayed. Pure: the runner executes the plan, this only writes it.
 */
export type ChaosAction =
  | { at: number; kind: 'kill-worker' }
  | { at: number; kind: 'term-worker' }
  | { at: number; kind: 'redis-crash'; downMs: number }
  | { at: number; kind: 'redis-flushall' }
  | { at: number; kind: 'pg-cut' }
  | { at: number; kind: 'pg-crash'; downMs: number }
  | { at: number; kind: 'provider-fault'; provider: string; fault: Fault; label: string; durationMs: number }
  | { at: number; kind: 'revoke'; count: number };

export interface PlanInput {
  seed: number;
  durationMs: number;
  providers: readonly { id: string; limited: boolean }[];
  /** Connections to revoke on purpose over the run (the control group). */
  revocations: number;
}

/** mulberry32: a tiny seeded generator, plenty for choosing moments. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const PROVIDER_FAULTS: readonly { label: string; fault: Fault; limitedOnly?: boolean }[] = [
  { label: 'slow (2 s answers)', fault: { kind: 'delay', ms: 2_000 } },
  // Answered after the client's deadline, but the rotation happened: the lost-answer half of the crash window.
  { label: 'timeout after processing', fault: { kind: 'delay', ms: 6_000 } },
  { label: 'timeout without an answer', fault: { kind: 'hang' } },
  { label: '5xx burst', fault: { kind: 'status', status: 503 } },
  { label: 'HTML error pages', fault: { kind: 'html' } },
  { label: 'truncated JSON', fault: { kind: 'truncated-json' } },
  { label: 'connection resets', fault: { kind: 'reset' } },
  {
    label: '429 storm (Retry-After 3)',
    fault: { kind: 'status', status: 429, headers: { 'retry-after': '3' }, body: '{"error":"rate_limited"}' },
    limitedOnly: true,
  },
];

export function planChaos(input: PlanInput): ChaosAction[] {
  const random = seededRandom(input.seed);
  const between = (min: number, max: number) => Math.round(min + random() * (max - min));
  const actions: ChaosAction[] = [];
  const end = input.durationMs;
  // Nothing in the first seconds: the first refreshes should be under way before anything breaks.
  const start = Math.min(5_000, end / 10);

  for (let at = start + between(0, 6_000); at < end; at += between(7_000, 15_000))
    actions.push({ at, kind: 'kill-worker' });
  for (let at = start + between(20_000, 40_000); at < end; at += between(45_000, 75_000))
    actions.push({ at, kind: 'term-worker' });
  for (let at = start + between(3_000, 10_000); at < end; at += between(20_000, 40_000))
    actions.push({ at, kind: 'pg-cut' });
  // Server restarts are rarer and kept apart so the system is seen recovering from each.
  const restarts = Math.max(1, Math.floor(end / 150_000));
  for (let i = 0; i < restarts; i++) {
    const slot = (end - start) / restarts;
    actions.push({
      at: start + i * slot + between(slot * 0.1, slot * 0.4),
      kind: 'redis-crash',
      downMs: between(1_000, 3_000),
    });
    actions.push({
      at: start + i * slot + between(slot * 0.55, slot * 0.85),
      kind: 'pg-crash',
      downMs: between(1_000, 4_000),
    });
  }
  actions.push({ at: Math.round(start + (end - start) * 0.6), kind: 'redis-flushall' });

  const faults = PROVIDER_FAULTS;
  let nextFault = 0;
  for (let at = start + between(0, 4_000); at < end; at += between(6_000, 12_000)) {
    const choice = faults[nextFault % faults.length]!;
    nextFault += 1;
    const candidates = input.providers.filter((p) => (choice.limitedOnly ? p.limited : true));
    if (candidates.length === 0) continue;
    const provider = candidates[Math.floor(random() * candidates.length)]!;
    actions.push({
      at,
      kind: 'provider-fault',
      provider: provider.id,
      fault: choice.fault,
      label: choice.label,
      durationMs: between(3_000, 8_000),
    });
  }

  const revokeRounds = Math.min(input.revocations, 4);
  for (let i = 0; i < revokeRounds; i++) {
    const count = Math.floor(input.revocations / revokeRounds) + (i < input.revocations % revokeRounds ? 1 : 0);
    actions.push({ at: between(start, end * 0.8), kind: 'revoke', count });
  }
  return actions.sort((a, b) => a.at - b.at);
}
