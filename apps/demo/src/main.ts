// `pnpm demo`: the whole system in one command against the local Postgres and Redis, with something to watch. Two demo
// providers (@evergreen/fake-provider, real OAuth token endpoints on 127.0.0.1) are registered through a generated
// providers file, worker, scheduler and board run in this process (as `pnpm start` runs them), and eight connections
// with 30–60 s access tokens are enqueued, one of them with a grant the provider has revoked. Their refreshes land
// within a minute, in Bull Board, on the token-health page and as one line each here.
//
// The demo keeps to its own schema and Redis prefix (`evergreen_demo`, `evergreen-demo`; both are wiped at start) and
// its own ports (board 3001, ops port picked by the OS), with a fresh encryption key and admin token per run, so it never
// touches what `pnpm start` stores. Options: --port N (0: any free port), --host H, --schema S, --prefix P (both must
// contain "demo": they are dropped), --log-level L.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDotEnv, startAndDrainOnSignals } from '@evergreen/runtime';
import { banner, eventLine } from './banner.ts';
import { DEMO_USAGE, DemoUsageError, parseDemoOptions, type DemoOptions } from './demo-options.ts';
import { startDemo } from './start-demo.ts';

const options = readOptions();
loadDotEnv();
const adminToken = randomBytes(18).toString('base64url');
const dir = mkdtempSync(join(tmpdir(), 'evergreen-demo-'));

const demo = await startAndDrainOnSignals(
  () => startDemo(options, adminToken, dir, (event) => process.stdout.write(eventLine(event))),
  (started) => started.stack.log,
);
process.stdout.write(
  banner({
    options,
    boardPort: new URL(demo.stack.board!.address).port,
    opsPort: demo.stack.opsPort,
    adminToken,
  }),
);

function readOptions(): DemoOptions {
  try {
    return parseDemoOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof DemoUsageError)) throw error;
    process.stderr.write(`${error.message}\n${DEMO_USAGE}\n`);
    process.exit(2);
  }
}
