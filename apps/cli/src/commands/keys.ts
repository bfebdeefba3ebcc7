import { integerOption, print, type Command } from '../command.ts';

export const keysRotate: Command = {
  words: ['keys', 'rotate'],
  synopsis: '[--batch-size N]',
  summary:
    're-encrypt every stored secret to the current key (put the new key first in EVERGREEN_ENCRYPTION_KEYS; drop\n' +
    'the old one once nothing remains); exit 3: some rows were rewritten meanwhile, run it again',
  options: { 'batch-size': { type: 'string' } },
  run: async ({ values }) => {
    const batchSize = integerOption(values, 'batch-size', 500);
    const [{ loadConfig }, { closeDatabase, openDatabase, rotateKeys }] = await Promise.all([
      import('@evergreen/config'),
      import('@evergreen/store'),
    ]);
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
  },
};
