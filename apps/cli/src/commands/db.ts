import { print, type Command } from '../command.ts';

export const dbMigrate: Command = {
  words: ['db', 'migrate'],
  synopsis: '',
  summary: 'apply pending migrations',
  run: async () => {
    const [{ loadDatabaseConfig }, { migrateDatabase }] = await Promise.all([
      import('@evergreen/config'),
      import('@evergreen/store'),
    ]);
    const { databaseUrl, dbSchema } = loadDatabaseConfig();
    await migrateDatabase({ url: databaseUrl, schema: dbSchema });
    print({ migrated: dbSchema });
    return 0;
  },
};
