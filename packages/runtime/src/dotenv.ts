import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';

/**
 * Loads the env file named by EVERGREEN_ENV_FILE (default `.env` in the working directory) when there is one;
 * variables already set to a value win. A blank variable counts as unset, as packages/config reads every variable:
 * Compose hands one over blank when the user left it unset (`${VAR:-}`), and the file's value must then apply.
 * `EVERGREEN_ENV_FILE=none` turns it off (tests do, so a developer's .env cannot leak in).
 */
export function loadDotEnv(path = process.env.EVERGREEN_ENV_FILE ?? '.env'): boolean {
  if (path === 'none' || !existsSync(path)) return false;
  for (const [name, value] of Object.entries(parseEnv(readFileSync(path, 'utf8')))) {
    if (value !== undefined && (process.env[name] ?? '').trim() === '') process.env[name] = value;
  }
  return true;
}
