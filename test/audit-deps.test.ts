import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@evergreen/test-support/free-port';
import { REPO_ROOT } from '@evergreen/test-support/processes';

/**
 * `pnpm audit:deps` (scripts/audit-deps.ts) against a registry of this test's on 127.0.0.1, answering the audit
 * endpoints pnpm calls with the report each case needs; and against a port nothing listens on.
 */
type Answer = { status: number; body: unknown };

const report = (advisories: Record<string, unknown>, vulnerabilities: Record<string, number>) => ({
  actions: [],
  advisories,
  muted: [],
  metadata: {
    vulnerabilities: { info: 0, low: 0, moderate: 0, high: 0, critical: 0, ...vulnerabilities },
    dependencies: 100,
    devDependencies: 50,
    optionalDependencies: 0,
    totalDependencies: 150,
  },
});

const advisory = (id: number, module: string, severity: string) => ({
  id,
  module_name: module,
  severity,
  title: `${module} does something bad`,
  url: `https://github.com/advisories/GHSA-${id}`,
  vulnerable_versions: '<9.9.9',
  patched_versions: '>=9.9.9',
  cves: [],
  github_advisory_id: `GHSA-${id}`,
  findings: [{ version: '1.0.0', paths: [`${module}`] }],
});

function auditDeps(registry: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('pnpm', ['audit:deps'], {
      cwd: REPO_ROOT,
      // Only the registry changes: the rest is the user's pnpm configuration.
      env: { ...process.env, npm_config_registry: registry },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('pnpm audit:deps', () => {
  let server: Server;
  let registry: string;
  let answer: Answer = { status: 200, body: report({}, {}) };
  const requests: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => {
        if (!req.url?.includes('/-/npm/v1/security/audits')) {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    registry = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it(
    'fails on a high or critical advisory, naming the package, severity and advisory',
    { timeout: 120_000 },
    async () => {
      answer = {
        status: 200,
        body: report(
          { 1: advisory(1, 'left-pad', 'critical'), 2: advisory(2, 'right-pad', 'high') },
          { critical: 1, high: 1, low: 3 },
        ),
      };
      const run = await auditDeps(registry);
      expect(run.code, run.output).toBe(1);
      expect(run.output).toMatch(
        /^audit:deps: failed: 2 high or critical advisories \(3 low, 0 moderate, 1 high, 1 critical\)$/m,
      );
      expect(run.output).toMatch(
        /critical left-pad <9\.9\.9: left-pad does something bad https:\/\/github\.com\/advisories\/GHSA-1/,
      );
      expect(run.output).toMatch(/high right-pad/);
      expect(requests.some((r) => r.startsWith('POST /-/npm/v1/security/audits'))).toBe(true);
    },
  );

  it('passes with only low and moderate advisories, counting them', { timeout: 120_000 }, async () => {
    answer = { status: 200, body: report({}, { low: 2, moderate: 1 }) };
    const run = await auditDeps(registry);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(
      /^audit:deps: passed: no high or critical advisory in 150 dependencies \(2 low, 1 moderate, 0 high, 0 critical\)$/m,
    );
  });

  it('skips, visibly and with exit 0, when the registry has no audit endpoint', { timeout: 120_000 }, async () => {
    answer = { status: 404, body: { error: 'not found' } };
    const run = await auditDeps(registry);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(
      /^audit:deps: skipped: the advisory service of http:\/\/127\.0\.0\.1:\d+\/ is unavailable \(ERR_PNPM_AUDIT_\w+: .+\)$/m,
    );
  });

  it('skips, visibly and with exit 0, when nothing answers at all', { timeout: 120_000 }, async () => {
    const run = await auditDeps(`http://127.0.0.1:${await freePort()}/`);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(
      /^audit:deps: skipped: the advisory service of .* is unavailable \(ECONNREFUSED: .+\)$/m,
    );
  });
});
