import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { environmentVariables, metricsPort, migrateOnStart, shutdownTimeoutMs } from '@civic/common/config';
import {
  loadConfig,
  SUBGRAPHS as CATALOG,
  SUBGRAPH_NAMES as SUBGRAPHS,
  type SubgraphName,
} from '@civic/subgraphs/catalog';

/*
 * deploy/kubernetes/ restates what the code decides (ports, variable names, health paths, the npm scripts, the
 * image's user and build), as docker-compose.yml does (test/unit/docker-compose.test.ts). There is no cluster and
 * no kustomize in CI, so these tests read the kustomizations and manifests themselves, follow the references
 * (resources, generated ConfigMaps and Secrets, images), and check them against common/src/config.ts,
 * package.json and the Dockerfile: a broken reference or a setting the services would refuse fails here
 * instead of at `kubectl apply`.
 */

const ROOT = join(__dirname, '..', '..');
const KUBE = join(ROOT, 'deploy', 'kubernetes');
const BASE = join(KUBE, 'base');
const EXAMPLE = join(KUBE, 'overlays', 'example');
const read = (file: string) => readFileSync(file, 'utf8');
const scripts = (JSON.parse(read(join(ROOT, 'package.json'))) as { scripts: Record<string, string> }).scripts;
const dockerfile = read(join(ROOT, 'Dockerfile'));
const CONFIG_VARIABLES = environmentVariables(CATALOG);

// ---- the shapes read here (only the fields the tests look at) ----

interface Probe {
  httpGet?: { path?: string; port?: string | number };
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: { name: string; key: string };
  };
}
interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    runAsNonRoot?: boolean;
    capabilities?: { drop?: string[] };
  };
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command?: string[] }; sleep?: { seconds: number } } };
}
interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    containers: Container[];
    restartPolicy?: string;
    terminationGracePeriodSeconds?: number;
    securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  };
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
}
interface Generator {
  name: string;
  literals?: string[];
  envs?: string[];
}
interface Kustomization {
  resources?: string[];
  configMapGenerator?: Generator[];
  secretGenerator?: Generator[];
  images?: { name: string; newName?: string; newTag?: string }[];
  patches?: { target?: { kind?: string; name?: string }; path?: string; patch?: string }[];
}

// ---- reading a kustomization the way kustomize does (what these manifests use of it) ----

/** `KEY=VALUE` lines (kustomize's env files and literals): comments and blank lines skipped. */
function envLines(lines: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines.map((l) => l.trim())) {
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`not KEY=VALUE: ${line}`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

interface Built {
  /** Every kustomization.yaml read, and every file it names (resources, generators' env files, patches). */
  files: string[];
  manifests: Manifest[];
  configMaps: Map<string, Record<string, string>>;
  secrets: Map<string, Record<string, string>>;
  kustomizations: Map<string, Kustomization>;
}

/** Every YAML document of a file, failing on a syntax error (kustomize would). */
function documents(file: string): unknown[] {
  return parseAllDocuments(read(file)).map((doc) => {
    if (doc.errors.length) throw new Error(`${relative(ROOT, file)}: ${doc.errors[0].message}`);
    return doc.toJS() as unknown;
  });
}

/** Reads `dir`/kustomization.yaml and, depth first, the kustomizations it names as resources. */
function build(dir: string, into?: Built): Built {
  const out: Built = into ?? {
    files: [],
    manifests: [],
    configMaps: new Map(),
    secrets: new Map(),
    kustomizations: new Map(),
  };
  const file = join(dir, 'kustomization.yaml');
  if (!existsSync(file)) throw new Error(`${relative(ROOT, dir)}: no kustomization.yaml`);
  const k = documents(file)[0] as Kustomization;
  out.files.push(file);
  out.kustomizations.set(relative(KUBE, dir), k);
  const must = (path: string, what: string) => {
    if (!existsSync(path))
      throw new Error(`${relative(ROOT, file)}: ${what} ${relative(dir, path)} does not exist`);
    return path;
  };
  for (const resource of k.resources ?? []) {
    const path = must(join(dir, resource), 'resource');
    if (statSync(path).isDirectory()) build(path, out);
    else {
      out.files.push(path);
      out.manifests.push(...(documents(path) as Manifest[]));
    }
  }
  const generate = (gens: Generator[] | undefined, to: Map<string, Record<string, string>>) => {
    for (const g of gens ?? []) {
      const data = envLines(g.literals ?? []);
      for (const env of g.envs ?? []) {
        const path = must(join(dir, env), 'env file');
        out.files.push(path);
        Object.assign(data, envLines(read(path).split('\n')));
      }
      to.set(g.name, { ...to.get(g.name), ...data });
    }
  };
  generate(k.configMapGenerator, out.configMaps);
  generate(k.secretGenerator, out.secrets);
  for (const p of k.patches ?? []) if (p.path) out.files.push(must(join(dir, p.path), 'patch'));
  return out;
}

const base = build(BASE);
const example = build(EXAMPLE);

const byKind = (kind: string) => base.manifests.filter((m) => m.kind === kind);
const named = (kind: string, name: string) => {
  const found = byKind(kind).find((m) => m.metadata.name === name);
  if (!found) throw new Error(`deploy/kubernetes/base has no ${kind} ${name}`);
  return found;
};
const templateOf = (m: Manifest) => m.spec?.template as PodTemplate;
const onlyContainer = (m: Manifest) => {
  const containers = templateOf(m).spec.containers;
  expect(containers).toHaveLength(1);
  return containers[0];
};
/** Whether a label selector (matchLabels, or a Service's plain map) selects pods with these labels. */
const selects = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

const SERVICES = ['gateway', ...SUBGRAPHS] as const;
type ServiceName = (typeof SERVICES)[number];
const deploymentName = (service: ServiceName) => `civic-${service}`;
const MIGRATE_JOB = 'civic-migrate';
const envName = (name: SubgraphName) => name.toUpperCase();

/**
 * The variables that carry a credential: database and Redis URLs (user and password in them) and the signing
 * secrets. They may reach a container only through a Secret (secretKeyRef).
 */
const SECRET_VARIABLES = CONFIG_VARIABLES.filter((n) =>
  /DATABASE_URL$|^REDIS_URL$|^SUBGRAPH_SECRET_/.test(n),
);

/** The variables the image itself sets (ENV in the Dockerfile's last stage): Node's and npm's, not config.ts's. */
const IMAGE_VARIABLES = (() => {
  const runtime = dockerfile.split(/^FROM\s+\S+\s*$/m).pop() ?? '';
  const env = /^ENV\s+((?:.*\\\n)*.*)$/m.exec(runtime)?.[1] ?? '';
  return [...env.matchAll(/([A-Z_][A-Z0-9_]*)=/g)].map((m) => m[1]);
})();

/**
 * A container's environment as the service would see it: its ConfigMaps (envFrom), its own values, and its
 * Secrets' values taken from the example overlay (placeholders, but of the right form). Throws on a reference to
 * a ConfigMap, Secret or key that nothing generates.
 */
function environment(container: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) {
      const data = base.configMaps.get(from.configMapRef.name);
      if (!data) throw new Error(`${container.name}: no ConfigMap ${from.configMapRef.name}`);
      Object.assign(env, data);
    }
  }
  for (const v of container.env ?? []) {
    const secret = v.valueFrom?.secretKeyRef;
    const config = v.valueFrom?.configMapKeyRef;
    if (secret) {
      const value = example.secrets.get(secret.name)?.[secret.key];
      if (value === undefined)
        throw new Error(`${container.name}: ${v.name}: no Secret ${secret.name} key ${secret.key}`);
      env[v.name] = value;
    } else if (config) {
      const value = base.configMaps.get(config.name)?.[config.key];
      if (value === undefined)
        throw new Error(`${container.name}: ${v.name}: no ConfigMap ${config.name} key ${config.key}`);
      env[v.name] = value;
    } else {
      env[v.name] = v.value ?? '';
    }
  }
  return env;
}

/** The container port a probe or a Service names (a name or a number). */
function portNumber(container: Container, port: string | number | undefined): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

/** Kubernetes quantities of memory (Mi, Gi, M, G, plain bytes) in MiB. */
function mebibytes(quantity: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(quantity);
  if (!m) throw new Error(`not a memory quantity: ${quantity}`);
  const factor: Record<string, number> = {
    Ki: 1 / 1024,
    Mi: 1,
    Gi: 1024,
    K: 1e3 / 2 ** 20,
    M: 1e6 / 2 ** 20,
    G: 1e9 / 2 ** 20,
  };
  return Number(m[1]) * (m[2] ? factor[m[2]] : 1 / 2 ** 20);
}

/** The seconds a preStop hook waits (`sleep N` or the sleep action), 0 without one. */
function preStopSeconds(container: Container): number {
  const preStop = container.lifecycle?.preStop;
  if (preStop?.sleep) return preStop.sleep.seconds;
  const command = preStop?.exec?.command ?? [];
  return command[0] === 'sleep' ? Number(command[1]) : 0;
}

// ---- the tests ----

describe('deploy/kubernetes: the kustomizations', () => {
  it('name only files that exist, and every manifest under deploy/kubernetes is named by one', () => {
    const named = new Set([...base.files, ...example.files]);
    const onDisk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory()
          ? onDisk(join(dir, e.name))
          : /\.(ya?ml|env)$/.test(e.name)
            ? [join(dir, e.name)]
            : [],
      );
    expect(
      onDisk(KUBE)
        .filter((f) => !named.has(f))
        .map((f) => relative(ROOT, f)),
    ).toEqual([]);
  });

  it('parse into objects Kubernetes knows, each named once', () => {
    const versions: Record<string, string> = {
      Deployment: 'apps/v1',
      Service: 'v1',
      Job: 'batch/v1',
      HorizontalPodAutoscaler: 'autoscaling/v2',
      PodDisruptionBudget: 'policy/v1',
      Namespace: 'v1',
    };
    // The example overlay builds on the base: its manifests are the base's and its own.
    const all = example.manifests;
    for (const m of all) {
      expect({ kind: m.kind, apiVersion: m.apiVersion }).toEqual({
        kind: m.kind,
        apiVersion: versions[m.kind],
      });
      expect(m.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
    const ids = all.map((m) => `${m.kind}/${m.metadata.name}`);
    expect(ids.length).toBe(new Set(ids).size);
  });

  it('has a Deployment and a Service for the gateway and each catalog subgraph, and the migrate Job', () => {
    expect(
      byKind('Deployment')
        .map((m) => m.metadata.name)
        .sort(),
    ).toEqual(SERVICES.map(deploymentName).sort());
    expect(byKind('Job').map((m) => m.metadata.name)).toEqual([MIGRATE_JOB]);
    expect(byKind('Service')).toHaveLength(SERVICES.length);
  });

  it('keeps secrets out of ConfigMaps, and every ConfigMap key is a variable config.ts accepts', () => {
    for (const [name, data] of base.configMaps) {
      expect({ name, secrets: Object.keys(data).filter((k) => SECRET_VARIABLES.includes(k)) }).toEqual({
        name,
        secrets: [],
      });
      expect({ name, unknown: Object.keys(data).filter((k) => !CONFIG_VARIABLES.includes(k)) }).toEqual({
        name,
        unknown: [],
      });
      expect(() => loadConfig(data)).not.toThrow();
    }
    // The base carries no Secret: each installation provides its own (the example overlay generates placeholders).
    expect(base.secrets.size).toBe(0);
    expect(byKind('Secret')).toEqual([]);
  });
});

/** The pods run by the project's image: the four Deployments and the migrate Job. */
const IMAGE_WORKLOADS = [
  ...SERVICES.map((s) => named('Deployment', deploymentName(s))),
  named('Job', MIGRATE_JOB),
];

describe.each(IMAGE_WORKLOADS.map((m) => [`${m.kind} ${m.metadata.name}`, m] as const))(
  '%s',
  (_, workload) => {
    const template = templateOf(workload);
    const container = onlyContainer(workload);
    const env = environment(container);

    it('runs the image built from the Dockerfile, from its working directory', () => {
      const images = new Set(IMAGE_WORKLOADS.map((m) => onlyContainer(m).image));
      expect([...images]).toEqual(['civic-graph']);
      // The name docker compose builds the Dockerfile under (civic-graph:local), without its tag.
      const compose = parse(read(join(ROOT, 'docker-compose.yml')), { merge: true }) as {
        services: Record<string, { image?: string; build?: unknown }>;
      };
      expect(compose.services.gateway.build).toBeDefined();
      expect(compose.services.gateway.image?.split(':')[0]).toBe(container.image);
      expect(dockerfile).toMatch(/^WORKDIR \/app$/m);
      expect(container.workingDir ?? '/app').toBe('/app');
    });

    it('names only variables config.ts accepts (or the image sets), with values it accepts', () => {
      const unknown = Object.keys(env).filter(
        (k) => !CONFIG_VARIABLES.includes(k) && !IMAGE_VARIABLES.includes(k),
      );
      expect(unknown).toEqual([]);
      expect(() => loadConfig(env)).not.toThrow();
    });

    it('gets every credential from a Secret (secretKeyRef), never as a value', () => {
      expect((container.envFrom ?? []).filter((f) => f.secretRef)).toEqual([]);
      for (const v of container.env ?? []) {
        if (SECRET_VARIABLES.includes(v.name)) {
          expect({ variable: v.name, from: v.valueFrom?.secretKeyRef ? 'secret' : 'elsewhere' }).toEqual({
            variable: v.name,
            from: 'secret',
          });
        }
      }
    });

    it('runs as the image’s non-root user, with a read-only root filesystem and no privileges', () => {
      expect(dockerfile).toMatch(/^USER node$/m);
      expect(template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 }); // `node` in node images
      expect(container.securityContext).toEqual(
        expect.objectContaining({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        }),
      );
      // Read-only holds because nothing is kept in files: every store is on MariaDB (no DATA_DIR, no SQLite).
      const config = loadConfig(env);
      expect(env.DATA_DIR).toBeUndefined();
      const stores =
        workload.metadata.name === deploymentName('gateway')
          ? [config.gatewayDatabase.type, config.registry.type]
          : SUBGRAPHS.filter(
              (n) => workload.kind === 'Job' || workload.metadata.name === deploymentName(n),
            ).map((n) => config.storage[n].type);
      expect(stores.length).toBeGreaterThan(0);
      for (const type of stores) expect(type).toBe('mysql');
    });

    it('requests and limits memory, with V8’s heap limit under the container’s', () => {
      const { requests = {}, limits = {} } = container.resources ?? {};
      expect(mebibytes(requests.memory)).toBeLessThanOrEqual(mebibytes(limits.memory));
      expect(requests.cpu).toBeDefined();
      const heap = /--max-old-space-size=(\d+)/.exec(env.NODE_OPTIONS ?? '')?.[1];
      expect(heap).toBeDefined();
      expect(Number(heap)).toBeLessThan(mebibytes(limits.memory));
    });
  },
);

describe.each(SERVICES)('service %s', (service) => {
  const deployment = named('Deployment', deploymentName(service));
  const template = templateOf(deployment);
  const container = onlyContainer(deployment);
  const env = environment(container);
  const config = loadConfig(env);
  const listens = service === 'gateway' ? config.gatewayPort : config.subgraphPorts[service];

  it(`runs npm run serve:${service}'s command, node itself (npm would not pass SIGTERM on)`, () => {
    const script = scripts[`serve:${service}`];
    expect(script).toMatch(/^node build\/\S+\.js$/);
    expect([...(container.command ?? []), ...(container.args ?? [])].join(' ')).toBe(script);
    // build/ is in the image: compiled in the build stage and copied into the runtime one.
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(dockerfile).toMatch(/^COPY --from=build \/app\/build \.\/build$/m);
  });

  it('declares the port the service listens on, and probes /health (alive) and /ready (ready) there', () => {
    expect(portNumber(container, 'http')).toBe(listens);
    expect(container.livenessProbe?.httpGet?.path).toBe('/health');
    expect(container.readinessProbe?.httpGet?.path).toBe('/ready');
    expect(container.startupProbe?.httpGet?.path).toBe('/health');
    for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
      expect(portNumber(container, probe?.httpGet?.port)).toBe(listens);
    }
  });

  it('is selected by one Service, on the port it listens on', () => {
    const services = byKind('Service').filter((s) =>
      selects((s.spec?.selector ?? {}) as Record<string, string>, template.metadata?.labels),
    );
    expect(services.map((s) => s.metadata.name)).toEqual([deploymentName(service)]);
    const ports = services[0].spec?.ports as { port: number; targetPort: string | number }[];
    expect(ports.map((p) => portNumber(container, p.targetPort))).toEqual([listens]);
    // The Deployment's own selector picks its pods and no other workload's.
    const matchLabels = (deployment.spec?.selector as { matchLabels: Record<string, string> }).matchLabels;
    expect(selects(matchLabels, template.metadata?.labels)).toBe(true);
    for (const other of IMAGE_WORKLOADS.filter((w) => w !== deployment)) {
      expect({
        other: other.metadata.name,
        selected: selects(matchLabels, templateOf(other).metadata?.labels),
      }).toEqual({
        other: other.metadata.name,
        selected: false,
      });
    }
  });

  it('serves /metrics on METRICS_PORT, named in the scrape annotations and published by no Service', () => {
    const port = metricsPort(env);
    const annotations = template.metadata?.annotations ?? {};
    if (port === undefined) {
      expect(annotations['prometheus.io/port']).toBeUndefined();
      return;
    }
    expect(portNumber(container, 'metrics')).toBe(port);
    expect(annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(port),
      'prometheus.io/path': '/metrics',
    });
    for (const s of byKind('Service')) {
      const ports = s.spec?.ports as { targetPort: string | number }[];
      expect(ports.map((p) => portNumber(container, p.targetPort))).not.toContain(port);
    }
  });

  it('is given time to drain: preStop pause + SHUTDOWN_TIMEOUT_MS + 5 s within the grace period', () => {
    const pause = preStopSeconds(container);
    expect(pause).toBeGreaterThan(0);
    // common/src/service.ts: the process exits by itself at SHUTDOWN_TIMEOUT_MS plus 5 s at the latest.
    const needed = pause * 1000 + shutdownTimeoutMs(env) + 5000;
    expect(template.spec.terminationGracePeriodSeconds! * 1000).toBeGreaterThanOrEqual(needed);
  });

  it('rolls without losing capacity: a new pod is ready before an old one stops', () => {
    const strategy = deployment.spec?.strategy as { rollingUpdate?: { maxUnavailable?: number | string } };
    expect(strategy.rollingUpdate?.maxUnavailable).toBe(0);
  });

  if (service !== 'gateway') {
    const name = service;
    it('stores in its own database on MariaDB, does not migrate, signs, and tells the gateways of writes', () => {
      expect(config.storage[name]).toMatchObject({ type: 'mysql', database: `civic_${name}` });
      expect(migrateOnStart(env)).toBe(false);
      expect(config.subgraphSecrets[name]).toEqual(expect.any(String));
      expect(config.rateLimit.redisUrl).toEqual(expect.any(String));
    });
  } else {
    it("reaches each subgraph through that subgraph's Service, signing with the secret it checks", () => {
      for (const name of SUBGRAPHS) {
        const target = named('Service', deploymentName(name));
        const port = (target.spec?.ports as { port: number }[])[0].port;
        expect(config.subgraphUrls[name]).toBe(`http://${target.metadata.name}:${port}/graphql`);
        const own = env[`SUBGRAPH_SECRET_${envName(name)}`];
        const subgraphEnv = environment(onlyContainer(named('Deployment', deploymentName(name))));
        expect({ name, gateway: own }).toEqual({
          name,
          gateway: subgraphEnv[`SUBGRAPH_SECRET_${envName(name)}`],
        });
        const secretRef = (c: Container) =>
          c.env?.find((v) => v.name === `SUBGRAPH_SECRET_${envName(name)}`)?.valueFrom?.secretKeyRef;
        expect(secretRef(container)).toEqual(
          secretRef(onlyContainer(named('Deployment', deploymentName(name)))),
        );
      }
    });

    it('shares what replicas must share: API keys and registry in MariaDB, limits, cache and APQ in Redis', () => {
      expect(config.gatewayDatabase.type).toBe('mysql');
      expect(config.registry.type).toBe('mysql');
      expect(config.rateLimit.redisUrl).toEqual(expect.any(String));
      expect(config.responseCache.mode).toBe('redis');
    });

    it('is scaled by its HorizontalPodAutoscaler, which owns the replica count', () => {
      const hpas = byKind('HorizontalPodAutoscaler');
      expect(hpas.map((h) => h.spec?.scaleTargetRef)).toEqual([
        { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name },
      ]);
      const { minReplicas, maxReplicas } = hpas[0].spec as { minReplicas: number; maxReplicas: number };
      expect(minReplicas).toBeGreaterThanOrEqual(2);
      expect(maxReplicas).toBeGreaterThanOrEqual(minReplicas);
      expect(deployment.spec?.replicas).toBeUndefined();
      expect(container.resources?.requests?.cpu).toBeDefined(); // CPU utilization is a share of the request
    });

    it('keeps a replica through voluntary disruptions (PodDisruptionBudget on its pods)', () => {
      const pdbs = byKind('PodDisruptionBudget');
      expect(pdbs).toHaveLength(1);
      const spec = pdbs[0].spec as {
        minAvailable?: number;
        selector: { matchLabels: Record<string, string> };
      };
      expect(selects(spec.selector.matchLabels, template.metadata?.labels)).toBe(true);
      for (const other of IMAGE_WORKLOADS.filter((w) => w !== deployment)) {
        expect(selects(spec.selector.matchLabels, templateOf(other).metadata?.labels)).toBe(false);
      }
      // Below the autoscaler's minimum, or a node drain could never evict a gateway pod.
      const { minReplicas } = byKind('HorizontalPodAutoscaler')[0].spec as { minReplicas: number };
      expect(spec.minAvailable).toBeGreaterThanOrEqual(1);
      expect(spec.minAvailable!).toBeLessThan(minReplicas);
    });
  }
});

describe('the migrate Job', () => {
  const job = named('Job', MIGRATE_JOB);
  const container = onlyContainer(job);
  const env = environment(container);

  it("runs npm run serve:migrate's command (the compiled npm run migrate) once, not restarted in place", () => {
    expect(scripts['serve:migrate']).toBe('node build/scripts/migrate.js');
    expect(scripts.migrate).toBe('tsx scripts/migrate.ts');
    expect([...(container.command ?? []), ...(container.args ?? [])].join(' ')).toBe(
      scripts['serve:migrate'],
    );
    expect(templateOf(job).spec.restartPolicy).toBe('Never');
  });

  it('migrates the databases the subgraphs serve', () => {
    const config = loadConfig(env);
    for (const name of SUBGRAPHS) {
      const served = loadConfig(environment(onlyContainer(named('Deployment', deploymentName(name)))))
        .storage[name];
      expect({ name, storage: config.storage[name] }).toEqual({ name, storage: served });
    }
  });
});

describe('overlays/example', () => {
  const k = example.kustomizations.get('overlays/example')!;

  it('builds on the base and points its image at a registry', () => {
    expect(k.resources).toContain('../../base');
    expect(k.images?.map((i) => i.name)).toEqual(['civic-graph']);
    expect(k.images?.[0].newName).toBeTruthy();
    expect(k.images?.[0].newTag).toBeTruthy();
  });

  it('generates every Secret key the base refers to, in the form config.ts accepts', () => {
    const refs = IMAGE_WORKLOADS.flatMap((w) => onlyContainer(w).env ?? [])
      .map((v) => v.valueFrom?.secretKeyRef)
      .filter((r): r is { name: string; key: string } => Boolean(r));
    expect(refs.length).toBeGreaterThan(0);
    for (const { name, key } of refs) {
      expect({ name, key, generated: example.secrets.get(name)?.[key] !== undefined }).toEqual({
        name,
        key,
        generated: true,
      });
    }
    // Each Secret key is the variable it becomes, so a key and its variable are checked together.
    for (const data of example.secrets.values()) {
      for (const key of Object.keys(data)) expect(SECRET_VARIABLES).toContain(key);
      expect(() => loadConfig(data)).not.toThrow();
    }
  });

  it('patches only objects the base has', () => {
    for (const p of k.patches ?? []) {
      expect(() => named(p.target?.kind ?? '', p.target?.name ?? '')).not.toThrow();
    }
  });

  it('creates the namespace it installs into', () => {
    const namespace = (documents(join(EXAMPLE, 'kustomization.yaml'))[0] as { namespace?: string }).namespace;
    expect(example.manifests.filter((m) => m.kind === 'Namespace').map((m) => m.metadata.name)).toEqual([
      namespace,
    ]);
  });
});
