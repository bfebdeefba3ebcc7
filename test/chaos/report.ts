import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { ChaosAction } from './chaos-plan.ts';
import type { EndState } from './chaos-support.ts';
import type { SecretScanner } from './secret-scan.ts';
import type { Percentiles, Verdict } from './verdict.ts';

export interface ReportInput {
  runDir: string;
  options: {
    durationMs: number;
    connections: number;
    workers: number;
    concurrency: number;
    seed: number;
    strictProvider: boolean;
  };
  startedAt: Date;
  finishedAt: Date;
  chaosMs: number;
  verdict: Verdict;
  counters: Record<string, number>;
  timeline: { at: number; what: string }[];
  plan: ChaosAction[];
  providers: {
    id: string;
    lifetimeMs: number;
    rateLimit: { max: number; durationMs: number } | null;
    strict: boolean;
    requests: number;
    graceReplays: number;
    faultAnswers: number;
  }[];
  scan: SecretScanner;
  endState: EndState;
  settled: boolean;
  store: { attempts: Record<string, number> };
  /** The workers' own measure: answer received → commit acknowledged. */
  answerToCommitMs: Percentiles | null;
  /** How long each provider breaker that closed had been open (workers' logs). */
  breakerOutagesMs: number[];
  sampler: { samples: number; failedSamples: number };
  processes: { name: string; killedOnPurpose: boolean; crashed: boolean; drainFailed: boolean }[];
}

/** Writes report.json (everything) and report.md (for people); returns the markdown's path. */
export function writeReport(input: ReportInput): string {
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
  const json = {
    ok: input.verdict.ok,
    machine,
    options: input.options,
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    chaosMs: input.chaosMs,
    settled: input.settled,
    verdict: input.verdict,
    counters: input.counters,
    providers: input.providers,
    store: input.store,
    answerToCommitMs: input.answerToCommitMs,
    breakerOutagesMs: input.breakerOutagesMs,
    sampler: input.sampler,
    endState: input.endState,
    secretScan: { hits: input.scan.hits, scannedCharacters: Object.fromEntries(input.scan.scanned) },
    processes: input.processes,
    timeline: input.timeline.map((t) => ({ at: new Date(t.at).toISOString(), what: t.what })),
    plan: input.plan,
  };
  writeFileSync(join(input.runDir, 'report.json'), JSON.stringify(json, null, 2));

  const v = input.verdict;
  const lines = [
    `# Chaos run ${input.startedAt.toISOString()}: ${v.ok ? 'PASSED' : 'FAILED'}`,
    '',
    `${input.options.connections} connections, ${input.options.workers} workers (concurrency ${input.options.concurrency}), ` +
      `${Math.round(input.chaosMs / 1000)} s of chaos, seed ${input.options.seed}. ` +
      `Machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}.`,
    '',
    '| Must be 0 | Count |',
    '| --- | ---: |',
    ...Object.entries(v.counts).map(([k, n]) => `| ${k} | ${n} |`),
    '',
    '| Measured | Value |',
    '| --- | ---: |',
    `| refreshes committed (connections refreshed at least once) | ${v.refreshesCommitted} (${v.connectionsRefreshed}) |`,
    `| most requests for one grant within one token lifetime | ${v.maxRequestsPerGrantPerLifetime} |`,
    `| most requests for one grant within half a retry cooldown (${v.maxRequestsPerGrantPerStormSpan.spanMs} ms; a storm above ${v.maxRequestsPerGrantPerStormSpan.limit}) | ${v.maxRequestsPerGrantPerStormSpan.requests} |`,
    ...v.maxRateWindow.map(
      (w) =>
        `| ${w.provider}: most requests in any ${w.countedOverMs} ms (declared max ${w.max} per ${w.durationMs} ms; ${w.rawMax} counting bunched arrivals) | ${w.requests} |`,
    ),
    ...(v.rotationToCommitMs
      ? [
          `| provider rotation → our commit (crash window), p50 / p99 / max ms | ${v.rotationToCommitMs.p50} / ${v.rotationToCommitMs.p99} / ${v.rotationToCommitMs.max} |`,
        ]
      : []),
    ...(input.answerToCommitMs
      ? [
          `| answer received → commit acknowledged (workers' logs), p50 / p99 / max ms | ${input.answerToCommitMs.p50} / ${input.answerToCommitMs.p99} / ${input.answerToCommitMs.max} |`,
        ]
      : []),
    `| provider breakers opened and closed again / longest open ms | ${input.breakerOutagesMs.length} / ${Math.max(0, ...input.breakerOutagesMs)} |`,
    `| strict-provider grants lost to the crash window (not gating) | ${v.strictGrantsRevokedByReuse} |`,
    `| stored tokens checked at the end / not accepted by their provider | ${input.endState.checked} / ${input.endState.stale} |`,
    ...Object.entries(input.counters).map(([k, n]) => `| ${k} | ${n} |`),
    '',
    '| Provider | Lifetime | Requests | Answered with a fault | Replays in the grace period |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...input.providers.map(
      (p) =>
        `| ${p.id}${p.strict ? ' (strict)' : ''}${p.rateLimit ? ` (max ${p.rateLimit.max}/${p.rateLimit.durationMs} ms)` : ''} | ${p.lifetimeMs / 1000} s | ${p.requests} | ${p.faultAnswers} | ${p.graceReplays} |`,
    ),
    '',
    'Audit outcomes: ' +
      Object.entries(input.store.attempts)
        .map(([k, n]) => `${k} ${n}`)
        .join(', '),
    '',
    ...(Object.keys(v.examples).length > 0
      ? [
          '## Examples of what failed',
          '',
          ...Object.entries(v.examples).map(([k, list]) => `- ${k}: ${list.join('; ')}`),
          '',
        ]
      : []),
    '## Timeline',
    '',
    ...input.timeline.map((t) => `- ${((t.at - input.startedAt.getTime()) / 1000).toFixed(1)} s: ${t.what}`),
    '',
  ];
  const file = join(input.runDir, 'report.md');
  writeFileSync(file, lines.join('\n'));
  return file;
}
