import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@evergreen/test-support/processes';

/** CI reads only the line this script prints: every way a run can fail must show in it. */
function summarise(args: string[]): { line: string; status: number } {
  try {
    const out = execFileSync('node', [join(REPO_ROOT, 'scripts/test-summary.mjs'), ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return { line: out.trim(), status: 0 };
  } catch (error) {
    const e = error as { stdout: string; status: number };
    return { line: e.stdout.trim(), status: e.status };
  }
}

describe('scripts/test-summary.mjs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'evg-summary-'));
  const report = (name: string, body: object) => {
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify(body));
    return file;
  };
  const green = report('green.json', { numPassedTests: 10, numFailedTests: 0, numPendingTests: 1, testResults: [] });
  const chaos = report('chaos.json', { numPassedTests: 1, numFailedTests: 0, testResults: [] });
  const red = report('red.json', { numPassedTests: 3, numFailedTests: 2, testResults: [] });
  const unloadable = report('unloadable.json', {
    numPassedTests: 4,
    numFailedTests: 0,
    testResults: [{ status: 'failed', assertionResults: [] }],
  });

  it('adds up every run it is given', () => {
    expect(summarise(['0', `${green}:0`, `${chaos}:0`])).toEqual({
      line: 'tests: 11 passed, 0 failed, 1 skipped',
      status: 0,
    });
  });

  it('fails on failed tests, a file that did not load, a missing report, a failed typecheck or a bare non-zero exit', () => {
    expect(summarise(['0', `${green}:0`, `${red}:1`])).toEqual({
      line: 'tests: 13 passed, 2 failed, 1 skipped',
      status: 1,
    });
    expect(summarise(['0', `${unloadable}:1`])).toEqual({ line: 'tests: 4 passed, 1 failed', status: 1 });
    expect(summarise(['0', `${green}:0`, `${join(dir, 'absent.json')}:1`]).status).toBe(1);
    expect(summarise(['1', `${green}:0`]).line).toBe('tests: 10 passed, 1 failed, 1 skipped');
    expect(summarise(['0', `${chaos}:1`])).toEqual({ line: 'tests: 1 passed, 1 failed', status: 1 });
  });

  it('does not pass a run that ran no test', () => {
    const empty = report('empty.json', { numPassedTests: 0, numFailedTests: 0, testResults: [] });
    expect(summarise(['0', `${empty}:0`]).status).toBe(1);
  });
});
