import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { parseEnv } from 'node:util';
import { VARIABLES } from '@evergreen/config';
import { Keyring } from '@evergreen/keyring';
import { adviseOnRedisSettings } from '@evergreen/queue';
import { Ajv } from 'ajv';
import { DockerfileParser } from 'dockerfile-ast';
import { parse as parseYaml } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@evergreen/test-support/processes';
import { cliCommands, runCommand } from '@evergreen/test-support/repo-commands';
import { Sandbox } from '@evergreen/test-support/sandbox';

/**
 * docker-compose.yml, checked without Docker: against the Compose Specification's JSON schema (the copy dclint ships,
 * schemas/compose.schema.json), for the topology the README promises, and by running each Evergreen service's
 * command here, from the repository, as its container would.
 */
interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  /** A null value passes the variable through from the shell or the .env file next to the compose file, if set. */
  environment?: Record<string, string | null>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
  healthcheck?: { test: string[] };
  profiles?: string[];
  ports?: string[];
  stop_grace_period?: string;
  restart?: string;
}

const TEXT = readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8');
// Compose resolves YAML anchors and merge keys (`<<:`) before it validates: so does this.
const compose = parseYaml(TEXT, { merge: true }) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};
const services = compose.services;
const KNOWN = new Set<string>(VARIABLES.map((v) => v.name));
const EVERGREEN_SERVICES = ['secrets', 'migrate', 'worker', 'scheduler', 'board', 'api', 'demo'];
/** The long-running roles: they read the generated secrets. */
const ROLES = ['worker', 'scheduler', 'board', 'api'];
const SECRET_VARIABLES = ['EVERGREEN_ENCRYPTION_KEYS', 'EVERGREEN_ADMIN_TOKEN', 'EVERGREEN_ADMIN_PASSWORD'];
// Values this file once defaulted to: public, so never again in it.
const PUBLISHED = ['ZXZlcmdyZWVuLWRldi1rZXktbm90LWZvci1wcm9kISE=', 'change-me-development-token'];
const DOCKERFILE = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');

function composeSchemaValidator() {
  const require = createRequire(import.meta.url);
  const schemaPath = join(dirname(require.resolve('dclint/package.json')), 'schemas/compose.schema.json');
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as Record<string, unknown>;
  expect(schema.title).toBe('Compose Specification');
  // Draft 07, Ajv's default dialect; the file names it by an https URL Ajv does not know as a meta-schema id.
  expect(schema.$schema).toMatch(/json-schema\.org\/draft-07\/schema/);
  const { $schema: _dialect, ...rest } = schema;
  return new Ajv({ allErrors: true, strict: false }).compile(rest);
}

/** `${NAME:-default}` as compose interpolates it when NAME is unset. */
function interpolateDefaults(value: string): string {
  return value.replace(
    /\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-([^}]*))?\}/g,
    (_m, fallback: string | undefined) => fallback ?? '',
  );
}

/** The image's ENTRYPOINT and CMD, from the Dockerfile. */
function imageDefaults(): { entrypoint: string[]; cmd: string[] } {
  const dockerfile = DockerfileParser.parse(DOCKERFILE);
  const json = (keyword: string) =>
    JSON.parse(
      dockerfile
        .getInstructions()
        .find((i) => i.getKeyword() === keyword)!
        .getArgumentsContent()!,
    ) as string[];
  return { entrypoint: json('ENTRYPOINT'), cmd: json('CMD') };
}

/** The variables the roles' image sets (ENV of its runtime stages), which a service's environment overrides. */
function imageEnv(): Record<string, string> {
  const dockerfile = DockerfileParser.parse(DOCKERFILE);
  const env: Record<string, string> = {};
  let stage: string | undefined;
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const line = instruction.getRange().start.line;
      stage =
        dockerfile
          .getFROMs()
          .find((f) => f.getRange().start.line === line)
          ?.getBuildStage() ?? undefined;
    }
    if (instruction.getKeyword() !== 'ENV' || !['runtime-base', 'runtime'].includes(stage ?? '')) continue;
    for (const pair of instruction.getArguments().map((a) => a.getValue())) {
      const eq = pair.indexOf('=');
      if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return env;
}

/** A service's volumes as { source, target, readOnly }. */
function mountsOf(service: Service): { source: string; target: string; readOnly: boolean }[] {
  return (service.volumes ?? []).map((v) => {
    const [source, target, mode] = v.split(':');
    return { source: source!, target: target!, readOnly: mode === 'ro' };
  });
}

/** What a service's container runs: its entrypoint (or the image's) then its command (or the image's). */
function argvOf(service: Service): string[] {
  const image = imageDefaults();
  return [...(service.entrypoint ?? image.entrypoint), ...(service.command ?? (service.entrypoint ? [] : image.cmd))];
}

describe('docker-compose.yml', () => {
  it('is valid under the Compose Specification JSON schema', () => {
    const validate = composeSchemaValidator();
    const valid = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(valid).toBe(true);
  });

  it('the schema check has teeth: a misspelt key or an unknown depends_on condition is refused', () => {
    const validate = composeSchemaValidator();
    const broken = structuredClone(compose) as { services: Record<string, Record<string, unknown>> };
    broken.services.worker!.depends_on = { migrate: { condition: 'service_completed' } };
    expect(validate(broken)).toBe(false);
    const misspelt = structuredClone(compose) as { services: Record<string, Record<string, unknown>> };
    misspelt.services.worker!.depend_on = {};
    expect(validate(misspelt)).toBe(false);
  });

  it('has Postgres and Redis with healthchecks, Redis with noeviction, and an append-only file', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['api', 'board', 'demo', 'migrate', 'postgres', 'redis', 'scheduler', 'secrets', 'worker'].sort(),
    );
    expect(services.postgres!.healthcheck?.test.join(' ')).toMatch(/pg_isready/);
    expect(services.redis!.healthcheck?.test.join(' ')).toMatch(/redis-cli ping/);
    const redis = services.redis!.command!.join(' ');
    expect(redis).toMatch(/--maxmemory-policy noeviction/);
    expect(redis).toMatch(/--appendonly yes/);
    // And nothing our workers would warn about at start.
    const settings = Object.fromEntries([...redis.matchAll(/--([\w-]+) (\S+)/g)].map((m) => [m[1]!, m[2]!] as const));
    expect(adviseOnRedisSettings(settings)).toEqual([]);
  });

  it("builds one image from the Dockerfile's default target for every role, and the demo from its demo target", () => {
    const roles = EVERGREEN_SERVICES.filter((name) => name !== 'demo');
    const builds = roles.map((name) => JSON.stringify({ image: services[name]!.image, build: services[name]!.build }));
    expect(new Set(builds).size).toBe(1);
    expect(services.worker!.build).toEqual({ context: '.' });
    expect(services.worker!.image).toBeTruthy();
    for (const name of ['postgres', 'redis']) expect(services[name]!.build).toBeUndefined();
    // The production image holds no fake provider: the demo has an image of its own, built from the `demo` stage.
    expect(services.demo!.build).toEqual({ context: '.', target: 'demo' });
    expect(services.demo!.image).toBeTruthy();
    expect(services.demo!.image).not.toBe(services.worker!.image);
    const stages = DockerfileParser.parse(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'))
      .getFROMs()
      .map((f) => f.getBuildStage());
    expect(stages).toContain('demo');
    expect(stages.at(-1)).not.toBe('demo');
  });

  it('migrates once before the roles start, with two workers that get longer than the drain grace to stop', () => {
    expect(services.migrate!.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(services.migrate!.restart).toBe('no');
    for (const name of ROLES) {
      expect(services[name]!.depends_on, name).toEqual({
        secrets: { condition: 'service_completed_successfully' },
        migrate: { condition: 'service_completed_successfully' },
        postgres: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
      });
      expect(services[name]!.environment?.EVERGREEN_MIGRATE_ON_START, name).toBe('false');
      expect(services[name]!.profiles, name).toBeUndefined();
    }
    expect(services.worker!.deploy?.replicas).toBeGreaterThanOrEqual(2);
    const grace = Number(VARIABLES.find((v) => v.name === 'EVERGREEN_SHUTDOWN_GRACE_MS')!.default);
    const stop = /^(\d+)s$/.exec(services.worker!.stop_grace_period ?? '');
    expect(stop, 'stop_grace_period in seconds').not.toBeNull();
    expect(Number(stop![1]) * 1000).toBeGreaterThan(grace);
  });

  it("publishes the board on the host's loopback only, the container listening on every interface", () => {
    expect(services.board!.ports).toEqual(['127.0.0.1:3000:3000']);
    // Inside its container the board listens on every interface (the image's ENV, or the service's own), so the
    // published port reaches it; on the host, only 127.0.0.1 does.
    expect(services.board!.environment?.EVERGREEN_BOARD_HOST ?? imageEnv().EVERGREEN_BOARD_HOST).toBe('0.0.0.0');
    expect(services.api!.ports).toEqual(['127.0.0.1:3100:3100']);
    expect(services.api!.environment?.EVERGREEN_API_HOST ?? imageEnv().EVERGREEN_API_HOST).toBe('0.0.0.0');
    expect(services.demo!.profiles).toEqual(['demo']);
    expect(services.demo!.ports).toEqual(['127.0.0.1:3001:3001']);
    expect(services.demo!.command).toEqual(['--host', '0.0.0.0', '--port', '3001']);
  });

  it('publishes every port on 127.0.0.1, never on all interfaces', () => {
    const published = Object.entries(services).flatMap(([name, s]) => (s.ports ?? []).map((p) => `${name} ${p}`));
    expect(published.length).toBeGreaterThan(0);
    for (const entry of published) expect(entry).toMatch(/^\S+ 127\.0\.0\.1:\d+:\d+$/);
  });

  it('ships no usable secret: no published value, no default for a secret variable', () => {
    for (const value of PUBLISHED) expect(TEXT).not.toContain(value);
    for (const [name, service] of Object.entries(services)) {
      for (const variable of SECRET_VARIABLES) {
        const value = service.environment?.[variable];
        if (value === undefined || value === null) continue; // unset, or passed through from the user's shell/.env
        // Anything else must be required from the user, never defaulted.
        expect(value, `${name}: ${variable}`).toMatch(new RegExp(`^\\$\\{${variable}:\\?[^}]+\\}$`));
      }
    }
  });

  it('generates the key and the admin token once, in a one-shot `secrets` service, into a volume the roles read', () => {
    const secrets = services.secrets!;
    expect(secrets.restart).toBe('no');
    expect(secrets.profiles).toBeUndefined();
    expect({ image: secrets.image, build: secrets.build }).toEqual({
      image: services.worker!.image,
      build: services.worker!.build,
    });
    const argv = argvOf(secrets).slice(4);
    expect(argv.slice(0, 3)).toEqual(['secrets', 'init', '--file']);
    const file = argv[3]!;
    const dir = posix.dirname(file);
    // Written by the secrets service; only read by every role, which loads it as its env file.
    expect(mountsOf(secrets)).toContainEqual({ source: 'secrets', target: dir, readOnly: false });
    expect(Object.keys(compose.volumes ?? {})).toContain('secrets');
    for (const name of ROLES) {
      const service = services[name]!;
      expect(mountsOf(service), name).toContainEqual({ source: 'secrets', target: dir, readOnly: true });
      expect(service.environment?.EVERGREEN_ENV_FILE, name).toBe(file);
      // Values the user sets in their shell or .env still win over the file.
      for (const variable of ['EVERGREEN_ENCRYPTION_KEYS', 'EVERGREEN_ADMIN_TOKEN']) {
        expect(service.environment, `${name}: ${variable}`).toHaveProperty(variable, null);
      }
    }
    expect(secrets.environment).toHaveProperty('EVERGREEN_ENCRYPTION_KEYS', null);
    expect(secrets.environment).toHaveProperty('EVERGREEN_ADMIN_TOKEN', null);
    // A fresh named volume takes the owner of the image's directory: uid 1000 must be able to write there.
    expect(DOCKERFILE).toMatch(new RegExp(`mkdir -p ${dir}\\b[^\\n]*&& chown 1000:1000 ${dir}\\b`));
  });

  it('sets only variables that packages/config knows', () => {
    for (const name of EVERGREEN_SERVICES) {
      const unknown = Object.keys(services[name]!.environment ?? {}).filter((key) => !KNOWN.has(key));
      expect(unknown, name).toEqual([]);
    }
  });

  it('runs, in every Evergreen service, an `evergreen` CLI command or a root package script', () => {
    const commands = cliCommands();
    const scripts = Object.values(
      (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
        .scripts,
    );
    for (const name of EVERGREEN_SERVICES) {
      const argv = argvOf(services[name]!);
      expect(argv.slice(0, 3), name).toEqual(['/usr/bin/tini', '--', 'node']);
      const rest = argv.slice(3);
      if (rest[0] === 'apps/cli/bin/evergreen.mjs') {
        const words = rest.slice(1);
        expect(commands, `${name}: evergreen ${words.join(' ')}`).toContain(
          commands.find((c) => c === words.slice(0, c.split(' ').length).join(' ')),
        );
      } else {
        // `node --import tsx scripts/x.ts` is what a root script `tsx scripts/x.ts` runs.
        expect(rest.slice(0, 2), name).toEqual(['--import', 'tsx']);
        expect(scripts, name).toContain(`tsx ${rest[2]}`);
      }
    }
  });

  describe('each Evergreen service, run here as its container would run it', () => {
    const sandbox = new Sandbox();
    const demoSchema = `${sandbox.schema}_demo`;
    const demoPrefix = `${sandbox.prefix}-demo`;

    afterAll(async () => {
      await sandbox.sql.unsafe(`drop schema if exists "${demoSchema}" cascade`);
      const keys = await sandbox.redis.keys(`${demoPrefix}:*`);
      if (keys.length > 0) await sandbox.redis.del(...keys);
      await sandbox.cleanup();
    });

    // The secrets volume, here: a directory of this test's.
    const volume = mkdtempSync(join(tmpdir(), 'evergreen-compose-secrets-'));
    afterAll(() => rmSync(volume, { recursive: true, force: true }));
    /** The file the `secrets` service writes (its `--file`), and the directory its volume is mounted on. */
    const secretsFile = () => argvOf(services.secrets ?? {}).at(-1)!;
    const here = (path: string) => {
      const mount = posix.dirname(secretsFile());
      return path.startsWith(`${mount}/`) ? join(volume, path.slice(mount.length)) : path;
    };

    /**
     * The service's environment as its container gets it: the image's ENV (NODE_ENV=production), then the service's
     * own with compose's defaults (nothing passed through: a new user's shell sets none of them), pointed at this
     * test's Postgres, Redis, secrets volume and free ports, all on loopback.
     */
    function envOf(service: Service): Record<string, string> {
      const env = Object.fromEntries(
        Object.entries(service.environment ?? {})
          .filter(([, v]) => v !== null)
          .map(([k, v]) => [k, here(interpolateDefaults(String(v)))]),
      );
      const { EVERGREEN_ENCRYPTION_KEYS: _generated, EVERGREEN_ENV_FILE: _none, ...stack } = sandbox.env();
      return {
        EVERGREEN_ENV_FILE: 'none',
        ...imageEnv(),
        ...env,
        ...stack,
        EVERGREEN_OPS_PORT: '0',
        EVERGREEN_OPS_HOST: '127.0.0.1',
        EVERGREEN_BOARD_PORT: '0',
        EVERGREEN_BOARD_HOST: '127.0.0.1',
      };
    }

    const local = (argv: string[]) => argv.slice(2); // without tini, which only forwards signals

    it('secrets: writes a key and an admin token, readable by uid 1000 only, once', { timeout: 60_000 }, async () => {
      const argv = local(argvOf(services.secrets!)).map(here);
      const first = await runCommand(argv, envOf(services.secrets!));
      expect(first.code, first.output).toBe(0);
      const file = here(secretsFile());
      expect((statSync(file).mode & 0o777).toString(8)).toBe('600');
      const written = readFileSync(file, 'utf8');
      const values = parseEnv(written);
      expect(Keyring.parse(values.EVERGREEN_ENCRYPTION_KEYS).currentKeyId).toBeTruthy();
      expect(values.EVERGREEN_ADMIN_TOKEN!.length).toBeGreaterThanOrEqual(16);
      // Nothing secret in its output (docker compose logs).
      expect(first.output).not.toContain(values.EVERGREEN_ADMIN_TOKEN);
      expect(first.output).not.toContain(values.EVERGREEN_ENCRYPTION_KEYS!.split(':')[1]);
      // The next `docker compose up` keeps them: the key decrypts what is stored.
      const again = await runCommand(argv, envOf(services.secrets!));
      expect(again.code, again.output).toBe(0);
      expect(readFileSync(file, 'utf8')).toBe(written);
    });

    it('migrate: `evergreen db migrate` applies the migrations and exits 0', { timeout: 120_000 }, async () => {
      const run = await runCommand(local(argvOf(services.migrate!)), envOf(services.migrate!));
      expect(run.code, run.output).toBe(0);
      expect(JSON.parse(run.output)).toEqual({ migrated: sandbox.schema });
    });

    for (const [name, ready] of [
      ['worker', /"msg":"started"/],
      ['scheduler', /"msg":"started"/],
      ['board', /"msg":"board listening"/],
      ['api', /"msg":"api listening"/],
    ] as const) {
      it(`${name}: starts, then drains and exits 0 on SIGTERM`, { timeout: 120_000 }, async () => {
        const run = await runCommand(local(argvOf(services[name]!)), envOf(services[name]!), { ready });
        expect(run.readyAt, run.output).not.toBeNull();
        expect({ code: run.code, signal: run.signal }, run.output).toEqual({ code: 0, signal: null });
      });
    }

    it('demo: prints its banner, then exits 0 on SIGTERM', { timeout: 120_000 }, async () => {
      const argv = local(argvOf(services.demo!)).map((arg, i, all) =>
        all[i - 1] === '--port' ? '0' : all[i - 1] === '--host' ? '127.0.0.1' : arg,
      );
      const run = await runCommand(
        [...argv, '--schema', demoSchema, '--prefix', demoPrefix],
        { PATH: process.env.PATH ?? '', EVERGREEN_ENV_FILE: 'none', ...envOf(services.demo!) },
        { ready: /^ *admin token +\S+$/m, timeoutMs: 60_000 },
      );
      expect(run.readyAt, run.output).not.toBeNull();
      expect(run.output).toMatch(/operator API +http:\/\/127\.0\.0\.1:\d+\/api/);
      expect({ code: run.code, signal: run.signal }, run.output).toEqual({ code: 0, signal: null });
    });
  });
});
