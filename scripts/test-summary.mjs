// Reads vitest's JSON reports and prints the one line CI reads: `tests: N passed, M failed`.
// Usage: test-summary.mjs <typecheck status> <report.json>:<vitest status> [<report.json>:<vitest status> ...]
// A missing report, a failed typecheck or a non-zero vitest exit all count as failures, so nothing passes silently.
import { existsSync, readFileSync } from 'node:fs';

const [typecheckStatus, ...runs] = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
for (const run of runs) {
  const at = run.lastIndexOf(':');
  const file = run.slice(0, at);
  const vitestStatus = run.slice(at + 1);
  let runFailed = 0;
  if (existsSync(file)) {
    const report = JSON.parse(readFileSync(file, 'utf8'));
    passed += report.numPassedTests ?? 0;
    runFailed += report.numFailedTests ?? 0;
    skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    // A file that failed to load has no tests to count, but it is a failure.
    for (const suite of report.testResults ?? []) {
      if (suite.status === 'failed' && (suite.assertionResults ?? []).every((a) => a.status !== 'failed'))
        runFailed += 1;
    }
  } else {
    console.error(`no vitest report at ${file}`);
    runFailed += 1;
  }
  if (vitestStatus !== '0' && runFailed === 0) runFailed += 1;
  failed += runFailed;
}
if (typecheckStatus !== '0') failed += 1;
if (passed === 0 && failed === 0) failed += 1; // a run that executed no test is not a pass
console.log(`tests: ${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
