import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { CONNECTION_STATUSES } from '@evergreen/core';
import { integerOption, stringOption, UsageError, type Command } from '../command.ts';

const PAGE = 500;
/** Secrets are read row by row (each decrypted with its own associated data): a few at a time, not 500 at once. */
const SECRET_READS = 8;

export const connectionsExport: Command = {
  words: ['connections', 'export'],
  synopsis: '[--output FILE] [--provider P] [--status S] [--owner O] [--include-secrets] [--page-size N]',
  summary: [
    'every connection as JSON Lines (stdout, or --output FILE): the enqueueConnection input that brings it back,',
    'with its status, so an export imports again here or elsewhere. No token unless --include-secrets, which',
    'prints a warning on stderr: the file then holds live credentials in the clear.',
  ].join('\n'),
  options: {
    output: { type: 'string' },
    provider: { type: 'string' },
    status: { type: 'string' },
    owner: { type: 'string' },
    'include-secrets': { type: 'boolean' },
    'page-size': { type: 'string' },
  },
  run: async ({ values }) => {
    const status = stringOption(values, 'status');
    if (status !== undefined && !(CONNECTION_STATUSES as readonly string[]).includes(status)) {
      throw new UsageError(`--status: must be one of ${CONNECTION_STATUSES.join(', ')}`);
    }
    const pageSize = integerOption(values, 'page-size', PAGE);
    const secrets = values['include-secrets'] === true;
    const output = stringOption(values, 'output');
    const [{ loadConfig }, store, { exportLine }] = await Promise.all([
      import('@evergreen/config'),
      import('@evergreen/store'),
      import('@evergreen/migrate'),
    ]);
    if (secrets) {
      process.stderr.write(
        'warning: --include-secrets: the export holds access and refresh tokens in the clear. Keep it like a\n' +
          'password (mode 0600, never in a repository or a ticket), and delete it once imported.\n',
      );
    }
    const config = loadConfig();
    const db = store.openDatabase({ url: config.databaseUrl, schema: config.dbSchema, max: 2 });
    const out: Writable = output === undefined ? process.stdout : createWriteStream(output, { mode: 0o600 });
    const directory = new store.ConnectionDirectory(db);
    const connections = new store.ConnectionStore(db, config.keyring, config.processName);
    const filter = {
      ...(status !== undefined && { status: status as (typeof CONNECTION_STATUSES)[number] }),
      ...(values.provider !== undefined && { provider: stringOption(values, 'provider') }),
      ...(values.owner !== undefined && { ownerId: stringOption(values, 'owner') }),
    };
    let count = 0;
    try {
      let cursor: string | undefined;
      do {
        const page = await directory.list(filter, { limit: pageSize, ...(cursor !== undefined && { cursor }) });
        const sealed = secrets
          ? await readSecrets(
              page.items.map((i) => i.connectionId),
              (id) => connections.find(id),
            )
          : null;
        const text = page.items
          .map((item) => {
            const row = sealed?.get(item.connectionId);
            return `${exportLine({
              ...item,
              ...(row && {
                secrets: { accessToken: row.accessToken, refreshToken: row.refreshToken, credentials: row.credentials },
              }),
            })}\n`;
          })
          .join('');
        count += page.items.length;
        // Backpressure: a slow pipe holds the next page back instead of buffering the whole table.
        if (!out.write(text)) await new Promise((resolve) => out.once('drain', resolve));
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
    } finally {
      if (out !== process.stdout) {
        out.end();
        await finished(out);
      }
      await store.closeDatabase(db);
    }
    process.stderr.write(`exported ${count} connections${output ? ` to ${output}` : ''}\n`);
    return 0;
  },
};

async function readSecrets<T>(
  ids: readonly string[],
  read: (id: string) => Promise<T | null>,
): Promise<Map<string, T>> {
  const found = new Map<string, T>();
  for (let i = 0; i < ids.length; i += SECRET_READS) {
    const chunk = ids.slice(i, i + SECRET_READS);
    const rows = await Promise.all(chunk.map(read));
    chunk.forEach((id, k) => {
      const row = rows[k];
      if (row) found.set(id, row);
    });
  }
  return found;
}
