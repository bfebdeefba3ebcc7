import { parseArgs } from 'node:util';
import {
  API_KEY_ID_PATTERN,
  API_KEY_SCOPES,
  ApiKeyNotFoundError,
  parseApiKeyInput,
  type ApiKeySpec,
} from '@evergreen/api-keys';
import { EvergreenError, InvalidInputError } from '@evergreen/core';
import { loadConfig, loadDatabaseConfig } from '@evergreen/config';
import { createLogger } from '@evergreen/log';
import { listQuery, toIssues } from '@evergreen/operator';
import { ensureSecretsFile, loadDotEnv, runRolesMain, type Role } from '@evergreen/runtime';
import { createEvergreen } from '@evergreen/sdk';
import {
  ApiKeyStore,
  closeDatabase,
  ConnectionDirectory,
  migrateDatabase,
  openDatabase,
  rotateKeys,
} from '@evergreen/store';

const USAGE = `usage: evergreen <command>

  worker | scheduler | all          run a role (all: worker and scheduler in one process)
  board                             run the board: Bull Board and the operator API
  api                               run the token service: /v1 behind API keys, on EVERGREEN_API_PORT
  db migrate                        apply pending migrations
  secrets init [--file PATH]        write a new encryption key and admin token to the env file (default:
                                    EVERGREEN_ENV_FILE, else .env) unless it or the environment has them; mode 0600
  keys rotate [--batch-size N]      re-encrypt every stored secret to the current key (put the new key first in
                                    EVERGREEN_ENCRYPTION_KEYS; drop the old one once nothing remains)
  connections list [--status S] [--provider P] [--owner O] [--expiring-within SECONDS] [--limit N] [--cursor C]
                                    one page of connections, without secrets
  connections show <id>             a connection, without secrets
  connections refresh <id>          refresh it now
  connections disconnect <id> [--revoke]
                                    remove its job, wipe its tokens, keep its history; --revoke first revokes the
                                    grant at the provider (RFC 7009) where it has a revocation endpoint
  connections reconnect <id> [--return-to URL]
                                    a reconnect link for a connection that needs a person (a connect session of its
                                    owner and provider; returnTo: the first EVERGREEN_CONNECT_RETURN_URLS entry)
  connect --owner O --provider P --return-to URL [--scopes S1,S2] [--connection ID]
                                    start the connect flow: prints the authorization URL to open (docs/connect.md)
  api-keys create --name NAME --scopes S1,S2 [--providers P1,P2] [--json]
                                    a new API key for the api role, printed once (scopes: ${API_KEY_SCOPES.join(', ')};
                                    --providers confines it to those providers' connections)
  api-keys list [--json]            every API key: id, name, scopes, providers, created, last used, revoked
  api-keys revoke <id>              revoke a key; every api process refuses it within seconds

Configured by the environment (and .env): see the README's configuration table.`;

const ROLES: Record<string, Role[]> = {
  worker: ['worker'],
  scheduler: ['scheduler'],
  all: ['worker', 'scheduler'],
  board: ['board'],
  api: ['api'],
};

async function main(argv: string[]): Promise<number> {
  const parsedArgs = parseArguments(argv);
  if (typeof parsedArgs === 'string') return fail(parsedArgs);
  const { positionals, values } = parsedArgs;
  const [command, sub, id] = positionals;
  // `--help` asks for the usage (0); no command at all is a usage error (2).
  if (values.help || command === undefined) return usage(values.help ? 0 : 2);
  if (command in ROLES) {
    await runRolesMain(ROLES[command]!);
    return -1; // runs until a signal
  }
  if (command === 'api-keys') return apiKeys(sub, id, values);
  return otherCommands(command, sub, id, values);
}

type Values = Exclude<ReturnType<typeof parseArguments>, string>['values'];

/** The command line, or a one-line message naming what is wrong with it (an unknown option, a missing value). */
function parseArguments(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'batch-size': { type: 'string' },
        status: { type: 'string' },
        provider: { type: 'string' },
        owner: { type: 'string' },
        'expiring-within': { type: 'string' },
        limit: { type: 'string' },
        cursor: { type: 'string' },
        file: { type: 'string' },
        name: { type: 'string' },
        scopes: { type: 'string' },
        providers: { type: 'string' },
        'return-to': { type: 'string' },
        connection: { type: 'string' },
        json: { type: 'boolean' },
        revoke: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    // node:util's ERR_PARSE_ARGS_* errors name the option; a stack would only hide that.
    return error instanceof Error ? error.message : String(error);
  }
}

/** `api-keys create|list|revoke`: the database alone, no encryption key needed (keys are hashed, not encrypted). */
async function apiKeys(sub: string | undefined, id: string | undefined, values: Values): Promise<number> {
  if (sub === 'create') {
    const spec = apiKeySpec(values);
    if (typeof spec === 'string') return fail(spec);
    return withApiKeyStore(async (store) => {
      const created = await store.create(spec);
      const { id: keyId, name, key, scopes, providers } = created;
      if (values.json) {
        process.stdout.write(`${JSON.stringify({ id: keyId, name, key, scopes, providers })}\n`);
      } else {
        process.stdout.write(
          [
            `API key created: ${name} (id ${keyId})`,
            `  scopes:    ${scopes.join(', ')}`,
            `  providers: ${providers ? providers.join(', ') : 'all'}`,
            '',
            `  ${key}`,
            '',
            'Store it now: it is shown only this once and cannot be recovered (Evergreen keeps only its hash).',
            '',
          ].join('\n'),
        );
      }
      return 0;
    });
  }
  if (sub === 'list') {
    return withApiKeyStore(async (store) => {
      const keys = await store.list();
      if (values.json) {
        process.stdout.write(`${JSON.stringify(keys)}\n`);
        return 0;
      }
      if (keys.length === 0) process.stdout.write('no API keys\n');
      for (const k of keys) {
        process.stdout.write(
          [
            `${k.id}  ${k.name}${k.revokedAt ? '  (revoked)' : ''}`,
            `  scopes: ${k.scopes.join(', ')}; providers: ${k.providers ? k.providers.join(', ') : 'all'}`,
            `  created ${k.createdAt.toISOString()}; last used ${k.lastUsedAt?.toISOString() ?? 'never'}` +
              (k.revokedAt ? `; revoked ${k.revokedAt.toISOString()}` : ''),
            '',
          ].join('\n'),
        );
      }
      return 0;
    });
  }
  if (sub === 'revoke') {
    if (!id) return fail('api-keys revoke: the key id is required (see api-keys list)');
    if (!API_KEY_ID_PATTERN.test(id)) return fail('id: must be an API key id, 16 hexadecimal characters');
    return withApiKeyStore(async (store) => {
      try {
        print(await store.revoke(id));
        return 0;
      } catch (error) {
        if (error instanceof ApiKeyNotFoundError) return fail(`id: ${error.message}`);
        throw error;
      }
    });
  }
  return usage(2);
}

/** The new key's attributes, or one line naming each bad option: `--scopes: unknown scope "x" (valid scopes: …)`. */
function apiKeySpec(values: Values): ApiKeySpec | string {
  try {
    return parseApiKeyInput({ name: values.name, scopes: values.scopes, providers: values.providers });
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    return error.issues.map((i) => `--${i.field}: ${i.reason}`).join('; ');
  }
}

async function withApiKeyStore(run: (store: ApiKeyStore) => Promise<number>): Promise<number> {
  // A one-off admin command: over the direct URL, as a session (EVERGREEN_DATABASE_DIRECT_URL, else DATABASE_URL).
  const { directUrl, dbSchema } = loadDatabaseConfig();
  const db = openDatabase({ url: directUrl, schema: dbSchema, max: 1 });
  try {
    return await run(new ApiKeyStore(db));
  } finally {
    await closeDatabase(db);
  }
}

async function otherCommands(
  command: string,
  sub: string | undefined,
  id: string | undefined,
  values: Values,
): Promise<number> {
  if (command === 'db' && sub === 'migrate') {
    const { directUrl, dbSchema } = loadDatabaseConfig();
    await migrateDatabase({ url: directUrl, schema: dbSchema });
    print({ migrated: dbSchema });
    return 0;
  }
  if (command === 'secrets' && sub === 'init') {
    // Runs before any configuration exists (compose's one-shot `secrets` service), so it reads none.
    const file = values.file ?? process.env.EVERGREEN_ENV_FILE ?? '.env';
    if (file === 'none') return fail('secrets init: EVERGREEN_ENV_FILE is none; name the file with --file');
    const { path, wrote, tightened } = ensureSecretsFile(file, { env: process.env, by: '`evergreen secrets init`' });
    print({ file: path, wrote, tightened });
    return 0;
  }
  if (command === 'keys' && sub === 'rotate') {
    const batchSize = values['batch-size'] === undefined ? 500 : Number(values['batch-size']);
    if (!Number.isInteger(batchSize) || batchSize < 1) return fail('--batch-size: must be a positive whole number');
    const config = loadConfig();
    const db = openDatabase({ url: config.databaseUrl, schema: config.dbSchema, max: 2 });
    try {
      const result = await rotateKeys(db, config.keyring, {
        batchSize,
        onBatch: (p) =>
          process.stderr.write(`rotated ${p.rotated}${p.raced ? `, ${p.raced} rewritten meanwhile` : ''}\n`),
      });
      print({ currentKey: config.keyring.currentKeyId, ...result });
      return result.remaining === 0 ? 0 : 3; // 3: run again (refreshes raced some rows)
    } finally {
      await closeDatabase(db);
    }
  }
  if (command === 'connections' && sub === 'list') {
    // The operator API's own validation: the same filters, the same messages naming the option's field.
    const parsed = listQuery.safeParse({
      status: values.status,
      provider: values.provider,
      ownerId: values.owner,
      expiringWithinSeconds: values['expiring-within'],
      limit: values.limit,
      cursor: values.cursor,
    });
    if (!parsed.success)
      return fail(
        toIssues(parsed.error, 'querystring')
          .map((i) => `${i.field}: ${i.reason}`)
          .join('\n'),
      );
    const { limit, cursor, ...filter } = parsed.data;
    const config = loadConfig();
    const db = openDatabase({ url: config.databaseUrl, schema: config.dbSchema, max: 2 });
    try {
      print(await new ConnectionDirectory(db).list(filter, { limit, cursor }));
      return 0;
    } finally {
      await closeDatabase(db);
    }
  }
  if (command === 'connect' || (command === 'connections' && sub === 'reconnect')) {
    return connect(command === 'connect' ? undefined : id, values);
  }
  if (command === 'connections' && ['show', 'refresh', 'disconnect'].includes(sub ?? '')) {
    if (!id) return fail(`connections ${sub}: a connection id is required`);
    const config = loadConfig();
    // stdout is for the JSON answer; logs go to stderr.
    const evergreen = createEvergreen({
      config,
      logger: createLogger({ level: config.logLevel, destination: process.stderr }),
    });
    try {
      if (sub === 'show') print(await evergreen.getConnection(id));
      else if (sub === 'refresh') print(await evergreen.forceRefresh(id));
      else print(await evergreen.disconnect(id, { revoke: values.revoke === true }));
      return 0;
    } finally {
      await evergreen.close();
    }
  }
  return usage(2);
}

/** `connect` (a new connection) and `connections reconnect <id>` (in place): a connect session, printed as JSON. */
async function connect(reconnectId: string | undefined, values: Values): Promise<number> {
  if (reconnectId === undefined && values.owner === undefined) return fail('connect: --owner is required');
  if (reconnectId === undefined && values.provider === undefined) return fail('connect: --provider is required');
  const config = loadConfig();
  const returnTo = values['return-to'] ?? config.connect.returnUrls[0];
  if (returnTo === undefined) return fail('--return-to: is required (EVERGREEN_CONNECT_RETURN_URLS names no default)');
  const evergreen = createEvergreen({
    config,
    logger: createLogger({ level: config.logLevel, destination: process.stderr }),
  });
  try {
    const existing = reconnectId === undefined ? null : await evergreen.getConnection(reconnectId);
    const connectionId = reconnectId ?? values.connection;
    print(
      await evergreen.createConnectSession({
        ownerId: existing?.ownerId ?? (values.owner as string),
        provider: existing?.provider ?? (values.provider as string),
        ...(values.scopes !== undefined && { scopes: values.scopes.split(',').filter((s) => s !== '') }),
        ...(connectionId !== undefined && { connectionId }),
        returnTo,
      }),
    );
    return 0;
  } finally {
    await evergreen.close();
  }
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function usage(code: number): number {
  (code === 0 ? process.stdout : process.stderr).write(`${USAGE}\n`);
  return code;
}

function fail(message: string): number {
  process.stderr.write(`${message}\n`);
  return 2;
}

loadDotEnv();
try {
  const code = await main(process.argv.slice(2));
  if (code >= 0) process.exit(code);
} catch (error) {
  // Typed errors carry a message a person can act on (and never a secret); anything else is a bug worth a stack.
  if (error instanceof EvergreenError) {
    process.stderr.write(`${error.code}: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
