import { print, stringOption, UsageError, type Command, type OptionValues } from '../command.ts';
import { openCliEvergreen } from './connections.ts';

/**
 * `connect` (a new connection) and `connections reconnect <id>` (in place): a connect session, printed as JSON with
 * the authorization URL to open (docs/connect.md).
 */
async function startSession(reconnectId: string | undefined, values: OptionValues): Promise<number> {
  const owner = stringOption(values, 'owner');
  const provider = stringOption(values, 'provider');
  if (reconnectId === undefined && owner === undefined) throw new UsageError('connect: --owner is required');
  if (reconnectId === undefined && provider === undefined) throw new UsageError('connect: --provider is required');
  const { loadConfig } = await import('@evergreen/config');
  const returnTo = stringOption(values, 'return-to') ?? loadConfig().connect.returnUrls[0];
  if (returnTo === undefined) {
    throw new UsageError('--return-to: is required (EVERGREEN_CONNECT_RETURN_URLS names no default)');
  }
  const evergreen = await openCliEvergreen();
  try {
    const existing = reconnectId === undefined ? null : await evergreen.getConnection(reconnectId);
    const connectionId = reconnectId ?? stringOption(values, 'connection');
    const scopes = stringOption(values, 'scopes');
    print(
      await evergreen.createConnectSession({
        ownerId: existing?.ownerId ?? (owner as string),
        provider: existing?.provider ?? (provider as string),
        ...(scopes !== undefined && { scopes: scopes.split(',').filter((s) => s !== '') }),
        ...(connectionId !== undefined && { connectionId }),
        returnTo,
      }),
    );
    return 0;
  } finally {
    await evergreen.close();
  }
}

export const connect: Command = {
  words: ['connect'],
  synopsis: '--owner O --provider P --return-to URL [--scopes S1,S2] [--connection ID]',
  summary: 'start the connect flow: prints the authorization URL to open (docs/connect.md)',
  options: {
    owner: { type: 'string' },
    provider: { type: 'string' },
    'return-to': { type: 'string' },
    scopes: { type: 'string' },
    connection: { type: 'string' },
  },
  run: ({ values }) => startSession(undefined, values),
};

export const connectionsReconnect: Command = {
  words: ['connections', 'reconnect'],
  synopsis: '<id> [--return-to URL]',
  summary:
    'a reconnect link for a connection that needs a person (a connect session of its owner and provider;\n' +
    'returnTo: the first EVERGREEN_CONNECT_RETURN_URLS entry)',
  args: [{ name: 'a connection id', required: true }],
  options: { 'return-to': { type: 'string' } },
  run: ({ args, values }) => startSession(args[0], values),
};
