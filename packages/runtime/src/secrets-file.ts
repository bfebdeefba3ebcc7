import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseEnv } from 'node:util';
import { Keyring } from '@evergreen/keyring';

/** The secrets a first run needs and nobody should have to invent: the encryption key and the board's token. */
export type GeneratedSecret = 'EVERGREEN_ENCRYPTION_KEYS' | 'EVERGREEN_ADMIN_TOKEN';

export interface SecretsFileResult {
  path: string;
  /** The variables added to the file, in file order; empty when it already held both (or the environment did). */
  wrote: GeneratedSecret[];
  /** The file existed with permissions for group or others, and was set to 0600. */
  tightened: boolean;
}

export interface SecretsFileOptions {
  /** Variables set here (to a value) are not written: they would win over the file anyway. */
  env: Readonly<Record<string, string | undefined>>;
  /** Who writes, for the comment above each value (`pnpm start`, `evergreen secrets init`). */
  by: string;
  now?: Date;
}

const OWNER_ONLY = 0o600;

/**
 * Makes sure the env file at `path` holds an encryption key and an admin token, generating whichever is missing (from
 * the file and from `env`), and that only its owner can read it: the key decrypts every stored token. A new file is
 * created 0600; an existing one keeps its values (the key decrypts what is already stored) and is tightened to 0600
 * when group or others could read it. `pnpm start` (for `.env`) and `evergreen secrets init` (compose's one-shot
 * `secrets` service) both use it, so there is one generator. Never prints a value.
 */
export function ensureSecretsFile(path: string, options: SecretsFileOptions): SecretsFileResult {
  const existed = existsSync(path);
  const text = existed ? readFileSync(path, 'utf8') : '';
  const inFile = parseEnv(text);
  const missing = (name: GeneratedSecret) => !options.env[name]?.trim() && !inFile[name]?.trim();
  const stamp = (options.now ?? new Date()).toISOString();
  const lines: string[] = [];
  const wrote: GeneratedSecret[] = [];
  if (missing('EVERGREEN_ENCRYPTION_KEYS')) {
    lines.push(
      `# Written by ${options.by} on ${stamp}. Keep it (and back it up with the database): it decrypts the stored tokens.`,
      `EVERGREEN_ENCRYPTION_KEYS=${Keyring.generateEntry()}`,
    );
    wrote.push('EVERGREEN_ENCRYPTION_KEYS');
  }
  if (missing('EVERGREEN_ADMIN_TOKEN')) {
    lines.push(
      `# Written by ${options.by} on ${stamp}: Authorization: Bearer <this> for the board and its API.`,
      `EVERGREEN_ADMIN_TOKEN=${randomBytes(24).toString('base64url')}`,
    );
    wrote.push('EVERGREEN_ADMIN_TOKEN');
  }

  const tightened = existed && (statSync(path).mode & 0o077) !== 0;
  if (tightened) chmodSync(path, OWNER_ONLY);
  if (lines.length > 0) {
    if (!existed) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // The mode applies when the file is created; an existing one was tightened above, before the secret goes in.
    const fd = openSync(path, 'a', OWNER_ONLY);
    try {
      const separator = text === '' || text.endsWith('\n') ? '' : '\n';
      writeSync(fd, `${separator}${lines.join('\n')}\n`);
    } finally {
      closeSync(fd);
    }
  }
  return { path, wrote, tightened };
}
