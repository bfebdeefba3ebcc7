// `pnpm audit:deps`: the lockfile's dependencies (production and development) against the registry's advisories,
// through `pnpm audit`. Prints one verdict line and exits 1 on any high or critical advisory. When the advisory
// service cannot be reached (no network, a registry or proxy without the audit endpoint), it prints one line saying
// it skipped the audit and why, and exits 0: a missing network must never fail CI. docs/dependencies.md is the policy.
// Extra arguments go to `pnpm audit` (`pnpm audit:deps --prod`).
import { spawnSync } from 'node:child_process';

const SEVERITIES = ['low', 'moderate', 'high', 'critical'] as const;
type Severity = (typeof SEVERITIES)[number];
const FAILING: readonly Severity[] = ['high', 'critical'];
/**
 * pnpm's codes for an advisory service it could not use: the network (Node's and undici's codes), or a registry or
 * proxy that answered the audit endpoints with an error (the public registry answers the legacy endpoints pnpm 10
 * calls with 405 from some networks).
 */
const UNAVAILABLE = new Set([
  'ERR_PNPM_AUDIT_BAD_RESPONSE',
  'ERR_PNPM_AUDIT_ENDPOINT_NOT_EXISTS',
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ERR_SOCKET_TIMEOUT',
]);
/** The whole run, retries included: past this, the service counts as unreachable. */
const TIMEOUT_MS = 90_000;

interface Advisory {
  module_name: string;
  severity: Severity;
  title: string;
  url?: string;
  vulnerable_versions?: string;
  findings?: { version: string; paths: string[] }[];
}

interface AuditReport {
  advisories: Record<string, Advisory>;
  metadata: {
    vulnerabilities: Record<Severity, number>;
    dependencies?: number;
    devDependencies?: number;
    totalDependencies?: number;
  };
}

type Verdict =
  | { kind: 'passed'; line: string }
  | { kind: 'failed'; line: string; details: string[] }
  | { kind: 'skipped'; line: string }
  | { kind: 'error'; line: string };

/**
 * What a `pnpm audit --json --audit-level high` run means. pnpm prints the report on stdout (its advisories filtered
 * to the level, its metadata counting every severity), or an error naming its code.
 */
function judgeAudit(run: { stdout: string; stderr: string; timedOut: boolean; registry: string }): Verdict {
  const where = `the advisory service of ${run.registry}`;
  if (run.timedOut) return { kind: 'skipped', line: `skipped: ${where} did not answer within ${TIMEOUT_MS / 1000} s` };
  const report = parseReport(run.stdout);
  if (report === null) {
    // `pnpm audit --json` prints `{"error":{"code","message"}}` when it has no report.
    const error = parseError(run.stdout) ?? { code: /ERR_PNPM_[A-Z_]+/.exec(run.stderr)?.[0], message: run.stderr };
    const reason = firstLine(`${error.code ?? 'no code'}: ${error.message}`);
    // Errors of the network or of the service itself: nothing to judge, and nothing wrong with the dependencies.
    const unavailable =
      UNAVAILABLE.has(error.code ?? '') || /fetch failed|socket hang up|network|proxy/i.test(error.message);
    if (unavailable) return { kind: 'skipped', line: `skipped: ${where} is unavailable (${reason})` };
    return { kind: 'error', line: `error: pnpm audit gave no report (${reason})` };
  }
  const counts = SEVERITIES.map((s) => `${report.metadata.vulnerabilities[s] ?? 0} ${s}`).join(', ');
  const total = report.metadata.totalDependencies ?? 0;
  const failing = Object.values(report.advisories).filter((a) => FAILING.includes(a.severity));
  if (failing.length === 0) {
    return { kind: 'passed', line: `passed: no high or critical advisory in ${total} dependencies (${counts})` };
  }
  const details = failing
    .sort((a, b) => SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity))
    .map((a) => {
      const path = a.findings?.[0]?.paths[0];
      return `  ${a.severity} ${a.module_name} ${a.vulnerable_versions ?? ''}: ${a.title}${a.url ? ` ${a.url}` : ''}${path ? ` (via ${path})` : ''}`;
    });
  return { kind: 'failed', line: `failed: ${failing.length} high or critical advisories (${counts})`, details };
}

function parseReport(stdout: string): AuditReport | null {
  try {
    const parsed = JSON.parse(stdout) as Partial<AuditReport>;
    return parsed && typeof parsed.advisories === 'object' && typeof parsed.metadata === 'object'
      ? (parsed as AuditReport)
      : null;
  } catch {
    return null;
  }
}

function parseError(stdout: string): { code?: string; message: string } | null {
  try {
    const parsed = JSON.parse(stdout) as { error?: { code?: unknown; message?: unknown } };
    const error = parsed?.error;
    if (typeof error !== 'object' || error === null) return null;
    return {
      code: typeof error.code === 'string' ? error.code : undefined,
      message: typeof error.message === 'string' ? error.message : '',
    };
  } catch {
    return null;
  }
}

function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? 'no output';
  return line.trim().slice(0, 240);
}

function registry(): string {
  const got = spawnSync('pnpm', ['config', 'get', 'registry'], { encoding: 'utf8', timeout: 30_000 });
  return got.stdout?.trim() || 'https://registry.npmjs.org/';
}

const run = spawnSync('pnpm', ['audit', '--json', '--audit-level', 'high', ...process.argv.slice(2)], {
  encoding: 'utf8',
  timeout: TIMEOUT_MS,
  maxBuffer: 64 * 1024 * 1024,
  // One retry, 20 s per request (pnpm audit takes these from the configuration only): an unreachable service is told
  // from a slow one well within TIMEOUT_MS.
  env: { ...process.env, npm_config_fetch_retries: '1', npm_config_fetch_timeout: '20000' },
});
const verdict = judgeAudit({
  stdout: run.stdout ?? '',
  stderr: run.stderr ?? '',
  timedOut: (run.error as { code?: string } | undefined)?.code === 'ETIMEDOUT',
  registry: registry(),
});
process.stdout.write(`audit:deps: ${verdict.line}\n`);
if (verdict.kind === 'failed') process.stdout.write(`${verdict.details.join('\n')}\n`);
process.exit({ passed: 0, skipped: 0, failed: 1, error: 2 }[verdict.kind]);
