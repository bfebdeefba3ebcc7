import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDotEnv } from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'evergreen-dotenv-'));
const names = ['EVG_DOTENV_BLANK', 'EVG_DOTENV_SET', 'EVG_DOTENV_UNSET'] as const;
afterAll(() => {
  for (const name of names) delete process.env[name];
  rmSync(dir, { recursive: true, force: true });
});

describe('loadDotEnv', () => {
  it('fills unset and blank variables from the file; a variable set to a value wins', () => {
    const path = join(dir, 'vars.env');
    writeFileSync(path, names.map((name) => `${name}=from-file`).join('\n'));
    // Compose passes a variable the user left unset as blank with `${VAR:-}`, and some Compose versions do with a
    // value-less entry: blank means unset, as packages/config reads every variable.
    process.env.EVG_DOTENV_BLANK = ' ';
    process.env.EVG_DOTENV_SET = 'from-env';
    delete process.env.EVG_DOTENV_UNSET;
    expect(loadDotEnv(path)).toBe(true);
    expect(process.env.EVG_DOTENV_BLANK).toBe('from-file');
    expect(process.env.EVG_DOTENV_SET).toBe('from-env');
    expect(process.env.EVG_DOTENV_UNSET).toBe('from-file');
  });

  it('does nothing for `none` or a file that does not exist', () => {
    expect(loadDotEnv('none')).toBe(false);
    expect(loadDotEnv(join(dir, 'absent.env'))).toBe(false);
  });
});
