import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDatabaseConfig } from '@evergreen/config';
import { FakeProvider } from '@evergreen/fake-provider';
import { Keyring } from '@evergreen/keyring';
import { ALL_ROLES, startRoles, type RunningRoles } from '@evergreen/runtime';
import { createEvergreen, type ConnectionEvent } from '@evergreen/sdk';
import { DEMO_CONNECTIONS, DEMO_PROVIDERS, DEMO_USER } from './demo-catalogue.ts';
import type { DemoOptions } from './demo-options.ts';
import { resetDemoData } from './reset-demo-data.ts';

export interface RunningDemo {
  stack: RunningRoles;
  close(): Promise<void>;
}

/**
 * Wipes the demo's schema and prefix, starts its fake providers, writes their providers file into `dir`, runs every
 * role in this process over the demo's environment (as `pnpm start` runs them) and enqueues the demo connections.
 */
export async function startDemo(
  options: DemoOptions,
  adminToken: string,
  dir: string,
  onEvent: (event: ConnectionEvent) => void,
): Promise<RunningDemo> {
  const { databaseUrl } = loadDatabaseConfig();
  const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  await resetDemoData(databaseUrl, redisUrl, options.schema, options.prefix);

  const fakes = new Map<string, FakeProvider>();
  const secrets = new Map(DEMO_PROVIDERS.map((p) => [p.id, randomBytes(12).toString('base64url')]));
  for (const p of DEMO_PROVIDERS) {
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
      DEMO_PROVIDERS.map((p) => ({
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
    EVERGREEN_DB_SCHEMA: options.schema,
    EVERGREEN_REDIS_PREFIX: options.prefix,
    EVERGREEN_ENCRYPTION_KEYS: Keyring.generateEntry('demo1'),
    EVERGREEN_PROVIDERS: providersFile,
    // A developer's webhooks must not hear about demo connections.
    EVERGREEN_WEBHOOKS: '',
    EVERGREEN_OPS_PORT: '0',
    EVERGREEN_OPS_HOST: options.host,
    EVERGREEN_BOARD_HOST: options.host,
    EVERGREEN_BOARD_PORT: String(options.port),
    // Any free port: the demo must not take the one `pnpm start`'s api uses.
    EVERGREEN_API_HOST: options.host,
    EVERGREEN_API_PORT: '0',
    EVERGREEN_ADMIN_TOKEN: adminToken,
    EVERGREEN_ADMIN_USER: DEMO_USER,
    EVERGREEN_ADMIN_PASSWORD: adminToken,
    EVERGREEN_BOARD_READ_ONLY: 'false',
    EVERGREEN_BOARD_DEV: 'false',
    EVERGREEN_MIGRATE_ON_START: 'true',
    EVERGREEN_LOG_LEVEL: options.logLevel,
    EVERGREEN_PROCESS_NAME: 'demo',
  };
  const stack = await startRoles(ALL_ROLES, { env });
  // Over the process's own parts: the demo's producer adds no pool and no Redis client.
  const evergreen = createEvergreen({ parts: stack.parts });
  const unsubscribe = await evergreen.subscribe(onEvent, {
    kinds: ['connection.refreshed', 'connection.needs_reauth', 'connection.error', 'connection.refresh_failed'],
  });

  for (const [index, c] of DEMO_CONNECTIONS.entries()) {
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
