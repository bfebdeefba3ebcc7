// A second OS process asking for a valid token, for the cross-process single-flight test. Configured by the
// environment; prints `{"token": ...}` or `{"error": code}` as one JSON line, then exits.
import { createEvergreen } from '@evergreen/sdk';

const [connectionId, minValiditySeconds] = process.argv.slice(2);
const evergreen = createEvergreen();
try {
  process.stdout.write('ready\n');
  // Start when the parent says so, so both processes ask at the same moment.
  await new Promise((resolve) => process.stdin.once('data', resolve));
  const token = await evergreen.getValidAccessToken(connectionId!, { minValiditySeconds: Number(minValiditySeconds) });
  process.stdout.write(`${JSON.stringify({ token })}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ error: (error as { code?: string }).code ?? String(error) })}\n`);
} finally {
  await evergreen.close();
}
