import { existsSync } from 'node:fs';

/** Loads `.env` from the working directory when there is one; variables already set win. */
export function loadDotEnv(path = '.env'): boolean {
  if (!existsSync(path)) return false;
  process.loadEnvFile(path);
  return true;
}
