import { MAX_OPERATION_NAME_LENGTH, MAX_OPERATION_NAMES } from '@civic/common/metrics';
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importers as budgetsImporters } from '@civic/subgraphs/budgets/src/import';
import { importWith } from '../support/imports';
import { MODULES } from '@civic/subgraphs';
import { withEnv } from '../support/with-env';
import { BACKENDS, startSystem, type System } from '../support/system';

/*
 * GET /metrics (issue 12): Prometheus text on every service, on the real graph (SQLite, port 0), with the
 * subgraphs signed as in production, so that /metrics is shown to need no signature.
 */

const SECRETS = {
  organizations: 'test-secret-organizations-0123456789',
  commitments: 'test-secret-commitments-0123456789',
  budgets: 'test-secret-budgets-0123456789abcdef',
};

let sys: System;
beforeAll(async () => {
  sys = await startSystem('sqlite', { secrets: SECRETS });
});
afterAll(async () => {
  await sys?.stop();
});

/** One sample of the Prometheus text: its metric name, labels and value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the samples of a Prometheus text answer (comments skipped). */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

/** The samples of `name` whose labels include `labels`. */
const find = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

/** The one sample of `name` with `labels`, or undefined. */
function value(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  const found = find(samples, name, labels);
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

const metricsUrl = (graphqlUrl: string) => graphqlUrl.replace(/\/graphql$/, '/metrics');

async function scrape(url: string) {
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), text, samples: parse(text) };
}

const ORGANIZATION = /* GraphQL */ `
  query MunicipalityBudgets {
    organization(id: "tn-municipality-34012") {
      name
      budgets {
        id
      }
    }
  }
`;

describe("the gateway's /metrics", () => {
  test('counts and times each operation by name and outcome, and each subgraph call', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await sys.queryGateway(ORGANIZATION);
      expect(res.errors).toBeUndefined();
    }
    // Refused before it ran: a field that does not exist.
    const bad = await sys.queryGateway('query NoSuchField { noSuchField }');
    expect(bad.errors).toBeDefined();
    // No name: anonymous.
    await sys.queryGateway('{ __typename }');

    const m = await scrape(metricsUrl(sys.gatewayUrl));
    expect(m.status).toBe(200);
    expect(m.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const s = m.samples;
    const gw = { service: 'gateway' };
    expect(
      value(s, 'graphql_requests_total', { ...gw, operation: 'MunicipalityBudgets', outcome: 'ok' }),
    ).toBe(3);
    expect(
      find(s, 'graphql_requests_total', { ...gw, operation: 'MunicipalityBudgets', outcome: 'error' }),
    ).toEqual([]);
    expect(value(s, 'graphql_requests_total', { ...gw, operation: 'NoSuchField', outcome: 'refused' })).toBe(
      1,
    );
    expect(
      value(s, 'graphql_requests_total', { ...gw, operation: 'anonymous', outcome: 'ok' }),
    ).toBeGreaterThanOrEqual(1);
    const timed = { ...gw, operation: 'MunicipalityBudgets', outcome: 'ok' };
    expect(value(s, 'graphql_request_duration_seconds_count', timed)).toBe(3);
    expect(value(s, 'graphql_request_duration_seconds_bucket', { ...timed, le: '+Inf' })).toBe(3);
    expect(value(s, 'graphql_request_duration_seconds_sum', timed)).toBeGreaterThan(0);

    // The plan called organizations (the organization) and budgets (its budgets), each at least once per query.
    for (const subgraph of ['organizations', 'budgets']) {
      const count = value(s, 'subgraph_fetch_duration_seconds_count', { subgraph, outcome: 'ok' });
      expect(count).toBeGreaterThanOrEqual(3);
    }
    expect(find(s, 'subgraph_fetch_errors_total')).toEqual([]);
    // Every subgraph's circuit closed.
    for (const subgraph of ['organizations', 'commitments', 'budgets']) {
      expect(value(s, 'subgraph_circuit_state', { subgraph })).toBe(0);
      expect(value(s, 'subgraph_calls_shared_total', { subgraph })).toBeGreaterThanOrEqual(0);
    }
    // The response cache is off here: every operation bypasses it.
    expect(value(s, 'response_cache_requests_total', { result: 'bypass' })).toBeGreaterThanOrEqual(3);
    expect(value(s, 'response_cache_requests_total', { result: 'hit' })).toBe(0);
    // The process's own metrics, once.
    expect(find(s, 'process_cpu_user_seconds_total')).toHaveLength(1);
    expect(m.text.match(/^# TYPE graphql_requests_total counter$/gm)).toHaveLength(1);
  });

  test('counts a failed subgraph call by its code', async () => {
    // A subgraph that cannot answer: the gateway calls budgets at an address nothing listens on.
    const { createGatewayService } = await import('@civic/gateway/server');
    const gateway = await createGatewayService({
      subgraphUrls: { ...sys.subgraphUrls, budgets: 'http://127.0.0.1:1/graphql' },
      reportCost: false,
    });
    try {
      const { url } = await gateway.listen(0, '127.0.0.1');
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: ORGANIZATION }),
      });
      const body = (await res.json()) as { errors?: { extensions?: { code?: string } }[] };
      const code = body.errors?.[0]?.extensions?.code;
      expect(code).toMatch(/^SUBGRAPH_/);
      const s = (await scrape(metricsUrl(url))).samples;
      expect(value(s, 'subgraph_fetch_errors_total', { subgraph: 'budgets', code: code! })).toBe(1);
      expect(
        value(s, 'subgraph_fetch_duration_seconds_count', { subgraph: 'budgets', outcome: 'error' }),
      ).toBe(1);
      expect(
        value(s, 'subgraph_fetch_duration_seconds_count', { subgraph: 'organizations', outcome: 'ok' }),
      ).toBe(1);
      expect(value(s, 'graphql_requests_total', { operation: 'MunicipalityBudgets', outcome: 'error' })).toBe(
        1,
      );
    } finally {
      await gateway.stop();
    }
  });

  test("counts a plan's parallel calls to one subgraph merged into one request (SUBGRAPH_BATCH)", async () => {
    // Fifty commitments of a country with their lead and supporting organizations and their plan's member: three
    // entity fetches to organizations side by side in the plan, one request with batching, three without.
    const query = /* GraphQL */ `
      query CountryCommitments($country: String!) {
        commitments(first: 50, filter: { country: $country }) {
          nodes {
            id
            leadOrganization {
              id
              name
            }
            supportingOrganizations {
              id
              name
            }
            actionPlan {
              id
              member {
                id
                name
              }
            }
          }
        }
      }
    `;
    const { createGatewayService } = await import('@civic/gateway/server');
    const answers: string[] = [];
    for (const batch of ['true', 'false']) {
      const gateway = await withEnv({ SUBGRAPH_BATCH: batch }, () =>
        createGatewayService({ subgraphUrls: sys.subgraphUrls, reportCost: false }),
      );
      try {
        const { url } = await gateway.listen(0, '127.0.0.1');
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query, variables: { country: 'MA' } }),
        });
        const text = await res.text();
        expect(JSON.parse(text).errors).toBeUndefined();
        answers.push(text);
        const s = (await scrape(metricsUrl(url))).samples;
        const calls = value(s, 'subgraph_fetch_duration_seconds_count', {
          subgraph: 'organizations',
          outcome: 'ok',
        });
        const batched = value(s, 'subgraph_calls_batched_total', { subgraph: 'organizations' });
        if (batch === 'true') expect([calls, batched]).toEqual([1, 3]);
        else expect([calls, batched]).toEqual([3, 0]);
      } finally {
        await gateway.stop();
      }
    }
    // The same answer, byte for byte.
    expect(answers[0]).toEqual(answers[1]);
  });

  test('counts the requests refused before Apollo saw them (a body that is not JSON, one too large)', async () => {
    const refused = async () =>
      value((await scrape(metricsUrl(sys.gatewayUrl))).samples, 'graphql_requests_total', {
        service: 'gateway',
        operation: 'anonymous',
        outcome: 'refused',
      }) ?? 0;
    const before = await refused();
    const post = (body: string) =>
      fetch(sys.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect((await post('{"query": "{ __typename }"')).status).toBe(400);
    expect((await post(JSON.stringify({ query: `{ __typename } #${'x'.repeat(2_000_000)}` }))).status).toBe(
      413,
    );
    expect(await refused()).toBe(before + 2);
  });

  test('keeps the operation label bounded: names cut, at most MAX_OPERATION_NAMES, then "other"', async () => {
    const long = `Long${'x'.repeat(100)}`;
    await sys.queryGateway(`query ${long} { __typename }`);
    for (let i = 0; i < 600; i++) {
      const res = await sys.queryGateway(`query Flood${i} { __typename }`);
      expect(res.errors).toBeUndefined();
    }
    const s = (await scrape(metricsUrl(sys.gatewayUrl))).samples;
    const names = new Set(find(s, 'graphql_requests_total').map((x) => x.labels.operation));
    expect(names.size).toBeLessThanOrEqual(MAX_OPERATION_NAMES + 1);
    expect(names.has('other')).toBe(true);
    expect(names.has(long.slice(0, MAX_OPERATION_NAME_LENGTH))).toBe(true);
    expect([...names].every((n) => n.length <= MAX_OPERATION_NAME_LENGTH)).toBe(true);
    // Nothing is lost: the floods counted under their names or under "other" add up to 600.
    const flood = find(s, 'graphql_requests_total', { outcome: 'ok' })
      .filter((x) => x.labels.operation.startsWith('Flood') || x.labels.operation === 'other')
      .reduce((sum, x) => sum + x.value, 0);
    expect(flood).toBe(600);
  });
});

describe("a subgraph's /metrics", () => {
  test('answers without a signature, with its SQL statement times and its requests', async () => {
    await sys.queryGateway(ORGANIZATION);
    const m = await scrape(metricsUrl(sys.subgraphUrls.organizations));
    expect(m.status).toBe(200);
    const own = { service: 'organizations' };
    expect(
      value(m.samples, 'sql_statement_duration_seconds_count', { ...own, outcome: 'ok' }),
    ).toBeGreaterThan(0);
    expect(
      value(m.samples, 'sql_statement_duration_seconds_bucket', { ...own, outcome: 'ok', le: '+Inf' }),
    ).toBe(value(m.samples, 'sql_statement_duration_seconds_count', { ...own, outcome: 'ok' }));
    // The gateway's calls, by the names the gateway gives them.
    const requests = find(m.samples, 'graphql_requests_total', { ...own, outcome: 'ok' });
    expect(requests.length).toBeGreaterThan(0);
    // Only its own metrics: none of the gateway's.
    expect(find(m.samples, 'subgraph_fetch_duration_seconds_count')).toEqual([]);
    expect(find(m.samples, 'graphql_requests_total', { service: 'gateway' })).toEqual([]);
    // SQLite has no connection pool: no pool figures rather than made-up ones.
    expect(find(m.samples, 'sql_pool_connections_open')).toEqual([]);
    // GraphQL itself still wants a signature.
    const direct = await fetch(sys.subgraphUrls.organizations, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ operationName: 'Unsigned', query: 'query Unsigned { __typename }' }),
    });
    expect(direct.status).toBe(401);
    // Refused before Apollo, and counted as refused, with its time: as anonymous, the body being refused unread.
    const after = (await scrape(metricsUrl(sys.subgraphUrls.organizations))).samples;
    const unsigned = { ...own, operation: 'anonymous', outcome: 'refused' };
    expect(value(after, 'graphql_requests_total', unsigned)).toBe(1);
    expect(value(after, 'graphql_request_duration_seconds_count', unsigned)).toBe(1);
    // So does /health stay open.
    expect((await fetch(sys.subgraphUrls.organizations.replace(/\/graphql$/, '/health'))).status).toBe(200);
  });
});

describe("a subgraph's import metrics", () => {
  test('say what the imports into its tables did: runs by status, rows committed, the last completion', async () => {
    const s = (await scrape(metricsUrl(sys.subgraphUrls.budgets))).samples;
    const own = { service: 'budgets' };
    // The seed loads the bundled budgets through the importers, each run recorded in import_runs.
    const runs = find(s, 'import_runs', { ...own, status: 'completed' });
    expect(runs.length).toBeGreaterThan(0);
    for (const r of runs) {
      expect(r.value).toBeGreaterThanOrEqual(1);
      const committed = value(s, 'import_rows', {
        ...own,
        importer: r.labels.importer,
        outcome: 'committed',
      });
      expect(committed).toBeGreaterThan(0);
      expect(value(s, 'import_rows', { ...own, importer: r.labels.importer, outcome: 'refused' })).toBe(0);
      const at = value(s, 'import_last_completed_timestamp_seconds', {
        ...own,
        importer: r.labels.importer,
      })!;
      expect(Math.abs(at - Date.now() / 1000)).toBeLessThan(3600);
    }
    // The committed rows are the import_runs table's own count.
    const [{ n }] = await sys.dataSources.budgets.query('SELECT SUM(committed_rows) AS n FROM import_runs');
    const total = find(s, 'import_rows', { ...own, outcome: 'committed' }).reduce((t, x) => t + x.value, 0);
    expect(total).toBe(Number(n));
    // An import with a refused row: counted as refused under its importer.
    const folder = mkdtempSync(join(tmpdir(), 'civic-metrics-'));
    try {
      cpSync(join(__dirname, '..', 'fixtures', 'import', 'fiscal-data-package', 'bou-arada-2018'), folder, {
        recursive: true,
      });
      appendFileSync(join(folder, 'expenditure.csv'), '2018,1,01101,0009,000,سطر خاطئ,not-a-number\n');
      const report = await importWith(
        budgetsImporters,
        'fiscal-data-package',
        sys.dataSources.budgets,
        folder,
      );
      expect(report.outcome).toBe('loaded-with-refusals');
      expect(report.rows.refused).toBe(1);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
    const after = (await scrape(metricsUrl(sys.subgraphUrls.budgets))).samples;
    const fdp = { ...own, importer: 'fiscal-data-package' };
    expect(value(after, 'import_rows', { ...fdp, outcome: 'refused' })).toBe(1);
    expect(value(after, 'import_runs', { ...fdp, status: 'completed' })).toBeGreaterThanOrEqual(1);
    // The gateway imports nothing: no import metrics there.
    expect(find((await scrape(metricsUrl(sys.gatewayUrl))).samples, 'import_runs')).toEqual([]);
  });
});

(BACKENDS.includes('mysql') ? describe : describe.skip)('a subgraph on MySQL', () => {
  test("has its connection pool's use in /metrics", async () => {
    const mysql = await startSystem('mysql');
    try {
      expect((await mysql.queryGateway(ORGANIZATION)).errors).toBeUndefined();
      const s = (await scrape(metricsUrl(mysql.subgraphUrls.budgets))).samples;
      const own = { service: 'budgets' };
      const open = value(s, 'sql_pool_connections_open', own)!;
      expect(open).toBeGreaterThanOrEqual(1);
      expect(value(s, 'sql_pool_connections_idle', own)).toBeLessThanOrEqual(open);
      // Nothing runs while the page is read.
      expect(value(s, 'sql_pool_waiting', own)).toBe(0);
      expect(value(s, 'sql_pool_connections_max', own)).toBe(10);
      expect(value(s, 'sql_statement_duration_seconds_count', { ...own, outcome: 'ok' })).toBeGreaterThan(0);
    } finally {
      await mysql.stop();
    }
  });
});

describe('METRICS_PORT', () => {
  test('serves /metrics on its own port, and the service port answers 404 there', async () => {
    // Another organizations service on the same data source (it takes over the timing of its statements).
    const service = await withEnv({ METRICS_PORT: '0' }, () =>
      MODULES.organizations.createService(sys.dataSources.organizations, {
        closeDataSource: false,
        signatureSecret: null,
      }),
    );
    let metricsPort: number | undefined;
    try {
      const listening = await service.listen(0, '127.0.0.1');
      metricsPort = listening.metricsPort;
      expect(metricsPort).toBeGreaterThan(0);
      expect(metricsPort).not.toBe(listening.port);
      const q = await fetch(listening.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: 'query CountMe { organization(id: "tn-municipality-34012") { name } }',
        }),
      });
      expect(q.status).toBe(200);

      const onMain = await fetch(metricsUrl(listening.url));
      expect(onMain.status).toBe(404);
      expect(await onMain.text()).not.toMatch(/graphql_requests_total/);

      const m = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(m.status).toBe(200);
      // Its own registry: the one request it answered (named CountMe, or "other" once the process has seen
      // MAX_OPERATION_NAMES names, as after the test above).
      const counted = find(m.samples, 'graphql_requests_total', { service: 'organizations', outcome: 'ok' });
      expect(counted.map((x) => x.value)).toEqual([1]);
      expect(['CountMe', 'other']).toContain(counted[0].labels.operation);
      expect(value(m.samples, 'sql_statement_duration_seconds_count', { outcome: 'ok' })).toBeGreaterThan(0);
      expect((await fetch(`http://127.0.0.1:${metricsPort}/graphql`)).status).toBe(404);
    } finally {
      await service.stop();
    }
    // Closed with its service.
    await expect(fetch(`http://127.0.0.1:${metricsPort}/metrics`)).rejects.toThrow();
  });

  test('is one page for all the services of a process that share it (npm start)', async () => {
    const port = await freePort();
    const services = await withEnv({ METRICS_PORT: String(port) }, () =>
      Promise.all(
        (['organizations', 'commitments'] as const).map((name) =>
          MODULES[name].createService(sys.dataSources[name], {
            closeDataSource: false,
            signatureSecret: null,
          }),
        ),
      ),
    );
    try {
      const ports = [];
      for (const service of services) {
        const listening = await service.listen(0, '127.0.0.1');
        ports.push(listening.metricsPort);
        const res = await fetch(listening.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ __typename }' }),
        });
        expect(res.status).toBe(200);
      }
      expect(ports).toEqual([port, port]);
      const m = await scrape(`http://127.0.0.1:${port}/metrics`);
      expect(m.status).toBe(200);
      // One HELP and one TYPE per metric name, whatever the number of services; their samples apart by `service`.
      const names = [...m.text.matchAll(/^# TYPE (\S+)/gm)].map((x) => x[1]);
      expect(new Set(names).size).toBe(names.length);
      const counted = find(m.samples, 'graphql_requests_total', { operation: 'anonymous', outcome: 'ok' });
      expect(counted.map((x) => [x.labels.service, x.value]).sort()).toEqual([
        ['commitments', 1],
        ['organizations', 1],
      ]);
      expect(find(m.samples, 'process_cpu_user_seconds_total')).toHaveLength(1);
    } finally {
      await services[0].stop();
      // Still served for the service left.
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
      await services[1].stop();
    }
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });
});

/** A port nothing listens on now (bound then released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
