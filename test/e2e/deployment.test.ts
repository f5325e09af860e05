import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { parse as parseYaml } from 'yaml';
import { dropDatabase } from '@civic/common/db';
import { datasetPath, SOURCES } from '@civic/formats/sources';
import { SUBGRAPH_NAMES, type SubgraphName } from '@civic/subgraphs/catalog';
import { readCsv, sumMillimes } from '../support/datasets';
import { startServiceProcess, type ServiceProcess } from '../support/processes';

/**
 * The deployment smoke test: what docker-compose runs, run for real. Each catalog subgraph and the gateway
 * is its own process started with the module of its npm script (`node build/subgraphs/<name>/src/index.js`, run
 * from its source `subgraphs/<name>/src/index.ts` with tsx) and the environment docker-compose.yml gives its service, changed only where a
 * test must: MySQL is this run's server, every subgraph gets a fresh, uniquely named database (dropped after),
 * and every port is 0, each service saying the port it bound in its "ready" log line, which is where the
 * gateway is pointed. Compose's one-shot migrate service runs first, to its end (exit 0), as compose runs it
 * before the subgraphs (which refuse an unmigrated database); each subgraph then seeds its empty database on
 * start (SEED_ON_START from the compose file),
 * answers /health, the gateway answers one query that reads all three subgraphs, and SIGTERM stops each one.
 *
 * MySQL only: docker-compose deploys nothing else. Skipped on SQLite-only runs, as the other MySQL tests are.
 */

const ROOT = join(__dirname, '..', '..');
const MYSQL_URL = (process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/$/, '');
const mysqlDescribe = process.env.TEST_MYSQL === '1' ? describe : describe.skip;

/** How long a process may take to exit after SIGTERM. */
const STOP_WITHIN_MS = 15_000;
/** Seeding an empty database happens before the port opens (docker-compose allows 180 s). */
const READY_WITHIN_MS = 180_000;

interface ComposeService {
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
}
const compose = parseYaml(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const scripts = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
).scripts;

/** A compose service's environment as strings, `${VAR:-default}` taking its default (no .env in a test). */
function composeEnvironment(service: string): Record<string, string> {
  const env = compose.services[service].environment ?? {};
  const entries = Array.isArray(env)
    ? env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])
    : Object.entries(env).map(([k, v]) => [k, v == null ? '' : String(v)]);
  return Object.fromEntries(
    entries.map(([k, v]) => [
      k,
      v.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g, (w, _n, def?: string) =>
        w === '$$' ? '$' : (def ?? ''),
      ),
    ]),
  );
}

/**
 * The module a compose service runs: its command must be `node build/<path>.js`, exactly what one of the
 * `serve:*` scripts of package.json runs (Node itself, not `npm run`: npm does not pass SIGTERM on to the
 * process it starts, which then never drains). Compose runs the compiled JavaScript (from `npm run build`); this
 * test runs the same module from its TypeScript source with tsx, since what it checks is compose's wiring (the
 * environment, the migrate step, the ports), not the compiler (test/e2e/build.test.ts runs the compiled services).
 */
function scriptOf(service: string): string[] {
  const command = compose.services[service].command;
  const words = Array.isArray(command) ? command : (command ?? '').split(/\s+/);
  expect(words).toHaveLength(2);
  expect(words[0]).toBe('node');
  expect(words[1]).toMatch(/^build\/\S+\.js$/);
  expect(
    Object.entries(scripts).filter(([n, s]) => n.startsWith('serve:') && s === words.join(' ')),
  ).toHaveLength(1);
  return ['tsx', words[1].replace(/^build\//, '').replace(/\.js$/, '.ts')];
}

/**
 * Starts a compose service's module as a process of its own (test/support/processes.ts: Node itself, from the
 * TypeScript source, watching its log for "ready at"), with the environment compose gives it.
 */
const startService = (name: string, env: Record<string, string>): ServiceProcess =>
  startServiceProcess(name, scriptOf(name)[1], env);

/** Kills what is left of a service's process. */
function killGroup(r: ServiceProcess) {
  if (r.alive()) r.child.kill('SIGKILL');
}

/** Exited by itself with status 0, or ended by the SIGTERM it was sent. */
const clean = (r: { code: number | null; signal: NodeJS.Signals | null } | 'timeout') =>
  r !== 'timeout' && (r.code === 0 || r.signal === 'SIGTERM');

const within = <T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> =>
  Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref())]);

// What the answer must be, read from the bundled files (not from the code under test).
const BUDGET = 'tn-34012-2018';
const approved2018 = sumMillimes(readCsv('tunisia/depense_per_year_34012.csv').map((r) => r['2018']));
const bouArada = readCsv(SOURCES.tunisiaMunicipalities.file).find((m) => m.municipal_id === '34012')!;
const ogp = parseCsv(readFileSync(datasetPath(SOURCES.ogpCommitments.file), 'utf8'), {
  columns: true,
  bom: true,
}) as Record<string, string>[];
const MO0012 = ogp.find((r) => r['Commitment Unique Identifier'] === 'MO0012')!;

mysqlDescribe('the deployment: docker-compose services as separate processes on MySQL', () => {
  const tag = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const databases = Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, `civic_deploy_${tag}_${n}`])) as Record<
    SubgraphName,
    string
  >;
  const gatewayDatabase = `civic_deploy_${tag}_gateway`;
  const registryDatabase = `civic_deploy_${tag}_registry`;
  const running: ServiceProcess[] = [];
  const ports = {} as Record<SubgraphName | 'gateway', number>;
  let exits: { name: string; result: { code: number | null; signal: NodeJS.Signals | null } | 'timeout' }[] =
    [];

  beforeAll(async () => {
    // Each subgraph's database of this test's own instead of civic_<name> (wins over DATABASE_URL).
    const ownDatabases = Object.fromEntries(
      SUBGRAPH_NAMES.map((name) => [`${name.toUpperCase()}_DATABASE_URL`, `${MYSQL_URL}/${databases[name]}`]),
    );
    // The migrate job first, as compose runs it once MySQL is healthy: the subgraphs wait for its success.
    const migrateEnv = composeEnvironment('migrate');
    expect(migrateEnv.DATABASE_URL).toMatch(/^mysql:\/\//);
    const migrate = startService('migrate', { ...migrateEnv, DATABASE_URL: MYSQL_URL, ...ownDatabases });
    const migrated = await within(migrate.exited, READY_WITHIN_MS);
    if (migrated === 'timeout') killGroup(migrate);
    expect({ migrate: migrated, output: clean(migrated) ? '' : migrate.output() }).toEqual({
      migrate: { code: 0, signal: null },
      output: '',
    });
    // The subgraphs start side by side, as compose starts them once the migrate job has succeeded.
    const subgraphs = SUBGRAPH_NAMES.map((name) => {
      const env = composeEnvironment(name);
      expect(env.DATABASE_URL).toMatch(/^mysql:\/\//);
      const r = startService(name, {
        ...env,
        DATABASE_URL: MYSQL_URL,
        // Wins over DATABASE_URL: a database of this test's own instead of civic_<name>.
        [`${name.toUpperCase()}_DATABASE_URL`]: `${MYSQL_URL}/${databases[name]}`,
        [`${name.toUpperCase()}_PORT`]: '0',
      });
      running.push(r);
      return r;
    });
    for (const r of subgraphs) ports[r.name as SubgraphName] = await r.ready;
    const env = composeEnvironment('gateway');
    for (const name of SUBGRAPH_NAMES) {
      // Compose points the gateway at the service names; here each is on this machine at its own port.
      expect(env[`${name.toUpperCase()}_URL`]).toMatch(new RegExp(`^http://${name}:\\d+/graphql$`));
      env[`${name.toUpperCase()}_URL`] = `http://127.0.0.1:${ports[name]}/graphql`;
    }
    // Its API keys on the mysql service, its rate-limit counters on the redis service: here, this machine's.
    expect(env.GATEWAY_DATABASE_URL).toMatch(/^mysql:\/\/[^@]+@mysql:3306\/civic_gateway$/);
    env.GATEWAY_DATABASE_URL = `${MYSQL_URL}/${gatewayDatabase}`;
    // Its partner registry too (without it: a directory the image's user could not create).
    expect(env.REGISTRY_DATABASE_URL).toMatch(/^mysql:\/\/[^@]+@mysql:3306\/civic_registry$/);
    env.REGISTRY_DATABASE_URL = `${MYSQL_URL}/${registryDatabase}`;
    expect(env.REDIS_URL).toBe('redis://redis:6379');
    env.REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
    const gateway = startService('gateway', { ...env, GATEWAY_PORT: '0' });
    running.push(gateway);
    ports.gateway = await gateway.ready;
  }, READY_WITHIN_MS + 60_000);

  afterAll(async () => {
    for (const r of running) killGroup(r);
    await Promise.all(running.map((r) => within(r.exited, 5000)));
    await Promise.all(
      [...Object.values(databases), gatewayDatabase, registryDatabase].map((database) =>
        dropDatabase({ type: 'mysql', url: MYSQL_URL, database }),
      ),
    );
  });

  it('seeds each empty database on start and says so', () => {
    for (const r of running.filter((x) => x.name !== 'gateway')) expect(r.output()).toMatch(/"msg":"seeded"/);
  });

  it.each([...SUBGRAPH_NAMES, 'gateway'])('%s answers /health', async (name) => {
    const res = await fetch(`http://127.0.0.1:${ports[name as SubgraphName]}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok' });
  });

  it('answers one query through the gateway that reads all three subgraphs', async () => {
    const res = await fetch(`http://127.0.0.1:${ports.gateway}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: /* GraphQL */ `
          query {
            budget(id: "${BUDGET}") {
              id
              fiscalYear
              organization {
                names {
                  ar
                  fr
                }
              }
              total(direction: EXPENDITURE, phase: APPROVED) {
                amount
                currency
              }
            }
            commitment(id: "MO0012") {
              id
              title(lang: EN)
              shortTitle
            }
          }
        `,
      }),
    });
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 200,
      body: {
        data: {
          budget: {
            id: BUDGET,
            fiscalYear: 2018,
            organization: { names: { ar: bouArada.name_ar, fr: expect.any(String) as unknown } },
            total: { amount: approved2018, currency: 'TND' },
          },
          commitment: { id: 'MO0012', title: MO0012['Commitment Title'], shortTitle: MO0012['Short Title'] },
        },
        // What compose configures: the cost report, and the budget left in the counters shared through Redis
        // (this machine's, where other gateways may count too: the amount left is not this test's to know).
        extensions: { cost: { requested: 9, limit: 50_000, remaining: expect.any(Number) as unknown } },
      },
    });
  });

  describe('on SIGTERM', () => {
    beforeAll(async () => {
      // Gateway first, as compose stops dependents before what they depend on.
      for (const r of [...running].reverse()) {
        r.child.kill('SIGTERM');
        exits.push({ name: r.name, result: await within(r.exited, STOP_WITHIN_MS) });
      }
    }, STOP_WITHIN_MS * 5);
    afterAll(() => (exits = []));

    it('the gateway exits cleanly', () => {
      const gateway = exits.find((e) => e.name === 'gateway')!;
      expect({ name: gateway.name, clean: clean(gateway.result) }).toEqual({ name: 'gateway', clean: true });
    });

    it('each subgraph exits cleanly', () => {
      for (const e of exits.filter((x) => x.name !== 'gateway')) {
        expect({ name: e.name, exit: e.result, clean: clean(e.result) }).toMatchObject({
          name: e.name,
          clean: true,
        });
      }
    });
  });
});
