import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@evergreen/test-support/processes';
import { cliCommands, runCommand } from '@evergreen/test-support/repo-commands';
import { Sandbox } from '@evergreen/test-support/sandbox';

/**
 * The image cannot be built here (no Docker engine), so its Dockerfile is checked statically, and its build stage's
 * install is replayed on the build context that .dockerignore leaves, to run the result as the image would.
 */
const TEXT = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
const dockerfile = DockerfileParser.parse(TEXT);
const instructions = dockerfile.getInstructions();
const rootPackage = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  name: string;
  packageManager: string;
  devDependencies: Record<string, string>;
};

/** The instructions of each stage, by stage name. */
function stages(): Map<string, Instruction[]> {
  const result = new Map<string, Instruction[]>();
  let current: Instruction[] | null = null;
  for (const instruction of instructions) {
    if (instruction.getKeyword() === 'FROM') {
      const name = dockerfile.getFROMs().find((f) => f.getRange().start.line === instruction.getRange().start.line);
      current = [];
      result.set(name?.getBuildStage() ?? `#${result.size}`, current);
    } else current?.push(instruction);
  }
  return result;
}

/** A stage's instructions after those of the stages it is built FROM, base first. */
function lineage(stage: string): Instruction[] {
  const from = dockerfile.getFROMs().find((f) => f.getBuildStage() === stage)!;
  const parent = from.getImage();
  const own = stages().get(stage)!;
  return parent && stages().has(parent) ? [...lineage(parent), ...own] : own;
}

/** The `pnpm install` of a stage, as written. */
function installOf(stage: string): string {
  const runs = stages()
    .get(stage)!
    .filter((i) => i.getKeyword() === 'RUN')
    .map((i) => i.getArgumentsContent() ?? '');
  return runs.find((r) => r.startsWith('pnpm install'))!;
}

/** Runs a stage's `pnpm install` in `dir` as written; --prefer-offline reuses this machine's pnpm store instead of downloading. */
function replayInstall(stage: string, dir: string): void {
  const install = stages()
    .get(stage)!
    .filter((i) => i.getKeyword() === 'RUN')
    .map((i) => i.getArguments().map((a) => a.getValue().replace(/^"(.*)"$/, '$1')))
    .find((args) => args[0] === 'pnpm' && args[1] === 'install')!;
  const result = spawnSync('pnpm', [...install.slice(1), '--prefer-offline'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
    timeout: 240_000,
  });
  expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
}

/** An exec-form instruction's JSON array (ENTRYPOINT, CMD). */
function execForm(keyword: 'ENTRYPOINT' | 'CMD'): string[] {
  const found = instructions.filter((i) => i.getKeyword() === keyword);
  expect(found, `one ${keyword}`).toHaveLength(1);
  const parsed = JSON.parse(found[0]!.getArgumentsContent() ?? '') as unknown;
  expect(Array.isArray(parsed), `${keyword} in exec form (signals reach the process)`).toBe(true);
  return parsed as string[];
}

/** Docker's .dockerignore rules (patterns anchored at the context root, `**` for any depth, last match wins). */
function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      const pattern = (negate ? line.slice(1) : line).replace(/^\/+|\/+$/g, '');
      let re = '';
      for (let i = 0; i < pattern.length; i += 1) {
        if (pattern.startsWith('**/', i)) {
          re += '(?:.*/)?';
          i += 2;
        } else if (pattern.startsWith('**', i)) {
          re += '.*';
          i += 1;
        } else if (pattern[i] === '*') re += '[^/]*';
        else if (pattern[i] === '?') re += '[^/]';
        else re += pattern[i]!.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      return { negate, re: new RegExp(`^${re}(?:/.*)?$`) };
    });
  return (path) => rules.reduce((ignored, rule) => (rule.re.test(path) ? !rule.negate : ignored), false);
}

/** Copies what `docker build .` would send as the context. */
function copyBuildContext(to: string): string[] {
  const ignored = dockerignore(readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8'));
  const copied: string[] = [];
  const walk = (relative: string) => {
    for (const entry of readdirSync(join(REPO_ROOT, relative), { withFileTypes: true })) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (ignored(path)) continue;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) {
        mkdirSync(dirname(join(to, path)), { recursive: true });
        copyFileSync(join(REPO_ROOT, path), join(to, path));
        copied.push(path);
      }
    }
  };
  walk('');
  return copied;
}

describe('the Dockerfile', () => {
  it('parses and lints clean (dockerfile-utils, the VS Code Docker language server)', () => {
    expect(
      validate(TEXT).map(
        (d) => `${d.range.start.line + 1}: ${typeof d.message === 'string' ? d.message : d.message.value}`,
      ),
    ).toEqual([]);
  });

  it('builds in stages from a current Node LTS image, the production runtime last (the default target)', () => {
    const froms = dockerfile.getFROMs();
    expect(froms.map((f) => f.getBuildStage())).toEqual([
      'sources',
      'build',
      'demo-build',
      'runtime-base',
      'demo',
      'runtime',
    ]);
    const arg = instructions.find((i) => i.getKeyword() === 'ARG')!.getArgumentsContent()!;
    const image = /^NODE_IMAGE=(node:(\d+)-[a-z]+-slim)$/.exec(arg);
    expect(image, 'ARG NODE_IMAGE=node:<major>-<debian>-slim').not.toBeNull();
    const major = Number(image![2]);
    // Even majors are the LTS lines; 22 and 24 are the supported ones while this is written.
    expect(major % 2).toBe(0);
    expect(major).toBeGreaterThanOrEqual(22);
    // Every stage starts from that image, directly or through an earlier stage.
    for (const from of froms) expect(['${NODE_IMAGE}', ...stages().keys()]).toContain(from.getImage());
    expect(froms.filter((f) => f.getImage() === '${NODE_IMAGE}').map((f) => f.getBuildStage())).toEqual([
      'sources',
      'runtime-base',
    ]);
  });

  it('runs as a non-root user in the final stage, with no HEALTHCHECK (probes belong to compose and Kubernetes)', () => {
    const runtime = stages().get('runtime')!;
    const users = runtime.filter((i) => i.getKeyword() === 'USER').map((i) => i.getArgumentsContent());
    expect(users.length).toBeGreaterThan(0);
    // By number, so Kubernetes' runAsNonRoot can verify it: the official node images' `node` user, uid and gid 1000.
    const [uid, gid] = users.at(-1)!.split(':');
    expect(uid).toMatch(/^\d+$/);
    expect(Number(uid)).toBeGreaterThan(0);
    expect(uid).toBe('1000');
    expect(gid ?? '1000').toBe('1000');
    expect(instructions.some((i) => i.getKeyword() === 'HEALTHCHECK')).toBe(false);
    // The demo's image too.
    const demoUsers = stages()
      .get('demo')!
      .filter((i) => i.getKeyword() === 'USER')
      .map((i) => i.getArgumentsContent());
    expect(demoUsers.at(-1)).toBe('1000:1000');
  });

  it('runs in production mode, listening on every interface inside the container (board and ops port)', () => {
    // In runtime-base, so that the production image and the demo's both have it.
    const env = Object.fromEntries(
      stages()
        .get('runtime-base')!
        .filter((i) => i.getKeyword() === 'ENV')
        .flatMap((i) => i.getArguments().map((a) => a.getValue().split('=') as [string, string])),
    );
    // NODE_ENV=production makes the configuration refuse the development secrets ever published in the repository.
    expect(env.NODE_ENV).toBe('production');
    // Outside containers both default to loopback; a container's ports are reached from outside it (published ports,
    // the kubelet's probes, Prometheus).
    expect(env.EVERGREEN_OPS_HOST).toBe('0.0.0.0');
    expect(env.EVERGREEN_BOARD_HOST).toBe('0.0.0.0');
  });

  it('hands signals to node through tini, installed in the runtime stage, and runs the evergreen CLI', () => {
    const entrypoint = execForm('ENTRYPOINT');
    expect(entrypoint.slice(0, 2)).toEqual(['/usr/bin/tini', '--']);
    expect(entrypoint.slice(2)).toEqual(['node', 'apps/cli/bin/evergreen.mjs']);
    expect(existsSync(join(REPO_ROOT, entrypoint[3]!))).toBe(true);
    const runtimeRuns = lineage('runtime')
      .filter((i) => i.getKeyword() === 'RUN')
      .map((i) => i.getArgumentsContent() ?? '');
    expect(runtimeRuns.some((run) => /apt-get install .*\btini\b/.test(run))).toBe(true);
    // The default command is the CLI's own help; the roles are given as arguments.
    expect(execForm('CMD')).toEqual(['--help']);
    expect(cliCommands()).toEqual(expect.arrayContaining(['worker', 'scheduler', 'board', 'all', 'db migrate']));
  });

  it('copies only files that exist and that .dockerignore lets into the context, from stages that exist', () => {
    const ignored = dockerignore(readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8'));
    const seen: string[] = [];
    for (const [stage, list] of stages()) {
      for (const copy of list.filter((i) => i.getKeyword() === 'COPY')) {
        const args = copy.getArguments().map((a) => a.getValue());
        const from = /--from=(\S+)/.exec(copy.getTextContent())?.[1];
        const sources = args.slice(0, -1);
        if (from) {
          expect([...stages().keys()].indexOf(from), `${stage}: COPY --from=${from}`).toBeGreaterThanOrEqual(0);
          expect(from).not.toBe(stage);
          continue;
        }
        for (const source of sources) {
          seen.push(source);
          if (source === '.') continue;
          expect(existsSync(join(REPO_ROOT, source)), `${source} exists`).toBe(true);
          expect(ignored(source), `${source} is not dockerignored`).toBe(false);
        }
      }
    }
    expect(seen).toEqual(expect.arrayContaining(['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml', '.']));
    // Nothing local or secret goes in.
    for (const path of ['node_modules', 'packages/store/node_modules', '.env', '.git', 'reports', 'test/cli.test.ts']) {
      expect(ignored(path), path).toBe(true);
    }
    expect(ignored('packages/store/drizzle/0000_init.sql')).toBe(false);
    // Files the sources read at run time: the migrations, and the queue's Redis scripts.
    expect(ignored('packages/queue/src/commands/release-lock.lua')).toBe(false);
    // The demo target's sources.
    expect(ignored('apps/demo/src/main.ts')).toBe(false);
    expect(ignored('internal-packages/fake-provider/src/index.ts')).toBe(false);
  });

  it('installs pnpm through corepack at the version package.json pins, and production dependencies only', () => {
    expect(rootPackage.packageManager).toMatch(/^pnpm@\d+\.\d+\.\d+$/);
    const runs = instructions.filter((i) => i.getKeyword() === 'RUN').map((i) => i.getArgumentsContent() ?? '');
    expect(runs).toContain('corepack enable && corepack install');
    const install = runs.find((r) => r.startsWith('pnpm install'))!;
    expect(install).toMatch(/--frozen-lockfile/);
    expect(install).toMatch(/--prod\b/);
    // The filters name real workspace packages: the root (its scripts) and the CLI.
    const filters = [...install.matchAll(/--filter(?:-prod)? "?([^"\s]+)"?/g)].map((m) => m[1]!.replace(/\.\.\.$/, ''));
    expect(filters).toEqual([rootPackage.name, '@evergreen/cli']);
    const cli = JSON.parse(readFileSync(join(REPO_ROOT, 'apps/cli/package.json'), 'utf8')) as { name: string };
    expect(cli.name).toBe('@evergreen/cli');
  });

  it('ships no demo and no fake provider in the production runtime; the demo target adds them', () => {
    // The runtime copies the build stage only, whose install names neither, and which drops their sources.
    const copiesFrom = (stage: string) =>
      stages()
        .get(stage)!
        .filter((i) => i.getKeyword() === 'COPY')
        .map((i) => /--from=(\S+)/.exec(i.getTextContent())?.[1]);
    expect(copiesFrom('runtime')).toEqual(['build']);
    expect(installOf('build')).not.toMatch(/demo|fake-provider|test-support/);
    const buildRuns = stages()
      .get('build')!
      .filter((i) => i.getKeyword() === 'RUN')
      .map((i) => i.getArgumentsContent() ?? '');
    expect(buildRuns).toContain('rm -rf apps/demo internal-packages');
    // Nothing the production install reaches depends on the fake provider or the test support.
    for (const manifest of ['package.json', 'apps/cli/package.json']) {
      const pkg = JSON.parse(readFileSync(join(REPO_ROOT, manifest), 'utf8')) as {
        dependencies?: Record<string, string>;
      };
      expect(Object.keys(pkg.dependencies ?? {}), manifest).not.toContain('@evergreen/fake-provider');
      expect(Object.keys(pkg.dependencies ?? {}), manifest).not.toContain('@evergreen/test-support');
    }
    // The demo: the same install plus @evergreen/demo (which depends on the fake provider), the same runtime base.
    const demo = JSON.parse(readFileSync(join(REPO_ROOT, 'apps/demo/package.json'), 'utf8')) as {
      name: string;
      dependencies: Record<string, string>;
    };
    expect(demo.dependencies['@evergreen/fake-provider']).toBeDefined();
    expect(installOf('demo-build')).toBe(`${installOf('build')} --filter-prod "${demo.name}..."`);
    expect(copiesFrom('demo')).toEqual(['demo-build']);
    expect(
      dockerfile
        .getFROMs()
        .find((f) => f.getBuildStage() === 'demo')!
        .getImage(),
    ).toBe('runtime-base');
    expect(
      dockerfile
        .getFROMs()
        .find((f) => f.getBuildStage() === 'runtime')!
        .getImage(),
    ).toBe('runtime-base');
  });

  describe("the build stage's install, replayed on the build context", () => {
    const sandbox = new Sandbox();
    let dir: string;
    let copied: string[];
    let env: Record<string, string>;

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'evergreen-image-'));
      copied = copyBuildContext(dir);
      replayInstall('build', dir);
      env = { ...sandbox.env(), NODE_ENV: 'production' };
    }, 300_000);

    afterAll(async () => {
      if (dir) rmSync(dir, { recursive: true, force: true });
      await sandbox.cleanup();
    });

    it('holds the sources and the migrations, and no tests, no local modules, no .env', () => {
      expect(copied).toEqual(
        expect.arrayContaining([
          'apps/cli/bin/evergreen.mjs',
          'apps/demo/src/main.ts',
          'packages/store/drizzle/0000_init.sql',
          'packages/queue/src/commands/release-lock.lua',
          'packages/queue/src/commands/extend-lock.lua',
          'packages/queue/src/commands/take-send-slot.lua',
        ]),
      );
      expect(copied.filter((p) => /(^|\/)(test|node_modules)\//.test(p) || p === '.env')).toEqual([]);
    });

    it('leaves out every devDependency (vitest, playwright, testcontainers, the schema validators)', () => {
      const installed = readdirSync(join(dir, 'node_modules/.pnpm'));
      for (const dev of ['vitest', 'playwright-core', 'testcontainers', 'prettier', 'dclint', 'kubernetes-models']) {
        expect(
          installed.filter((p) => p.startsWith(`${dev.replace('/', '+')}@`)),
          dev,
        ).toEqual([]);
      }
      for (const dev of Object.keys(rootPackage.devDependencies)) {
        expect(existsSync(join(dir, 'node_modules', dev)), dev).toBe(false);
      }
      expect(existsSync(join(dir, 'node_modules/tsx'))).toBe(true);
    });

    it('links neither the demo, the fake provider nor the test support into any production package', () => {
      const linked = ['.', 'apps', 'packages'].flatMap((parent) =>
        (parent === '.' ? ['.'] : readdirSync(join(dir, parent)).map((name) => `${parent}/${name}`)).flatMap((pkg) => {
          const scope = join(dir, pkg, 'node_modules/@evergreen');
          return existsSync(scope) ? readdirSync(scope).map((name) => `${pkg}: @evergreen/${name}`) : [];
        }),
      );
      expect(linked.length).toBeGreaterThan(0);
      expect(linked.filter((l) => /@evergreen\/(demo|fake-provider|test-support)$/.test(l))).toEqual([]);
      expect(existsSync(join(dir, 'apps/demo/node_modules')), 'apps/demo installed').toBe(false);
    });

    it('runs the entrypoint: --help, then `db migrate` as the one-shot', { timeout: 120_000 }, async () => {
      const argv = [...execForm('ENTRYPOINT').slice(2), ...execForm('CMD')];
      const help = await runCommand(argv, env, { cwd: dir });
      expect(help.code, help.output).toBe(0);
      expect(help.output).toMatch(/usage: evergreen <command>/);
      const migrate = await runCommand([...execForm('ENTRYPOINT').slice(2), 'db', 'migrate'], env, { cwd: dir });
      expect(migrate.code, migrate.output).toBe(0);
      expect(JSON.parse(migrate.output)).toEqual({ migrated: sandbox.schema });
      const rows = await sandbox.sql<{ count: number }[]>`select count(*)::int as count from connections`;
      expect(rows[0]?.count).toBe(0);
    });

    it(
      "the demo target's install holds what the demo needs (apps/demo through tsx, as docker-compose.yml runs it)",
      { timeout: 300_000 },
      async () => {
        const schema = `${sandbox.schema}_demo`;
        const prefix = `${sandbox.prefix}-demo`;
        // The demo-build stage's install, on the same tree: it adds the demo and the fake provider.
        replayInstall('demo-build', dir);
        try {
          const run = await runCommand(
            ['node', '--import', 'tsx', 'apps/demo/src/main.ts', '--port', '0', '--schema', schema, '--prefix', prefix],
            env,
            { cwd: dir, ready: /^ *admin token +\S+$/m },
          );
          expect(run.readyAt, run.output).not.toBeNull();
          expect({ code: run.code, signal: run.signal }, run.output).toEqual({ code: 0, signal: null });
        } finally {
          await sandbox.sql.unsafe(`drop schema if exists "${schema}" cascade`);
          const keys = await sandbox.redis.keys(`${prefix}:*`);
          if (keys.length > 0) await sandbox.redis.del(...keys);
        }
      },
    );

    it('refuses, as NODE_ENV=production, the development key docker-compose.yml once defaulted to', async () => {
      const run = await runCommand(
        [...execForm('ENTRYPOINT').slice(2), 'worker'],
        { ...env, EVERGREEN_ENCRYPTION_KEYS: 'dev1:ZXZlcmdyZWVuLWRldi1rZXktbm90LWZvci1wcm9kISE=' },
        { cwd: dir, ready: /"msg":"started"/ },
      );
      expect(run.readyAt, run.output).toBeNull();
      expect(run.code, run.output).toBe(1);
      expect(run.output).toMatch(/EVERGREEN_ENCRYPTION_KEYS\[0\]: .*published/);
      expect(run.output).not.toContain('ZXZlcmdyZWVuLWRldi1rZXktbm90LWZvci1wcm9kISE=');
    });

    it('runs a worker that drains and exits 0 on SIGTERM', { timeout: 120_000 }, async () => {
      const run = await runCommand([...execForm('ENTRYPOINT').slice(2), 'worker'], env, {
        cwd: dir,
        ready: /"msg":"started"/,
      });
      expect(run.readyAt, run.output).not.toBeNull();
      expect(run.output).toMatch(/"msg":"draining"/);
      expect({ code: run.code, signal: run.signal }).toEqual({ code: 0, signal: null });
    });
  });
});
