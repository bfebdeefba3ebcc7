import { print, stringOption, UsageError, type Command } from '../command.ts';

export const secretsInit: Command = {
  words: ['secrets', 'init'],
  synopsis: '[--file PATH]',
  summary:
    'write a new encryption key and admin token to the env file (default: EVERGREEN_ENV_FILE, else .env) unless it\n' +
    'or the environment has them; mode 0600',
  options: { file: { type: 'string' } },
  run: async ({ values }) => {
    // Runs before any configuration exists (compose's one-shot `secrets` service), so it reads none.
    const file = stringOption(values, 'file') ?? process.env.EVERGREEN_ENV_FILE ?? '.env';
    if (file === 'none') throw new UsageError('secrets init: EVERGREEN_ENV_FILE is none; name the file with --file');
    const { ensureSecretsFile } = await import('@evergreen/runtime');
    const { path, wrote, tightened } = ensureSecretsFile(file, { env: process.env, by: '`evergreen secrets init`' });
    print({ file: path, wrote, tightened });
    return 0;
  },
};
