import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { environmentVariables, migrateOnStart } from '@civic/common/config';
import {
  loadConfig,
  SUBGRAPHS as CATALOG,
  SUBGRAPH_NAMES as SUBGRAPHS,
  type SubgraphName,
} from '@civic/subgraphs/catalog';

/*
 * docker-compose.yml, Dockerfile and .env.example restate things the code decides (ports, variable names,
 * npm scripts). These tests read all of them and fail when the two disagree, instead of at `compose up`.
 */

const ROOT = join(__dirname, '..', '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | { target: number; published?: string | number })[];
  expose?: (string | number)[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[] };
}

const composeText = read('docker-compose.yml');
// `merge`: the application services share their settings through a `<<: *app` merge key.
const compose = parse(composeText, { merge: true }) as { services: Record<string, ComposeService> };
const services = compose.services;
const APP_SERVICES = [...SUBGRAPHS, 'gateway'] as const;
/** Every service run from the project's image: the application services and the one-shot migrate job. */
const IMAGE_SERVICES = ['migrate', ...APP_SERVICES] as const;
const defaults = loadConfig({});

/** `${VAR:-default}` and `${VAR-default}` become the value in `vars` or else the default; `$$` becomes `$`. */
function interpolate(value: string, vars: Record<string, string> = {}): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g,
    (whole, name?: string, def?: string) => (whole === '$$' ? '$' : (vars[name!] ?? def ?? '')),
  );
}

/** A service's environment as strings, with compose's defaults filled in. */
function environment(name: string): Record<string, string> {
  const env = services[name].environment ?? {};
  const entries = Array.isArray(env)
    ? env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])
    : Object.entries(env).map(([k, v]) => [k, v == null ? '' : String(v)]);
  return Object.fromEntries(entries.map(([k, v]) => [k, interpolate(v)]));
}

const commandOf = (s: ComposeService) => (Array.isArray(s.command) ? s.command.join(' ') : (s.command ?? ''));
const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
const healthcheckOf = (s: ComposeService) =>
  Array.isArray(s.healthcheck?.test) ? s.healthcheck.test.join(' ') : (s.healthcheck?.test ?? '');
const envName = (name: SubgraphName) => name.toUpperCase();

/** The variable names the configuration of the catalog's subgraphs accepts (the test right below checks them). */
const CONFIG_VARIABLES = environmentVariables(CATALOG);

describe('configuration variables, as config.ts declares them', () => {
  it("are the platform's and each catalog subgraph's own", () => {
    expect(CONFIG_VARIABLES).toEqual(
      expect.arrayContaining(['HOST', 'GATEWAY_PORT', 'DATABASE_URL', 'LOG_LEVEL']),
    );
    for (const name of SUBGRAPHS) {
      for (const suffix of ['PORT', 'URL', 'DATABASE_URL'])
        expect(CONFIG_VARIABLES).toContain(`${envName(name)}_${suffix}`);
      expect(CONFIG_VARIABLES).toContain(`SUBGRAPH_SECRET_${envName(name)}`);
    }
    // Each one really changes the parsed configuration: an invalid value is refused by name.
    for (const name of CONFIG_VARIABLES.filter((n) =>
      /_PORT$|_URL$|^SEED_ON_START$|^MIGRATE_ON_START$|^LOG_LEVEL$|^SUBGRAPH_(TIMEOUT_MS|SECRET_.*)$/.test(n),
    )) {
      expect(() => loadConfig({ [name]: 'not valid: ~' })).toThrow(name);
    }
  });
});

describe('docker-compose.yml', () => {
  it("has the database, Redis, the migrate job, the catalog's subgraphs and the gateway", () => {
    expect(Object.keys(services).sort()).toEqual(['mysql', 'redis', ...IMAGE_SERVICES].sort());
  });

  it('runs Redis for the rate-limit counters, unpublished, with a ping healthcheck and no persistence', () => {
    const redis = services.redis;
    expect(redis.image).toMatch(/^redis:7/);
    expect(healthcheckOf(redis)).toMatch(/redis-cli ping/);
    expect(redis.ports).toBeUndefined();
    expect(commandOf(redis)).toContain('--appendonly no');
  });

  it('runs MariaDB 10.11, the server CI tests on, with a persistent volume and a ping healthcheck', () => {
    const mysql = services.mysql;
    expect(mysql.image).toMatch(/^mariadb:10\.11/);
    expect(healthcheckOf(mysql)).toMatch(/mariadb-admin ping/);
    expect(JSON.stringify((mysql as { volumes?: unknown }).volumes)).toMatch(/:\/var\/lib\/mysql/);
  });

  it('runs every application service and the migrate job from the one image', () => {
    const images = new Set(IMAGE_SERVICES.map((s) => services[s].image));
    expect(images.size).toBe(1);
    for (const s of IMAGE_SERVICES) expect(services[s].build).toBeDefined();
  });

  describe('migrate', () => {
    const migrate = services.migrate as ComposeService & { restart?: string };

    it('runs serve:migrate (the compiled npm run migrate) once, never restarted, once MySQL is healthy', () => {
      expect(commandOf(migrate)).toBe(scripts['serve:migrate']);
      expect(scripts['serve:migrate']).toBe('node build/scripts/migrate.js');
      expect(scripts.migrate).toBe('tsx scripts/migrate.ts');
      expect(migrate.restart).toBe('no');
      expect(migrate.depends_on).toEqual({ mysql: { condition: 'service_healthy' } });
    });

    it("migrates the subgraphs' databases on the mysql service, the ones they serve", () => {
      const config = loadConfig(environment('migrate'));
      for (const name of SUBGRAPHS) {
        expect({ name, storage: config.storage[name] }).toEqual({
          name,
          storage: loadConfig(environment(name)).storage[name],
        });
      }
    });
  });

  describe.each(SUBGRAPHS)('subgraph %s', (name) => {
    const service = services[name];
    const port = defaults.subgraphPorts[name];

    it(`runs serve:${name}'s command: the compiled form of npm run start:${name}`, () => {
      expect(commandOf(service)).toBe(scripts[`serve:${name}`]);
      expect(scripts[`serve:${name}`]).toBe(`node build/subgraphs/${name}/src/index.js`);
      expect(scripts[`start:${name}`]).toBe(`node --import tsx subgraphs/${name}/src/index.ts`);
    });

    it(`listens on its default port ${port}, and is checked there for readiness`, () => {
      const env = environment(name);
      expect(loadConfig(env).subgraphPorts[name]).toBe(port);
      expect((service.expose ?? []).map(String)).toContain(String(port));
      // Ready, not only alive: the gateway starts once the database is reachable and migrated.
      expect(healthcheckOf(service)).toContain(`http://localhost:${port}/ready`);
    });

    it('stores in its own database on the mysql service, seeds on start by default, and does not migrate', () => {
      const config = loadConfig(environment(name));
      expect(config.storage[name]).toEqual({
        type: 'mysql',
        url: expect.stringMatching(/^mysql:\/\/root:[^@]+@mysql:3306$/),
        database: `civic_${name}`,
      });
      expect(config.seedOnStart).toBe(true);
      // Migrations are the migrate job's: a subgraph refuses an unmigrated database rather than race on it.
      expect(migrateOnStart(environment(name))).toBe(false);
    });

    it('starts once MySQL is healthy and the migrate job has finished successfully', () => {
      expect(service.depends_on).toEqual({
        mysql: { condition: 'service_healthy' },
        migrate: { condition: 'service_completed_successfully' },
      });
    });
  });

  describe('gateway', () => {
    const gateway = services.gateway;

    it("runs serve:gateway's command: the compiled form of npm run start:gateway", () => {
      expect(commandOf(gateway)).toBe(scripts['serve:gateway']);
      expect(scripts['serve:gateway']).toBe('node build/gateway/src/index.js');
      expect(scripts['start:gateway']).toBe('node --import tsx gateway/src/index.ts');
    });

    it('reaches each subgraph by service name on that subgraph’s port', () => {
      const urls = loadConfig(environment('gateway')).subgraphUrls;
      for (const name of SUBGRAPHS) {
        const port = environment(name)[`${envName(name)}_PORT`];
        expect(urls[name]).toBe(`http://${name}:${port}/graphql`);
      }
    });

    it('publishes the port it listens on', () => {
      const listens = loadConfig(environment('gateway')).gatewayPort;
      expect(listens).toBe(defaults.gatewayPort);
      const published = (gateway.ports ?? []).map((p) =>
        typeof p === 'string' ? p : `${p.published}:${p.target}`,
      );
      expect(published).toEqual([`\${GATEWAY_PORT:-${defaults.gatewayPort}}:${listens}`]);
      expect(healthcheckOf(gateway)).toContain(`http://localhost:${listens}/health`);
    });

    it('signs its calls to each subgraph with the secret that subgraph checks', () => {
      const secrets = loadConfig(environment('gateway')).subgraphSecrets;
      for (const name of SUBGRAPHS) {
        const own = loadConfig(environment(name)).subgraphSecrets[name];
        expect({ name, own: typeof own }).toEqual({ name, own: 'string' });
        expect({ name, gateway: secrets[name] }).toEqual({ name, gateway: own });
      }
      expect(new Set(Object.values(secrets)).size).toBe(SUBGRAPHS.length);
    });

    it('passes the subgraph timeout on, with the default', () => {
      expect(loadConfig(environment('gateway')).subgraphTimeoutMs).toBe(defaults.subgraphTimeoutMs);
      expect(defaults.subgraphTimeoutMs).toBe(5000);
    });

    it('starts once MySQL (its API keys), Redis and every subgraph are healthy', () => {
      expect(gateway.depends_on).toEqual(
        Object.fromEntries(
          ['mysql', 'redis', ...SUBGRAPHS].map((n) => [n, { condition: 'service_healthy' }]),
        ),
      );
    });

    it('keeps its API keys in its own database on the mysql service', () => {
      expect(environment('gateway').GATEWAY_DATABASE_URL).toMatch(
        /^mysql:\/\/root:[^@]+@mysql:3306\/civic_gateway$/,
      );
    });

    it('shares its rate-limit counters through the redis service', () => {
      expect(loadConfig(environment('gateway')).rateLimit.redisUrl).toBe('redis://redis:6379');
    });
  });

  it('names only variables config.ts accepts, with values it accepts', () => {
    for (const name of IMAGE_SERVICES) {
      const env = environment(name);
      expect({
        service: name,
        unknown: Object.keys(env).filter((k) => !CONFIG_VARIABLES.includes(k)),
      }).toEqual({
        service: name,
        unknown: [],
      });
      expect(() => loadConfig(env)).not.toThrow();
    }
  });

  it('has a healthcheck on every service another one waits for', () => {
    for (const service of Object.values(services)) {
      const deps = service.depends_on ?? {};
      for (const [dep, spec] of Object.entries(deps)) {
        if ((spec as { condition?: string }).condition === 'service_healthy') {
          expect({ dep, healthcheck: healthcheckOf(services[dep]) !== '' }).toEqual({
            dep,
            healthcheck: true,
          });
        }
      }
    }
  });

  it('gives every ${VAR} a default, the same one everywhere, and writes no password literally', () => {
    const refs = [...composeText.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(:?-([^}]*))?\}/g)];
    expect(refs.length).toBeGreaterThan(0);
    const seen = new Map<string, string>();
    for (const [whole, name, hasDefault, def] of refs) {
      expect({ ref: whole, hasDefault: Boolean(hasDefault) }).toEqual({ ref: whole, hasDefault: true });
      if (seen.has(name)) expect({ name, def }).toEqual({ name, def: seen.get(name) });
      seen.set(name, def);
    }
    expect(services.mysql.environment).toMatchObject({
      MARIADB_ROOT_PASSWORD: expect.stringMatching(/^\$\{MYSQL_ROOT_PASSWORD:-/),
    });
    for (const name of SUBGRAPHS) {
      expect(services[name].environment).toMatchObject({
        DATABASE_URL: expect.stringContaining(':${MYSQL_ROOT_PASSWORD:-'),
      });
    }
  });

  it('runs Node on what a serve:* script of package.json runs, never npm (it does not pass SIGTERM on)', () => {
    const serve = Object.entries(JSON.parse(read('package.json')).scripts as Record<string, string>)
      .filter(([name]) => name.startsWith('serve:'))
      .map(([, command]) => command);
    const used = IMAGE_SERVICES.map((s) => commandOf(services[s])).concat(dockerfileCmd());
    expect(used.length).toBe(IMAGE_SERVICES.length + 1);
    const missing = used.filter((c) => !serve.includes(c));
    if (missing.length) {
      throw new Error(
        `docker-compose.yml and the Dockerfile run commands that no serve:* script of package.json runs: ${missing.join(', ')}. ` +
          'Run `node build/<entry>.js` exactly as a serve:* script does (not `npm run`: npm does not pass SIGTERM on).',
      );
    }
  });
});

/** The Dockerfile's CMD as one command line (exec form or shell form). */
function dockerfileCmd(): string {
  const line = /^CMD\s+(.+)$/m.exec(read('Dockerfile'))?.[1].trim() ?? '';
  return line.startsWith('[') ? (JSON.parse(line) as string[]).join(' ') : line;
}

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('builds on node:20-bookworm-slim, compiles in a build stage and runs as a non-root user', () => {
    const stages = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const image of stages) expect(image).toBe('node:20-bookworm-slim');
    const [build, runtime] = dockerfile.split(/^FROM\s+\S+\s*$/m).slice(-2);
    expect(build).toMatch(/python3 make g\+\+/);
    expect(build).toMatch(/npm ci/);
    expect(runtime).not.toMatch(/g\+\+/);
    expect(runtime).toMatch(/^USER\s+(?!root\b|0\b)\S+/m);
  });

  it('turns Apollo telemetry off and starts the compiled gateway by default, built in the image', () => {
    expect(dockerfile).toMatch(/APOLLO_TELEMETRY_DISABLED=1/);
    expect(dockerfileCmd()).toBe(scripts['serve:gateway']);
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(dockerfile).toMatch(/^COPY --from=build \/app\/build \.\/build$/m);
  });
});

describe('.env.example', () => {
  const lines = read('.env.example').split('\n');
  // Both `NAME=value` and the commented-out `# NAME=value` (unset, default described) count as documented.
  const documented = lines.map((l) => /^#?\s*([A-Z][A-Z0-9_]*)=(.*)$/.exec(l)).filter((m) => m !== null);
  const active = Object.fromEntries(documented.filter((m) => !m[0].startsWith('#')).map((m) => [m[1], m[2]]));
  const composeVariables = new Set(
    [...composeText.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]),
  );

  it('documents every variable config.ts reads and every one compose interpolates', () => {
    const names = new Set(documented.map((m) => m[1]));
    expect([...CONFIG_VARIABLES, ...composeVariables].filter((n) => !names.has(n))).toEqual([]);
  });

  it('lists only variables config.ts or compose knows', () => {
    const unknown = documented
      .map((m) => m[1])
      .filter((n) => !CONFIG_VARIABLES.includes(n) && !composeVariables.has(n));
    expect(unknown).toEqual([]);
  });

  it('comments every variable (a comment may cover a group of them)', () => {
    const assignment = /^#?\s*[A-Z][A-Z0-9_]*=/;
    for (const m of documented) {
      let i = lines.indexOf(m[0]) - 1;
      while (i >= 0 && assignment.test(lines[i])) i--;
      expect({ variable: m[1], commented: (lines[i] ?? '').startsWith('# ') }).toEqual({
        variable: m[1],
        commented: true,
      });
    }
  });

  it('sets the defaults: used as is, it configures what no configuration does, but for the secrets', () => {
    // The signing secrets are the public values docker compose falls back to (next test), so that a .env
    // copied from it signs the same way; without any configuration there are none.
    expect({ ...loadConfig(active), subgraphSecrets: defaults.subgraphSecrets }).toEqual(defaults);
    expect(Object.values(defaults.subgraphSecrets)).toEqual(SUBGRAPHS.map(() => null));
  });

  it('agrees with the defaults docker-compose.yml falls back to', () => {
    for (const name of composeVariables) {
      const def = new RegExp(`\\$\\{${name}:?-([^}]*)\\}`).exec(composeText)![1];
      expect({ name, value: active[name] }).toEqual({ name, value: def });
    }
  });
});
