import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { loadConfig, parseProviders, VARIABLES } from '@evergreen/config';
import { ConfigError } from '@evergreen/core';
import { createRedis, queueName, RefreshQueues } from '@evergreen/queue';
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@evergreen/test-support/processes';
import { cliCommands } from '@evergreen/test-support/repo-commands';
import { Sandbox } from '@evergreen/test-support/sandbox';

/**
 * infra/k8s, checked offline: every manifest against the Kubernetes (and KEDA) JSON schemas that kubernetes-models
 * bundles, the kustomizations against their directories, and the references between objects (labels and selectors,
 * probes and ports, grace periods and config, Secret and ConfigMap names, the KEDA trigger and BullMQ's keys).
 */
const K8S = join(REPO_ROOT, 'infra/k8s');
const COMPONENTS = ['autoscaling/keda', 'autoscaling/hpa'];

// The schema each kind is validated against: an unknown kind fails the test rather than going unchecked.
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
};

/**
 * Every property name the bundled schemas know. The Kubernetes OpenAPI schemas accept unknown fields (the API server
 * drops them), so a misspelt key such as `readinesProbe` would pass them: this catches that.
 */
const KNOWN_FIELDS = (() => {
  const require = createRequire(import.meta.url);
  const models = dirname(require.resolve('kubernetes-models/package.json'));
  // ObjectMeta and friends live in the apimachinery package that kubernetes-models depends on.
  const apimachinery = dirname(
    createRequire(join(models, 'index.js')).resolve('@kubernetes-models/apimachinery/package.json'),
  );
  const names = new Set<string>();
  for (const root of [models, apimachinery, dirname(require.resolve('@kubernetes-models/keda/package.json'))]) {
    const dir = join(root, '_schemas');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
      for (const m of readFileSync(join(dir, file), 'utf8').matchAll(/data\.([A-Za-z_$][\w$]*)|data\["([^"]+)"\]/g)) {
        names.add((m[1] ?? m[2])!);
      }
    }
  }
  return names;
})();
/** Maps whose keys are the user's, not the schema's. */
const FREE_MAPS = new Set([
  'labels',
  'annotations',
  'data',
  'stringData',
  'matchLabels',
  'selector',
  'metadata',
  'requests',
  'limits',
]);

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // The manifests' own shape, read loosely: the schemas have already checked it.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}
interface Kustomization {
  kind: string;
  resources: string[];
  namespace?: string;
  patches?: { target: { kind: string; name: string }; patch: string }[];
}

function load(dir: string): { kustomization: Kustomization; files: string[]; objects: K8sObject[] } {
  const kustomization = parseYaml(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Kustomization;
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
  const objects = kustomization.resources.flatMap((file) =>
    parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((d) => d.toJS() as K8sObject),
  );
  return { kustomization, files, objects };
}

const base = load(K8S);
const components = Object.fromEntries(COMPONENTS.map((c) => [c, load(join(K8S, c))]));
const all = [...base.objects, ...Object.values(components).flatMap((c) => c.objects)];
const find = (kind: string, name: string, objects = all) => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  expect(found, `${kind}/${name}`).toBeDefined();
  return found!;
};
const config = find('ConfigMap', 'evergreen-config').data!;
const secret = find('Secret', 'evergreen-secrets').stringData!;
const providersFile = find('ConfigMap', 'evergreen-providers').data!;
const variable = (name: string) => config[name] ?? VARIABLES.find((v) => v.name === name)!.default!;
const KNOWN = new Set<string>(VARIABLES.map((v) => v.name));
const deployments = base.objects.filter((o) => o.kind === 'Deployment');
const workloads = base.objects.filter((o) => o.kind === 'Deployment' || o.kind === 'Job');
const podOf = (o: K8sObject) => o.spec.template;
const containerOf = (o: K8sObject) => podOf(o).spec.containers[0];
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

function validateObject(o: K8sObject): void {
  const Model = MODELS[`${o.apiVersion}/${o.kind}`];
  expect(Model, `a schema for ${o.apiVersion} ${o.kind}`).toBeDefined();
  new Model!(o as never).validate();
}

function unknownFields(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => unknownFields(v, `${path}[${i}]`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, v]) => {
    const here = path ? `${path}.${key}` : key;
    if (['apiVersion', 'kind'].includes(key)) return [];
    const own = KNOWN_FIELDS.has(key) ? [] : [here];
    // Trigger metadata are the scaler's parameters (strings), free-form as far as the CRD schema goes.
    const free = FREE_MAPS.has(key) && !(key === 'metadata' && path === '');
    return free ? own : [...own, ...unknownFields(v, here)];
  });
}

describe('infra/k8s', () => {
  it('kustomization.yaml lists every manifest of the base, and each component every file of its directory', () => {
    expect(base.kustomization.kind).toBe('Kustomization');
    expect([...base.kustomization.resources].sort()).toEqual([...base.files].sort());
    for (const [name, component] of Object.entries(components)) {
      expect(component.kustomization.kind, name).toBe('Component');
      expect([...component.kustomization.resources].sort(), name).toEqual([...component.files].sort());
      expect(component.kustomization.namespace, name).toBe(base.kustomization.namespace);
      // Both hand the worker's replica count to their autoscaler.
      expect(component.kustomization.patches, name).toEqual([
        expect.objectContaining({ target: expect.objectContaining({ kind: 'Deployment', name: 'evergreen-worker' }) }),
      ]);
      expect(component.kustomization.patches![0]!.patch).toMatch(/op: remove\s+path: \/spec\/replicas/);
    }
    // Nothing stray in autoscaling/ either.
    expect(readdirSync(join(K8S, 'autoscaling')).sort()).toEqual(['hpa', 'keda']);
  });

  it('every manifest is valid under the Kubernetes and KEDA schemas, with no unknown field name', () => {
    expect(all.length).toBeGreaterThanOrEqual(13);
    for (const o of all) {
      expect(() => validateObject(o), `${o.kind}/${o.metadata.name}`).not.toThrow();
      expect(unknownFields(o), `${o.kind}/${o.metadata.name}`).toEqual([]);
    }
  });

  it('the schema checks have teeth', () => {
    const worker = structuredClone(find('Deployment', 'evergreen-worker'));
    worker.spec.template.spec.containers[0].ports[0].containerPort = 'ops';
    expect(() => validateObject(worker)).toThrow(/containerPort/);
    const scaled = structuredClone(find('ScaledObject', 'evergreen-worker'));
    scaled.spec.triggers[0].metadata.listLength = 64;
    expect(() => validateObject(scaled)).toThrow(/listLength/);
    const typo = structuredClone(find('Deployment', 'evergreen-worker'));
    typo.spec.template.spec.containers[0].readinesProbe = typo.spec.template.spec.containers[0].readinessProbe;
    expect(unknownFields(typo)).toEqual(['spec.template.spec.containers[0].readinesProbe']);
  });

  it('each workload selects its own pods, runs an `evergreen` CLI command, and names a ConfigMap and Secret that exist', () => {
    const commands = cliCommands();
    const pods = workloads.map((w) => ({ name: w.metadata.name, labels: podOf(w).metadata.labels }));
    for (const w of workloads) {
      const labels = podOf(w).metadata.labels as Record<string, string>;
      if (w.kind === 'Deployment') {
        expect(w.spec.selector.matchLabels, w.metadata.name).toEqual(labels);
        // ... and no other workload's pods.
        const selected = pods.filter((p) => matches(w.spec.selector.matchLabels, p.labels)).map((p) => p.name);
        expect(selected, w.metadata.name).toEqual([w.metadata.name]);
      }
      const container = containerOf(w);
      expect(container.image, w.metadata.name).toBe('evergreen');
      expect(commands, `${w.metadata.name}: evergreen ${container.args.join(' ')}`).toContain(container.args.join(' '));
      const refs = container.envFrom.map((e: { configMapRef?: { name: string }; secretRef?: { name: string } }) =>
        e.configMapRef ? `ConfigMap/${e.configMapRef.name}` : `Secret/${e.secretRef!.name}`,
      );
      expect(refs, w.metadata.name).toEqual(['ConfigMap/evergreen-config', 'Secret/evergreen-secrets']);
      for (const volume of podOf(w).spec.volumes ?? []) {
        if (volume.configMap) find('ConfigMap', volume.configMap.name, base.objects);
      }
      for (const e of container.env ?? []) expect(KNOWN.has(e.name), e.name).toBe(true);
    }
    expect(workloads.map((w) => containerOf(w).args.join(' ')).sort()).toEqual(
      ['board', 'db migrate', 'scheduler', 'worker'].sort(),
    );
  });

  it('the worker: two or more replicas, a PodDisruptionBudget over its pods only, probes on the ops port', () => {
    const worker = find('Deployment', 'evergreen-worker');
    expect(worker.spec.replicas).toBeGreaterThanOrEqual(2);
    const pdb = find('PodDisruptionBudget', 'evergreen-worker');
    const selected = workloads.filter((w) => matches(pdb.spec.selector.matchLabels, podOf(w).metadata.labels));
    expect(selected.map((w) => w.metadata.name)).toEqual(['evergreen-worker']);
    expect(pdb.spec.maxUnavailable ?? worker.spec.replicas - pdb.spec.minAvailable).toBeLessThan(worker.spec.replicas);

    const container = containerOf(worker);
    const ops = container.ports.find((p: { name: string }) => p.name === 'ops');
    expect(ops.containerPort).toBe(Number(variable('EVERGREEN_OPS_PORT')));
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'ops' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'ops' });
    for (const d of deployments) {
      const c = containerOf(d);
      for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe]) {
        const port = probe.httpGet.port;
        expect(
          c.ports.some((p: { name: string; containerPort: number }) => p.name === port || p.containerPort === port),
          `${d.metadata.name}: probe port ${port} is declared`,
        ).toBe(true);
      }
    }
  });

  it('gives the worker longer to stop than EVERGREEN_SHUTDOWN_GRACE_MS, and resources', () => {
    const worker = find('Deployment', 'evergreen-worker');
    const grace = Number(variable('EVERGREEN_SHUTDOWN_GRACE_MS'));
    expect(podOf(worker).spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(grace + 5_000);
    for (const w of workloads) {
      const { resources } = containerOf(w);
      expect(resources.requests.cpu, w.metadata.name).toBeTruthy();
      expect(resources.requests.memory, w.metadata.name).toBeTruthy();
      expect(resources.limits.memory, w.metadata.name).toBeTruthy();
    }
  });

  it("runs every pod as the image's non-root user on a read-only root filesystem, with a writable /tmp", () => {
    const dockerUser = /^USER (\d+)(?::(\d+))?$/m.exec(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'))!;
    for (const w of workloads) {
      const pod = podOf(w).spec;
      expect(pod.securityContext, w.metadata.name).toMatchObject({
        runAsNonRoot: true,
        runAsUser: Number(dockerUser[1]),
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.automountServiceAccountToken, w.metadata.name).toBe(false);
      const container = containerOf(w);
      expect(container.securityContext, w.metadata.name).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      // tsx writes its compile cache under /tmp.
      const tmp = container.volumeMounts.find((m: { mountPath: string }) => m.mountPath === '/tmp');
      expect(tmp, w.metadata.name).toBeDefined();
      expect(pod.volumes.find((v: { name: string }) => v.name === tmp.name).emptyDir, w.metadata.name).toBeDefined();
    }
  });

  it('mounts the providers file where EVERGREEN_PROVIDERS says, in every role that needs it', () => {
    const path = variable('EVERGREEN_PROVIDERS');
    for (const d of deployments) {
      const container = containerOf(d);
      const mount = container.volumeMounts.find((m: { mountPath: string }) => path.startsWith(`${m.mountPath}/`));
      expect(mount, d.metadata.name).toBeDefined();
      const volume = podOf(d).spec.volumes.find((v: { name: string }) => v.name === mount.name);
      expect(volume.configMap.name).toBe('evergreen-providers');
      expect(Object.keys(providersFile)).toContain(path.slice(mount.mountPath.length + 1));
    }
  });

  it('the board: a Service over its pods only, on its declared port, listening on every interface', () => {
    const board = find('Deployment', 'evergreen-board');
    const service = find('Service', 'evergreen-board');
    const selected = workloads.filter((w) => matches(service.spec.selector, podOf(w).metadata.labels));
    expect(selected.map((w) => w.metadata.name)).toEqual(['evergreen-board']);
    const container = containerOf(board);
    const env = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(env.EVERGREEN_BOARD_HOST).toBe('0.0.0.0');
    const target = container.ports.find((p: { name: string }) => p.name === service.spec.ports[0].targetPort);
    expect(target.containerPort).toBe(Number(env.EVERGREEN_BOARD_PORT));
    const scheduler = find('Deployment', 'evergreen-scheduler');
    expect(scheduler.spec.replicas).toBeGreaterThanOrEqual(1);
  });

  it("every role's ops port listens on the pod's interfaces, where the kubelet's probes and Prometheus reach it", () => {
    // Its default is loopback (outside containers); the ConfigMap says it for every pod, whatever the image sets.
    expect(VARIABLES.find((v) => v.name === 'EVERGREEN_OPS_HOST')!.default).toBe('127.0.0.1');
    expect(config.EVERGREEN_OPS_HOST).toBe('0.0.0.0');
  });

  it('with NODE_ENV=production, as the image sets, the example Secret stops every role at start, not only the board', () => {
    for (const board of [false, true]) {
      let error: unknown;
      try {
        loadConfig({ ...config, ...secret, NODE_ENV: 'production' }, { board });
      } catch (e) {
        error = e;
      }
      expect(error, `board: ${board}`).toBeInstanceOf(ConfigError);
      expect(
        (error as ConfigError).issues.map((i) => i.field),
        `board: ${board}`,
      ).toEqual(expect.arrayContaining(['EVERGREEN_ENCRYPTION_KEYS[0]', 'EVERGREEN_ADMIN_TOKEN']));
      expect((error as Error).message).not.toContain('REPLACE-ME');
    }
  });

  it('the ConfigMap and Secret hold only known variables (and what the providers file reads), the Secret only placeholders', () => {
    for (const key of Object.keys(config)) expect(KNOWN.has(key), key).toBe(true);
    const providerVars = new Set(
      [...providersFile['providers.yaml']!.matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((m) => m[1]),
    );
    for (const key of Object.keys(secret)) expect(KNOWN.has(key) || providerVars.has(key), key).toBe(true);
    for (const name of providerVars) expect(Object.keys(secret), `${name} is in the Secret`).toContain(name);
    expect(Object.keys(secret)).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'EVERGREEN_ENCRYPTION_KEYS', 'EVERGREEN_ADMIN_TOKEN']),
    );
    for (const [key, value] of Object.entries(secret)) expect(value, key).toMatch(/REPLACE-ME/);
    // Placeholders that cannot run by accident: no valid key, and an admin token below the board's 16 characters.
    expect(() => parseProviders(parseYaml(providersFile['providers.yaml']!), secret)).not.toThrow();
    expect(parseProviders(parseYaml(providersFile['providers.yaml']!), secret).issues).toEqual([]);
    expect(secret.EVERGREEN_ENCRYPTION_KEYS).not.toMatch(/:/);
    expect(secret.EVERGREEN_ADMIN_TOKEN!.length).toBeLessThan(16);
  });

  describe('autoscaling/keda', () => {
    const sandbox = new Sandbox();
    afterAll(() => sandbox.cleanup());
    const scaled = find('ScaledObject', 'evergreen-worker');

    it('scales the worker Deployment, never below two (workers are what promote due jobs)', () => {
      expect(scaled.spec.scaleTargetRef).toEqual({ name: 'evergreen-worker' });
      expect(scaled.spec.minReplicaCount).toBeGreaterThanOrEqual(2);
      expect(scaled.spec.maxReplicaCount).toBeGreaterThan(scaled.spec.minReplicaCount);
    });

    it("watches each provider queue's BullMQ wait list, authenticated by a TriggerAuthentication that exists", () => {
      const { providers, issues } = parseProviders(parseYaml(providersFile['providers.yaml']!), secret);
      expect(issues).toEqual([]);
      const prefix = variable('EVERGREEN_REDIS_PREFIX');
      const triggers = scaled.spec.triggers as {
        type: string;
        metadata: Record<string, string>;
        authenticationRef: { name: string };
      }[];
      expect(triggers.map((t) => t.metadata.listName).sort()).toEqual(
        providers.map((p) => `${prefix}:${queueName(p.id)}:wait`).sort(),
      );
      const keda = components['autoscaling/keda']!.objects;
      for (const t of triggers) {
        expect(t.type).toBe('redis');
        expect(Number(t.metadata.listLength)).toBeGreaterThan(0);
        const auth = find('TriggerAuthentication', t.authenticationRef.name, keda);
        for (const ref of auth.spec.secretTargetRef as { parameter: string; name: string; key: string }[]) {
          expect(Object.keys(find('Secret', ref.name, keda).stringData!)).toContain(ref.key);
        }
      }
    });

    it('the list it watches holds the jobs that are due and not yet taken, not the delayed ones', async () => {
      const redis = createRedis(sandbox.redisUrl, 'worker');
      const queues = new RefreshQueues(redis, sandbox.prefix);
      try {
        const listName = (scaled.spec.triggers[0].metadata.listName as string).replace(
          `${variable('EVERGREEN_REDIS_PREFIX')}:`,
          `${sandbox.prefix}:`,
        );
        const provider = /:refresh-([^:]+):wait$/.exec(listName)![1]!;
        await queues.schedule(provider, 'due-now', Date.now());
        await queues.schedule(provider, 'due-later', Date.now() + 3_600_000);
        expect(await sandbox.redis.type(listName)).toBe('list');
        expect(await sandbox.redis.llen(listName)).toBe(1);
        expect(await sandbox.redis.zcard(listName.replace(/:wait$/, ':delayed'))).toBe(1);
      } finally {
        await queues.close();
        redis.disconnect();
      }
    });
  });

  it('autoscaling/hpa: scales the worker Deployment on CPU, never below two', () => {
    const hpa = find('HorizontalPodAutoscaler', 'evergreen-worker');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'evergreen-worker' });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.metrics).toEqual([
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: expect.any(Number) } },
      },
    ]);
  });

  // kustomize itself, where kubectl is installed (it is not part of the project's toolchain).
  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
  describe.skipIf(!kubectl)('rendered by kubectl kustomize', () => {
    const dirs: string[] = [];
    afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

    const render = (component: string | null): K8sObject[] => {
      let target = K8S;
      if (component) {
        // An overlay as a user writes one (kustomize wants relative paths).
        target = mkdtempSync(join(tmpdir(), 'evergreen-overlay-'));
        dirs.push(target);
        writeFileSync(
          join(target, 'kustomization.yaml'),
          `resources:\n  - ${relative(target, K8S)}\ncomponents:\n  - ${relative(target, join(K8S, component))}\n`,
        );
      }
      const result = spawnSync('kubectl', ['kustomize', target], { encoding: 'utf8' });
      expect(result.status, result.stderr).toBe(0);
      return parseAllDocuments(result.stdout).map((d) => d.toJS() as K8sObject);
    };

    for (const component of [null, ...COMPONENTS]) {
      it(`${component ?? 'the base'}: renders, every object valid and in the evergreen namespace`, () => {
        const objects = render(component);
        for (const o of objects) {
          expect(() => validateObject(o), `${o.kind}/${o.metadata.name}`).not.toThrow();
          if (o.kind !== 'Namespace') expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe('evergreen');
          expect(o.metadata.labels?.['app.kubernetes.io/part-of']).toBe('evergreen');
        }
        const worker = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'evergreen-worker')!;
        // With an autoscaler the Deployment leaves the replica count to it.
        expect(worker.spec.replicas).toBe(component ? undefined : 2);
      });
    }
  });
});
