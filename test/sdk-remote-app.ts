// An app process that uses the remote SDK alone: started by test/sdk-remote.test.ts with EVERGREEN_API_URL and
// EVERGREEN_API_KEY and no DATABASE_URL, REDIS_URL or encryption keys. Prints one JSON line and exits.
import { createEvergreen } from '@evergreen/sdk';

const [connectionId, ownerId, provider] = process.argv.slice(2) as [string, string, string];
const evergreen = createEvergreen();
const byId = await evergreen.getValidAccessToken(connectionId, { minValiditySeconds: 60 });
const byPair = await evergreen.getValidAccessToken({ ownerId, provider });
const view = await evergreen.getConnection(connectionId);
await evergreen.close();
process.stdout.write(`${JSON.stringify({ byId, byPair, status: view.status })}\n`);
