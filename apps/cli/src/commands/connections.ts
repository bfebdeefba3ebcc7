import type { Evergreen } from '@evergreen/sdk';
import { print, stringOption, UsageError, type Command } from '../command.ts';

export const connectionsList: Command = {
  words: ['connections', 'list'],
  synopsis: '[--status S] [--provider P] [--owner O] [--expiring-within SECONDS] [--limit N] [--cursor C]',
  summary: "one page of connections, without secrets (the next page: --cursor with the answer's nextCursor)",
  options: {
    status: { type: 'string' },
    provider: { type: 'string' },
    owner: { type: 'string' },
    'expiring-within': { type: 'string' },
    limit: { type: 'string' },
    cursor: { type: 'string' },
  },
  run: async ({ values }) => {
    const { listQuery, toIssues } = await import('@evergreen/operator');
    // The operator API's own validation: the same filters, the same messages naming the option's field.
    const parsed = listQuery.safeParse({
      status: stringOption(values, 'status'),
      provider: stringOption(values, 'provider'),
      ownerId: stringOption(values, 'owner'),
      expiringWithinSeconds: stringOption(values, 'expiring-within'),
      limit: stringOption(values, 'limit'),
      cursor: stringOption(values, 'cursor'),
    });
    if (!parsed.success) {
      throw new UsageError(
        toIssues(parsed.error, 'querystring')
          .map((i) => `${i.field}: ${i.reason}`)
          .join('; '),
      );
    }
    const { limit, cursor, ...filter } = parsed.data;
    const [{ loadConfig }, { closeDatabase, ConnectionDirectory, openDatabase }] = await Promise.all([
      import('@evergreen/config'),
      import('@evergreen/store'),
    ]);
    const config = loadConfig();
    const db = openDatabase({ url: config.databaseUrl, schema: config.dbSchema, max: 2 });
    try {
      print(await new ConnectionDirectory(db).list(filter, { limit, cursor }));
      return 0;
    } finally {
      await closeDatabase(db);
    }
  },
};

const ID = [{ name: 'a connection id', required: true }] as const;

export const connectionsShow: Command = {
  words: ['connections', 'show'],
  synopsis: '<id>',
  summary: 'a connection, without secrets',
  args: ID,
  run: ({ args }) => withEvergreen(async (e) => print(await e.getConnection(args[0]!))),
};

export const connectionsRefresh: Command = {
  words: ['connections', 'refresh'],
  synopsis: '<id>',
  summary: 'refresh it now',
  args: ID,
  run: ({ args }) => withEvergreen(async (e) => print(await e.forceRefresh(args[0]!))),
};

export const connectionsDisconnect: Command = {
  words: ['connections', 'disconnect'],
  synopsis: '<id> [--revoke]',
  summary:
    'remove its job, wipe its tokens, keep its history; --revoke first revokes the grant at the provider\n' +
    '(RFC 7009) where it has a revocation endpoint',
  args: ID,
  options: { revoke: { type: 'boolean' } },
  run: ({ args, values }) =>
    withEvergreen(async (e) => print(await e.disconnect(args[0]!, { revoke: values.revoke === true }))),
};

/** A direct-mode client whose logs go to stderr (stdout is for the JSON answer). */
export async function openCliEvergreen(): Promise<Evergreen> {
  const [{ loadConfig }, { createLogger }, { createEvergreen }] = await Promise.all([
    import('@evergreen/config'),
    import('@evergreen/log'),
    import('@evergreen/sdk'),
  ]);
  const config = loadConfig();
  return createEvergreen({ config, logger: createLogger({ level: config.logLevel, destination: process.stderr }) });
}

async function withEvergreen(run: (evergreen: Evergreen) => Promise<void>): Promise<number> {
  const evergreen = await openCliEvergreen();
  try {
    await run(evergreen);
    return 0;
  } finally {
    await evergreen.close();
  }
}
