import {
  API_KEY_ID_PATTERN,
  API_KEY_SCOPES,
  ApiKeyNotFoundError,
  parseApiKeyInput,
  type ApiKeySpec,
} from '@evergreen/api-keys';
import { InvalidInputError } from '@evergreen/core';
import type { ApiKeyStore } from '@evergreen/store';
import { print, stringOption, UsageError, type Command, type OptionValues } from '../command.ts';

// The database alone: no encryption key needed (keys are hashed, not encrypted).

export const apiKeysCreate: Command = {
  words: ['api-keys', 'create'],
  synopsis: '--name NAME --scopes S1,S2 [--providers P1,P2] [--json]',
  summary:
    `a new API key for the api role, printed once (scopes: ${API_KEY_SCOPES.join(', ')};\n` +
    "--providers confines it to those providers' connections; --json: one JSON line)",
  options: {
    name: { type: 'string' },
    scopes: { type: 'string' },
    providers: { type: 'string' },
    json: { type: 'boolean' },
  },
  run: async ({ values }) => {
    const spec = apiKeySpec(values);
    return withApiKeyStore(async (store) => {
      const { id, name, key, scopes, providers } = await store.create(spec);
      if (values.json) {
        process.stdout.write(`${JSON.stringify({ id, name, key, scopes, providers })}\n`);
        return 0;
      }
      process.stdout.write(
        [
          `API key created: ${name} (id ${id})`,
          `  scopes:    ${scopes.join(', ')}`,
          `  providers: ${providers ? providers.join(', ') : 'all'}`,
          '',
          `  ${key}`,
          '',
          'Store it now: it is shown only this once and cannot be recovered (Evergreen keeps only its hash).',
          '',
        ].join('\n'),
      );
      return 0;
    });
  },
};

export const apiKeysList: Command = {
  words: ['api-keys', 'list'],
  synopsis: '[--json]',
  summary: 'every API key: id, name, scopes, providers, created, last used, revoked',
  options: { json: { type: 'boolean' } },
  run: ({ values }) =>
    withApiKeyStore(async (store) => {
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
    }),
};

export const apiKeysRevoke: Command = {
  words: ['api-keys', 'revoke'],
  synopsis: '<id>',
  summary: 'revoke a key; every api process refuses it within seconds',
  args: [{ name: 'the key id', required: true }],
  run: async ({ args }) => {
    const id = args[0]!;
    if (!API_KEY_ID_PATTERN.test(id)) throw new UsageError('id: must be an API key id, 16 hexadecimal characters');
    return withApiKeyStore(async (store) => {
      try {
        print(await store.revoke(id));
        return 0;
      } catch (error) {
        if (error instanceof ApiKeyNotFoundError) throw new UsageError(`id: ${error.message}`);
        throw error;
      }
    });
  },
};

/** The new key's attributes, or a UsageError naming each bad option: `--scopes: unknown scope "x" (valid: …)`. */
function apiKeySpec(values: OptionValues): ApiKeySpec {
  try {
    return parseApiKeyInput({
      name: stringOption(values, 'name'),
      scopes: stringOption(values, 'scopes'),
      providers: stringOption(values, 'providers'),
    });
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    throw new UsageError(error.issues.map((i) => `--${i.field}: ${i.reason}`).join('; '));
  }
}

async function withApiKeyStore(run: (store: ApiKeyStore) => Promise<number>): Promise<number> {
  const [{ loadDatabaseConfig }, { ApiKeyStore, closeDatabase, openDatabase }] = await Promise.all([
    import('@evergreen/config'),
    import('@evergreen/store'),
  ]);
  const { databaseUrl, dbSchema } = loadDatabaseConfig();
  const db = openDatabase({ url: databaseUrl, schema: dbSchema, max: 1 });
  try {
    return await run(new ApiKeyStore(db));
  } finally {
    await closeDatabase(db);
  }
}
