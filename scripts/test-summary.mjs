// Reads vitest's JSON report and prints the one line CI reads: `tests: N passed, M failed`.
// A missing report, a failed typecheck or a non-zero vitest exit all count as failures, so nothing passes silently.
import { existsSync, readFileSync } from 'node:fs';

const [file, typecheckStatus, vitestStatus] = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(file)) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed = report.numPassedTests ?? 0;
  failed = report.numFailedTests ?? 0;
  skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A file that failed to load has no tests to count, but it is a failure.
  for (const suite of report.testResults ?? []) {
    if (suite.status === 'failed' && (suite.assertionResults ?? []).every((a) => a.status !== 'failed')) failed += 1;
  }
} else {
  console.error(`no vitest report at ${file}`);
  failed += 1;
}
if (typecheckStatus !== '0') failed += 1;
if (vitestStatus !== '0' && failed === 0) failed += 1;
if (passed === 0 && failed === 0) failed += 1; // a run that executed no test is not a pass
console.log(`tests: ${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
