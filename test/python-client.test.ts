import { spawn, spawnSync } from 'node:child_process';
import { FakeProvider } from '@evergreen/fake-provider';
import { startRoles, type RunningRoles } from '@evergreen/runtime';
import { LogCapture } from '@evergreen/test-support/log-capture';
import { REPO_ROOT, runEvergreenCli } from '@evergreen/test-support/processes';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Issue 16 item 5: the api role driven from outside TypeScript, by test/python (Python 3's standard library only). */

const PYTHON = 'python3';
const hasPython = spawnSync(PYTHON, ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasPython) console.warn(`python-client.test.ts: skipped, ${PYTHON} is not on PATH (apt-get install python3)`);

/** Short-lived tokens, so the workers rotate one several times while the Python client reads it. */
const LIFETIME_SECONDS = 4;

type Line = Record<string, unknown> & { event: string };
interface Run {
  code: number | null;
  lines: Line[];
  stderr: string;
}

/** Runs `node apps/cli/bin/evergreen.mjs ...args` as an operator would, and returns its stdout. */
async function cli(args: string[], env: Record<string, string>): Promise<string> {
  const { code, out, err } = await runEvergreenCli(args, env);
  if (code !== 0) throw new Error(`evergreen ${args[0]} ${args[1]} exited ${code}: ${err}`);
  return out;
}

/**
 * Runs test/python/drive.py `scenario`; `onLine` sees each JSON line as it arrives, while the Python process is still
 * running (a token is checked against the provider at the moment it was read, not after it expired).
 */
function drive(
  scenario: string,
  env: Record<string, string>,
  options: { stdin?: string; onLine?: (l: Line) => void } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['test/python/drive.py', scenario], {
      cwd: REPO_ROOT,
      // Only what Python needs to start (pyenv's shims read HOME) and what the driver is told: no database, Redis or
      // encryption key reaches the client, as in production.
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        PYTHONUNBUFFERED: '1',
        PYTHONDONTWRITEBYTECODE: '1',
        ...env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const lines: Line[] = [];
    let pending = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      pending += d.toString();
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = JSON.parse(pending.slice(0, nl)) as Line;
        pending = pending.slice(nl + 1);
        lines.push(line);
        options.onLine?.(line);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, lines, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

const succeeded = (run: Run) => {
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return run;
};

describe.skipIf(!hasPython)('a Python standard-library client of the api role', () => {
  const sandbox = new Sandbox();
  const logs = new LogCapture();
  let provider: FakeProvider;
  let roles: RunningRoles;
  const keys = { full: '', withoutTokens: '', confined: '' };
  let connectionId = '';

  beforeAll(async () => {
    provider = await FakeProvider.start({ accessTokenLifetimeSeconds: LIFETIME_SECONDS });
    // Two providers in the file (one token endpoint serves both): the confined key sees only `other`.
    sandbox.useProviders([
      { id: 'acme', tokenUrl: provider.tokenUrl },
      { id: 'other', tokenUrl: provider.tokenUrl },
    ]);
    roles = await startRoles(['worker', 'scheduler', 'api'], {
      env: sandbox.env({ EVERGREEN_API_PORT: '0' }),
      logDestination: logs,
    });
    const create = async (name: string, scopes: string, providers?: string) => {
      const args = ['api-keys', 'create', '--name', name, '--scopes', scopes, '--json'];
      const out = await cli(providers ? [...args, '--providers', providers] : args, sandbox.env());
      // `--json` prints exactly one line.
      expect(out.trimEnd().split('\n')).toHaveLength(1);
      const created = JSON.parse(out) as {
        id: string;
        name: string;
        key: string;
        scopes: string[];
        providers: null | string[];
      };
      expect(created).toMatchObject({
        name,
        scopes: scopes.split(','),
        providers: providers ? providers.split(',') : null,
      });
      return created.key;
    };
    keys.full = await create('python app', 'connections:write,connections:read,tokens:read');
    keys.withoutTokens = await create('python without tokens', 'connections:write,connections:read');
    keys.confined = await create('python other only', 'connections:read,tokens:read', 'other');
  });

  afterAll(async () => {
    await roles?.close();
    await provider?.close();
    await sandbox.cleanup();
  });

  const env = (extra: Record<string, string> = {}) => ({
    EVERGREEN_API_URL: roles.api!.address,
    EVERGREEN_API_KEY: keys.full,
    ...extra,
  });

  it('imports a connection with POST /v1/connections (201, scheduled)', async () => {
    const grant = provider.issue({ expiresIn: LIFETIME_SECONDS });
    const input = {
      ownerId: 'py-owner',
      provider: 'acme',
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      expiresIn: LIFETIME_SECONDS,
    };
    const run = succeeded(await drive('import', env(), { stdin: JSON.stringify(input) }));
    expect(run.lines).toHaveLength(1);
    const [imported] = run.lines;
    expect(imported).toMatchObject({ event: 'imported', status: 201 });
    expect(imported!.contentType).toMatch(/^application\/json/);
    const body = imported!.body as { connectionId: string; status: string; expiresAt: string; refreshAt: string };
    expect(body).toMatchObject({ status: 'connected' });
    expect(Date.parse(body.refreshAt)).toBeLessThan(Date.parse(body.expiresAt));
    expect(JSON.stringify(body)).not.toContain(grant.refreshToken);
    connectionId = body.connectionId;
    expect((await roles.parts.store.find(connectionId))?.accessToken).toBe(grant.accessToken);
  });

  it('reads a valid token again and again while the workers rotate it', async () => {
    expect(connectionId).not.toBe('');
    const accessTokens = () => provider.allIssuedTokens().filter((t) => t.startsWith('at_'));
    const verdicts: string[] = [];
    const run = succeeded(
      await drive('watch', env({ CONNECTION_ID: connectionId, WATCH_DISTINCT: '3', WATCH_SECONDS: '40' }), {
        onLine: (line) => {
          if (line.event !== 'token') return;
          const token = line.accessToken as string;
          // Judged on arrival: the provider accepts it now, or the workers have since rotated it (this fake provider
          // retires an access token the moment it issues the next, as few real ones do).
          const issued = accessTokens();
          const index = issued.indexOf(token);
          const verdict = provider.isAccessTokenValid(token)
            ? 'accepted'
            : index >= 0 && index < issued.length - 1
              ? 'superseded'
              : 'rejected';
          verdicts.push(verdict);
        },
      }),
    );
    const reads = run.lines.filter((l) => l.event === 'token');
    expect(run.lines.at(-1)).toEqual({ event: 'watched', distinct: 3 });
    expect(verdicts).not.toContain('rejected');
    for (const read of reads) {
      expect(read).toMatchObject({ tokenType: 'Bearer' });
      // Never handed out a token that would not outlive the read by the minValiditySeconds it asked for.
      expect(Date.parse(read.expiresAt as string)).toBeGreaterThan((read.readAtMs as number) + 1_000 - 50);
    }
    // The tokens seen are the provider's, in the order it issued them: never an older one after a newer one.
    const seen = [...new Set(reads.map((r) => r.accessToken as string))];
    const order = seen.map((t) => accessTokens().indexOf(t));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // The rotations were the workers' scheduled refreshes, not refreshes forced by the reads.
    const metrics = await (await fetch(`http://127.0.0.1:${roles.opsPort}/metrics`)).text();
    const count = (trigger: string) =>
      metrics
        .split('\n')
        .filter((l) => l.startsWith('evergreen_refresh_attempts_total{'))
        .filter((l) => l.includes('outcome="success"') && l.includes(`trigger="${trigger}"`))
        .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
    expect(count('schedule')).toBeGreaterThanOrEqual(2);
    expect(count('on_demand')).toBe(0);
    // Every read was audited, with the key's id and never the token or the key.
    const audited = logs.events('token read').filter((e) => e.connection === connectionId && e.outcome === 'ok');
    expect(audited.length).toBeGreaterThanOrEqual(reads.length);
    for (const token of seen) expect(logs.text).not.toContain(token);
    expect(logs.text).not.toContain(keys.full);
  });

  it('is refused tokens without tokens:read (403 problem), and a confined key sees the connection as missing (404)', async () => {
    expect(connectionId).not.toBe('');
    const run = succeeded(
      await drive(
        'refusals',
        env({ CONNECTION_ID: connectionId, KEY_WITHOUT_TOKENS: keys.withoutTokens, KEY_CONFINED: keys.confined }),
      ),
    );
    const answer = (name: string) => {
      const line = run.lines.find((l) => l.case === name);
      expect(line, name).toBeDefined();
      return line as Line & { status: number; contentType: string; body: Record<string, unknown> };
    };

    const refused = answer('token without tokens:read');
    expect(refused.status).toBe(403);
    expect(refused.contentType).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({ status: 403, code: 'ERR_INSUFFICIENT_SCOPE' });
    expect(JSON.stringify(refused.body)).not.toMatch(/at_|rt_/);
    // The same key does what its scopes allow.
    expect(answer('view with connections:read')).toMatchObject({ status: 200, body: { connectionId } });

    for (const what of ['token', 'view']) {
      const hidden = answer(`confined: ${what} of another provider's connection`);
      const missing = answer(`confined: ${what} of a missing connection`);
      expect(hidden.status).toBe(404);
      expect(hidden.contentType).toMatch(/^application\/problem\+json/);
      expect(hidden.body).toMatchObject({ status: 404, code: 'ERR_CONNECTION_NOT_FOUND' });
      // Exactly as a missing id: the same status, type and body but for the id itself.
      expect(hidden.contentType).toBe(missing.contentType);
      expect(JSON.stringify(hidden.body).replaceAll(connectionId, '<id>')).toBe(
        JSON.stringify(missing.body).replaceAll('no-such-connection', '<id>'),
      );
    }
  });
});
