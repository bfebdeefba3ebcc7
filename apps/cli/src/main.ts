import { parseArgs } from 'node:util';
import { EvergreenError } from '@evergreen/core';
import { loadConfig, loadDatabaseConfig } from '@evergreen/config';
import { createLogger } from '@evergreen/log';
import { listQuery, toIssues } from '@evergreen/operator';
import { ensureSecretsFile, loadDotEnv, runRolesMain, type Role } from '@evergreen/runtime';
import { createEvergreen } from '@evergreen/sdk';
import { closeDatabase, ConnectionDirectory, migrateDatabase, openDatabase, rotateKeys } from '@evergreen/store';

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
  connections disconnect <id>       remove its job, wipe its tokens, keep its history

Configured by the environment (and .env): see the README's configuration table.`;

const ROLES: Record<string, Role[]> = {
  worker: ['worker'],
  scheduler: ['scheduler'],
  all: ['worker', 'scheduler'],
  board: ['board'],
  api: ['api'],
};

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
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
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, sub, id] = positionals;
  // `--help` asks for the usage (0); no command at all is a usage error (2).
  if (values.help || command === undefined) return usage(values.help ? 0 : 2);
  if (command in ROLES) {
    await runRolesMain(ROLES[command]!);
    return -1; // runs until a signal
  }
  if (command === 'db' && sub === 'migrate') {
    const { databaseUrl, dbSchema } = loadDatabaseConfig();
    await migrateDatabase({ url: databaseUrl, schema: dbSchema });
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
      else print(await evergreen.disconnect(id));
      return 0;
    } finally {
      await evergreen.close();
    }
  }
  return usage(2);
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
