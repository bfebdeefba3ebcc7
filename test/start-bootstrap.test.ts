import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseEnv } from 'node:util';
import { Keyring } from '@evergreen/keyring';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@evergreen/test-support/processes';
import { runCommand } from '@evergreen/test-support/repo-commands';
import { Sandbox } from '@evergreen/test-support/sandbox';

/**
 * `pnpm start`'s first-run bootstrap (scripts/start.ts), run as a developer runs it: from a directory of their own,
 * with no encryption key or admin token set, so it writes them to `.env` there.
 */
describe('pnpm start, on a first run', () => {
  const sandbox = new Sandbox();
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await sandbox.cleanup();
  });

  // tsx by file URL: the working directory is not the repository, so `--import tsx` would not resolve.
  const tsx = pathToFileURL(createRequire(join(REPO_ROOT, 'package.json')).resolve('tsx')).href;

  async function start(dir: string) {
    const {
      EVERGREEN_ENCRYPTION_KEYS: _key,
      EVERGREEN_ENV_FILE: _none,
      ...env
    } = sandbox.env({
      EVERGREEN_OPS_PORT: '0',
      EVERGREEN_BOARD_PORT: '0',
    });
    return runCommand(['node', '--import', tsx, join(REPO_ROOT, 'scripts/start.ts')], env, {
      cwd: dir,
      ready: /"msg":"board listening"/,
    });
  }

  function workdir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'evergreen-start-'));
    dirs.push(dir);
    return dir;
  }

  it('writes .env readable by its owner only, and starts with what it wrote', { timeout: 120_000 }, async () => {
    const dir = workdir();
    const run = await start(dir);
    expect(run.readyAt, run.output).not.toBeNull();
    expect({ code: run.code, signal: run.signal }, run.output).toEqual({ code: 0, signal: null });
    const path = join(dir, '.env');
    expect((statSync(path).mode & 0o777).toString(8)).toBe('600');
    const values = parseEnv(readFileSync(path, 'utf8'));
    expect(Keyring.parse(values.EVERGREEN_ENCRYPTION_KEYS).currentKeyId).toBeTruthy();
    expect(values.EVERGREEN_ADMIN_TOKEN!.length).toBeGreaterThanOrEqual(16);
  });

  it('tightens an existing .env that others can read to 0600, keeping its key', { timeout: 120_000 }, async () => {
    const dir = workdir();
    const path = join(dir, '.env');
    const key = Keyring.generateEntry('mine');
    writeFileSync(path, `EVERGREEN_ENCRYPTION_KEYS=${key}\n`);
    chmodSync(path, 0o644);
    const run = await start(dir);
    expect(run.readyAt, run.output).not.toBeNull();
    expect((statSync(path).mode & 0o777).toString(8)).toBe('600');
    expect(run.output).toMatch(/\.env.*0600/);
    const values = parseEnv(readFileSync(path, 'utf8'));
    expect(values.EVERGREEN_ENCRYPTION_KEYS).toBe(key);
    expect(values.EVERGREEN_ADMIN_TOKEN).toBeTruthy();
  });
});
