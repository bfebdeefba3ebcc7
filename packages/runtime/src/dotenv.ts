import { existsSync } from 'node:fs';

/**
 * Loads the env file named by EVERGREEN_ENV_FILE (default `.env` in the working directory) when there is one;
 * variables already set win. `EVERGREEN_ENV_FILE=none` turns it off (tests do, so a developer's .env cannot leak in).
 */
export function loadDotEnv(path = process.env.EVERGREEN_ENV_FILE ?? '.env'): boolean {
  if (path === 'none' || !existsSync(path)) return false;
  process.loadEnvFile(path);
  return true;
}
