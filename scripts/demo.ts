// `pnpm demo`: the whole system in one command against the local Postgres and Redis, with something to watch. Two demo
// providers (packages/fake-provider, real OAuth token endpoints on 127.0.0.1) are registered through a generated
// providers file, worker, scheduler and board run in this process (as `pnpm start` runs them), and eight connections
// with 30–60 s access tokens are enqueued, one of them with a grant the provider has revoked. Their refreshes land
// within a minute, in Bull Board, on the token-health page and as one line each here.
//
// The demo keeps to its own schema and Redis prefix (`evergreen_demo`, `evergreen-demo`; both are wiped at start) and
// its own ports (board 3001, ops port picked by the OS), with a fresh encryption key and admin token per run, so it never
// touches what `pnpm start` stores. Options: --port N (0: any free port), --host H, --schema S, --prefix P (both must
// contain "demo": they are dropped), --log-level L.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadDatabaseConfig } from '@evergreen/config';
import { FakeProvider } from '@evergreen/fake-provider';
import { Keyring } from '@evergreen/keyring';
import { createRedis } from '@evergreen/queue';
import { ALL_ROLES, loadDotEnv, startAndDrainOnSignals, startRoles } from '@evergreen/runtime';
import { createEvergreen, type ConnectionEvent } from '@evergreen/sdk';
import { dropSchema } from '@evergreen/store';

const USER = 'demo';

/** The demo's providers: each one a fake token endpoint with its own client and token lifetime. */
const PROVIDERS = [
  { id: 'acme', clientAuth: 'client_secret_basic', lifetimeSeconds: 45, rotation: 'always' },
  { id: 'globex', clientAuth: 'client_secret_post', lifetimeSeconds: 60, rotation: 'never' },
] as const;

/** Eight connections, 30–60 s tokens; `revoked` has a grant the provider no longer honours (→ needs_reauth). */
const CONNECTIONS = [
  { provider: 'acme', owner: 'ada', expiresIn: 30 },
  { provider: 'acme', owner: 'grace', expiresIn: 35 },
  { provider: 'acme', owner: 'alan', expiresIn: 40 },
  { provider: 'acme', owner: 'edsger', expiresIn: 45 },
  { provider: 'globex', owner: 'barbara', expiresIn: 50 },
  { provider: 'globex', owner: 'donald', expiresIn: 55 },
  { provider: 'globex', owner: 'margaret', expiresIn: 60 },
  { provider: 'globex', owner: 'ken', expiresIn: 40, revoked: true },
] as const;

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '3001' },
    host: { type: 'string', default: '127.0.0.1' },
    schema: { type: 'string', default: 'evergreen_demo' },
    prefix: { type: 'string', default: 'evergreen-demo' },
    'log-level': { type: 'string', default: 'warn' },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) usage(`--port: must be a port number, 0-65535`);
// The demo wipes its schema and prefix at start: refuse names that could be someone's real data.
if (!/^[a-z_][a-z0-9_]*$/.test(values.schema) || !values.schema.includes('demo'))
  usage('--schema: must be a lower-case SQL identifier and contain "demo" (it is dropped at start)');
if (!/^[A-Za-z0-9_-]+$/.test(values.prefix) || !values.prefix.includes('demo'))
  usage('--prefix: must be letters, digits, "_" or "-" and contain "demo" (its keys are deleted at start)');

loadDotEnv();
const adminToken = randomBytes(18).toString('base64url');
const dir = mkdtempSync(join(tmpdir(), 'evergreen-demo-'));

const demo = await startAndDrainOnSignals(startDemo, (started) => started.stack.log);

async function startDemo() {
  const { databaseUrl } = loadDatabaseConfig();
  const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  await resetDemoData(databaseUrl, redisUrl, values.schema, values.prefix);

  const fakes = new Map<string, FakeProvider>();
  const secrets = new Map(PROVIDERS.map((p) => [p.id, randomBytes(12).toString('base64url')]));
  for (const p of PROVIDERS) {
    fakes.set(
      p.id,
      await FakeProvider.start({
        clientId: `${p.id}-demo-client`,
        clientSecret: secrets.get(p.id)!,
        clientAuth: p.clientAuth,
        accessTokenLifetimeSeconds: p.lifetimeSeconds,
        rotation: p.rotation,
      }),
    );
  }
  // The generated providers file: the same format as a real one (docs/providers.md), loopback token URLs.
  const providersFile = join(dir, 'providers.json');
  writeFileSync(
    providersFile,
    JSON.stringify(
      PROVIDERS.map((p) => ({
        id: p.id,
        tokenUrl: fakes.get(p.id)!.tokenUrl,
        clientId: `${p.id}-demo-client`,
        clientSecret: secrets.get(p.id)!,
        clientAuth: p.clientAuth,
        rotation: { rotates: p.rotation },
      })),
      null,
      2,
    ),
  );

  const env: Record<string, string | undefined> = {
    ...process.env,
    EVERGREEN_DB_SCHEMA: values.schema,
    EVERGREEN_REDIS_PREFIX: values.prefix,
    EVERGREEN_ENCRYPTION_KEYS: Keyring.generateEntry('demo1'),
    EVERGREEN_PROVIDERS: providersFile,
    // A developer's webhooks must not hear about demo connections.
    EVERGREEN_WEBHOOKS: '',
    EVERGREEN_OPS_PORT: '0',
    EVERGREEN_OPS_HOST: values.host,
    EVERGREEN_BOARD_HOST: values.host,
    EVERGREEN_BOARD_PORT: String(port),
    EVERGREEN_ADMIN_TOKEN: adminToken,
    EVERGREEN_ADMIN_USER: USER,
    EVERGREEN_ADMIN_PASSWORD: adminToken,
    EVERGREEN_BOARD_READ_ONLY: 'false',
    EVERGREEN_BOARD_DEV: 'false',
    EVERGREEN_MIGRATE_ON_START: 'true',
    EVERGREEN_LOG_LEVEL: values['log-level'],
    EVERGREEN_PROCESS_NAME: 'demo',
  };
  const stack = await startRoles(ALL_ROLES, { env });
  // Over the process's own parts: the demo's producer adds no pool and no Redis client.
  const evergreen = createEvergreen({ parts: stack.parts });
  const unsubscribe = await evergreen.subscribe(printEvent, {
    kinds: ['connection.refreshed', 'connection.needs_reauth', 'connection.error', 'connection.refresh_failed'],
  });

  for (const [index, c] of CONNECTIONS.entries()) {
    const fake = fakes.get(c.provider)!;
    const grant = fake.issue({ expiresIn: c.expiresIn });
    if ('revoked' in c && c.revoked) fake.revoke(grant.grantId);
    await evergreen.enqueueConnection({
      connectionId: `demo-${c.provider}-${index + 1}`,
      ownerId: c.owner,
      provider: c.provider,
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      expiresIn: c.expiresIn,
      scopes: ['profile', 'calendar.read'],
      metadata: { demo: true },
    });
  }

  return {
    stack,
    close: async () => {
      await unsubscribe();
      await evergreen.close();
      await stack.close();
      await Promise.all([...fakes.values()].map((f) => f.close()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const boardPort = new URL(demo.stack.board!.address).port;
const host = values.host === '0.0.0.0' || values.host === '::' ? 'localhost' : values.host;
const base = `http://${host}:${boardPort}`;
process.stdout.write(
  [
    '',
    `Evergreen demo: ${PROVIDERS.length} demo providers on 127.0.0.1, ${CONNECTIONS.length} connections with 30-60 s tokens`,
    `(schema ${values.schema}, Redis prefix ${values.prefix}: wiped at every start; your \`pnpm start\` data is untouched)`,
    '',
    `  token health   ${base}/          user ${USER}, password = the admin token`,
    `  Bull Board     ${base}/board`,
    `  operator API   ${base}/api       Authorization: Bearer <admin token>`,
    `  metrics        http://${host}:${demo.stack.opsPort}/metrics`,
    `  admin token    ${adminToken}`,
    '',
    `The first refreshes land within a minute; one connection's grant was revoked and ends in needs_reauth.`,
    `Ctrl-C stops the demo.`,
    '',
  ].join('\n') + '\n',
);

function printEvent(event: ConnectionEvent): void {
  const time = new Date(event.createdAt).toISOString().slice(11, 19);
  const { connectionId, provider, reason, expiresAt } = event.data;
  const what = event.kind.replace('connection.', '');
  const detail =
    event.kind === 'connection.refreshed' && expiresAt
      ? `new token valid until ${new Date(expiresAt).toISOString().slice(11, 19)}`
      : (reason ?? '');
  process.stdout.write(`${time}  ${what.padEnd(14)} ${connectionId} (${provider})  ${detail}\n`);
}

/** Drops the demo schema and deletes the demo's Redis keys: every run starts from nothing. */
async function resetDemoData(databaseUrl: string, redisUrl: string, schema: string, prefix: string): Promise<void> {
  await dropSchema({ url: databaseUrl, schema });
  const redis = createRedis(redisUrl, 'producer', { enableOfflineQueue: true });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: pnpm demo [-- --port N --host H --schema S --prefix P --log-level L]\n`);
  process.exit(2);
}
