import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { VARIABLES } from '@evergreen/config';
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
  environment?: Record<string, string>;
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
const compose = parseYaml(TEXT, { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const KNOWN = new Set<string>(VARIABLES.map((v) => v.name));
const EVERGREEN_SERVICES = ['migrate', 'worker', 'scheduler', 'board', 'demo'];

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
  const dockerfile = DockerfileParser.parse(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'));
  const json = (keyword: string) =>
    JSON.parse(
      dockerfile
        .getInstructions()
        .find((i) => i.getKeyword() === keyword)!
        .getArgumentsContent()!,
    ) as string[];
  return { entrypoint: json('ENTRYPOINT'), cmd: json('CMD') };
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
      ['board', 'demo', 'migrate', 'postgres', 'redis', 'scheduler', 'worker'].sort(),
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
    for (const name of ['worker', 'scheduler', 'board']) {
      expect(services[name]!.depends_on, name).toEqual({
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

  it('publishes the board on 3000, listening on every interface, and the demo only under the demo profile', () => {
    expect(services.board!.ports).toEqual(['3000:3000']);
    expect(services.board!.environment?.EVERGREEN_BOARD_HOST).toBe('0.0.0.0');
    expect(services.board!.environment?.EVERGREEN_ADMIN_TOKEN).toBeTruthy();
    expect(services.demo!.profiles).toEqual(['demo']);
    expect(services.demo!.ports).toEqual(['3001:3001']);
    expect(services.demo!.command).toEqual(['--host', '0.0.0.0', '--port', '3001']);
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

    /** The service's environment with compose's defaults, pointed at this test's Postgres, Redis and free ports. */
    function envOf(service: Service): Record<string, string> {
      const env = Object.fromEntries(
        Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolateDefaults(String(v))]),
      );
      return {
        ...env,
        ...sandbox.env(),
        EVERGREEN_OPS_PORT: '0',
        EVERGREEN_BOARD_PORT: '0',
        EVERGREEN_BOARD_HOST: '127.0.0.1',
        // The compose file's development key is a valid key: use it, as the containers do.
        ...(env.EVERGREEN_ENCRYPTION_KEYS && { EVERGREEN_ENCRYPTION_KEYS: env.EVERGREEN_ENCRYPTION_KEYS }),
      };
    }

    const local = (argv: string[]) => argv.slice(2); // without tini, which only forwards signals

    it('migrate: `evergreen db migrate` applies the migrations and exits 0', { timeout: 120_000 }, async () => {
      const run = await runCommand(local(argvOf(services.migrate!)), envOf(services.migrate!));
      expect(run.code, run.output).toBe(0);
      expect(JSON.parse(run.output)).toEqual({ migrated: sandbox.schema });
    });

    for (const [name, ready] of [
      ['worker', /"msg":"started"/],
      ['scheduler', /"msg":"started"/],
      ['board', /"msg":"board listening"/],
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
