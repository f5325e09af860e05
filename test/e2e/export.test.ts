import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import type { Service } from '@civic/common/service';
import { loadSavedQueries } from '@civic/gateway/export/saved-queries';
import { createGatewayService } from '@civic/gateway/server';
import {
  BACKENDS,
  systemsPerBackend,
  type Backend,
  type GraphQLResponse,
  type System,
} from '../support/system';
import { csvRows, exportUrl as exportUrlAt, readAll } from '../support/export';

/**
 * GET /export.csv and /export.json, and `npm run export`, against the whole system on every backend: the
 * rows of an export must be the nodes GraphQL gives for the same query, page after page, whatever the page
 * size; every saved query must run; refusals must say what was wrong; a failure after the download began
 * must cut it short rather than hand over a file that looks complete.
 */

const ROOT = join(__dirname, '..', '..');
const systemOf = systemsPerBackend();
const SAVED = loadSavedQueries();

const base = (sys: System) => sys.gatewayUrl.replace(/\/graphql$/, '');

/** GET /export.<format> with these parameters (variables as JSON). */
const exportUrl = (sys: System, format: 'csv' | 'json', params: Record<string, unknown>): string =>
  exportUrlAt(base(sys), format, params);

/** Every node of a connection read through /graphql with `after` cursors: what an export must reproduce. */
async function walk(
  sys: System,
  query: string,
  field: string,
  variables: Record<string, unknown> = {},
  headers?: Record<string, string>,
): Promise<{ nodes: any[]; totalCount: number }> {
  const nodes: any[] = [];
  let after: string | null = null;
  let totalCount = -1;
  for (let page = 0; page < 1000; page++) {
    const res: GraphQLResponse<any> = await sys.queryGateway<any>(query, { ...variables, after }, headers);
    expect(res.errors).toBeUndefined();
    const c: any = res.data![field];
    totalCount = c.totalCount;
    nodes.push(...(c.nodes ?? c.edges.map((e: { node: unknown }) => e.node)));
    if (!c.pageInfo.hasNextPage) return { nodes, totalCount };
    after = c.pageInfo.endCursor;
  }
  throw new Error('the pages never end');
}

const ORGANIZATIONS = /* GraphQL */ `
  query ($filter: OrganizationFilter, $after: String) {
    organizations(first: 100, after: $after, filter: $filter) {
      totalCount
      nodes {
        id
        name
        names {
          ar
          fr
          en
          es
        }
        kind
        classification
        country
        parent {
          id
          name
        }
        identifiers {
          scheme
          value
        }
        ogpMembership {
          type
          joined
        }
        source {
          dataset
          url
          license
          record
          file
          checksum
          line
          importedAt
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

/** The CSV row an organization node must give, written out column by column. */
const organizationRow = (n: any) => ({
  id: n.id,
  name: n.name,
  'names.ar': n.names.ar ?? '',
  'names.fr': n.names.fr ?? '',
  'names.en': n.names.en ?? '',
  'names.es': n.names.es ?? '',
  kind: n.kind,
  classification: n.classification ?? '',
  country: n.country ?? '',
  'parent.id': n.parent?.id ?? '',
  'parent.name': n.parent?.name ?? '',
  'identifiers.scheme': n.identifiers.map((i: any) => i.scheme).join('; '),
  'identifiers.value': n.identifiers.map((i: any) => i.value).join('; '),
  'ogpMembership.type': n.ogpMembership?.type ?? '',
  'ogpMembership.joined': n.ogpMembership?.joined ?? '',
  'source.dataset': n.source.dataset,
  'source.url': n.source.url ?? '',
  'source.license': n.source.license ?? '',
  'source.record': n.source.record ?? '',
  'source.file': n.source.file ?? '',
  'source.checksum': n.source.checksum ?? '',
  'source.line': n.source.line === null ? '' : String(n.source.line),
  'source.importedAt': n.source.importedAt ?? '',
});

describe.each(BACKENDS)('exports on %s', (backend: Backend) => {
  let sys: System;
  beforeAll(() => {
    sys = systemOf(backend);
  });

  test('saved query "organizations" as CSV, in Arabic: row by row the GraphQL nodes, with their sources', async () => {
    const filter = { country: 'TN' };
    const headers = { 'accept-language': 'ar', 'x-request-id': `export-${backend}` };
    const res = await fetch(exportUrl(sys, 'csv', { name: 'organizations', variables: { filter } }), {
      headers,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(
      /^attachment; filename="organizations-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    expect(res.headers.get('x-request-id')).toBe(`export-${backend}`);
    const text = await res.text();
    const expected = await walk(sys, ORGANIZATIONS, 'organizations', { filter }, headers);
    // More than one page of 100, so the export paged.
    expect(expected.totalCount).toBeGreaterThan(200);
    expect(res.headers.get('x-total-count')).toBe(String(expected.totalCount));

    expect(text.split('\r\n')[0]).toBe(Object.keys(organizationRow(expected.nodes[0])).join(','));
    const rows = csvRows(text);
    expect(rows).toEqual(expected.nodes.map(organizationRow));
    // Accept-Language reached the subgraphs: Bou Arada's name is the Arabic one, as the source writes it.
    const bouArada = rows.find((r) => r.id === 'tn-municipality-34012')!;
    expect(bouArada.name).toBe('بوعرادة');
    expect(bouArada['names.ar']).toBe('بوعرادة');
    expect(bouArada['identifiers.value']).toBe('34012');
    expect(rows.every((r) => r['source.dataset'] !== '')).toBe(true);
  });

  test('pages of 7 over hundreds of rows: every row once, as many as totalCount, in GraphQL order', async () => {
    const query = /* GraphQL */ `
      query Tunisia($filter: OrganizationFilter) {
        organizations(first: 7, filter: $filter, orderBy: [{ field: NAME }]) {
          totalCount
          nodes {
            id
            name
          }
        }
      }
    `;
    const filter = { country: 'TN' };
    const res = await fetch(exportUrl(sys, 'csv', { query, variables: { filter } }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/filename="tunisia-\d{4}-\d{2}-\d{2}\.csv"/);
    const rows = csvRows(await res.text());
    const count = await sys.queryGateway<any>(`{ organizations(filter: { country: "TN" }) { totalCount } }`);
    const totalCount = count.data!.organizations.totalCount;
    expect(totalCount).toBeGreaterThanOrEqual(100);
    expect(rows).toHaveLength(totalCount);
    expect(new Set(rows.map((r) => r.id)).size).toBe(totalCount);
    const ordered = await walk(
      sys,
      /* GraphQL */ `
        query ($filter: OrganizationFilter, $after: String) {
          organizations(first: 100, after: $after, filter: $filter, orderBy: [{ field: NAME }]) {
            totalCount
            nodes {
              id
              name
            }
            pageInfo {
              hasNextPage
              endCursor
            }
          }
        }
      `,
      'organizations',
      { filter },
    );
    expect(rows).toEqual(ordered.nodes.map((n) => ({ id: n.id, name: n.name })));
  });

  test('JSON: an array of the nodes exactly as GraphQL returns them (edges { node } works too)', async () => {
    const query = /* GraphQL */ `
      query ($filter: CommitmentFilter, $after: String) {
        commitments(first: 5, after: $after, filter: $filter) {
          totalCount
          edges {
            node {
              id
              title
              policyAreas
              leadOrganization {
                name
              }
              assessment {
                completionEndOfTerm
              }
              source {
                dataset
                record
              }
            }
          }
          pageInfo {
            hasNextPage
            endCursor
          }
        }
      }
    `;
    const filter = { country: 'MA' };
    const res = await fetch(exportUrl(sys, 'json', { query, variables: { filter } }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/filename="commitments-\d{4}-\d{2}-\d{2}\.json"/);
    const exported = await res.json();
    const expected = await walk(sys, query, 'commitments', { filter });
    expect(expected.totalCount).toBeGreaterThan(5);
    expect(exported).toEqual(expected.nodes);
  });

  test.each([...SAVED.keys()])('saved query "%s" exports every row, each with its source', async (name) => {
    const res = await fetch(exportUrl(sys, 'csv', { name }));
    expect(res.status).toBe(200);
    const text = await res.text();
    const header = text.slice(0, text.indexOf('\r\n')).split(',');
    expect(header).toEqual(
      expect.arrayContaining(['source.dataset', 'source.url', 'source.license', 'source.record']),
    );
    const rows = csvRows(text);
    expect(rows.length).toBeGreaterThan(100);
    expect(rows).toHaveLength(Number(res.headers.get('x-total-count')));
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    expect(rows.filter((r) => !r['source.dataset'])).toEqual([]);
  });

  test('budget lines: amounts by phase in aligned cells, exact to the millime', async () => {
    const variables = { filter: { budgetId: 'tn-34012-2018' } };
    const res = await fetch(exportUrl(sys, 'csv', { name: 'budget-lines', variables }));
    const rows = csvRows(await res.text());
    const line = rows.find((r) => r.id === 'tn-34012-2018-EXP-1.01100.0001.000')!;
    const gql = await sys.queryGateway<any>(
      `{ budgetLine(id: "tn-34012-2018-EXP-1.01100.0001.000") { labels { ar } amounts { phase amount { amount } asOf } } }`,
    );
    const amounts = gql.data!.budgetLine.amounts as {
      phase: string;
      amount: { amount: string };
      asOf: string | null;
    }[];
    expect(amounts.length).toBeGreaterThan(1);
    expect(line).toMatchObject({
      'budget.fiscalYear': '2018',
      'labels.ar': gql.data!.budgetLine.labels.ar,
      'amounts.phase': amounts.map((a) => a.phase).join('; '),
      'amounts.amount.amount': amounts.map((a) => a.amount.amount).join('; '),
      'amounts.asOf': amounts.map((a) => a.asOf ?? '').join('; '),
    });
  });
});

describe('export refusals (400, naming the problem)', () => {
  let sys: System;
  beforeAll(() => {
    sys = systemOf(BACKENDS[0]);
  });

  const refused = async (
    params: Record<string, unknown>,
    message: RegExp,
    format: 'csv' | 'json' = 'csv',
  ) => {
    const res = await fetch(exportUrl(sys, format, params));
    expect({ status: res.status, type: res.headers.get('content-type') }).toEqual({
      status: 400,
      type: 'application/json; charset=utf-8',
    });
    const body = await res.json();
    expect(body.errors[0].message).toMatch(message);
    // Nothing internal: no stack, no SQL, no internal URL.
    expect(JSON.stringify(body)).not.toMatch(/stack|SELECT|127\.0\.0\.1|\.ts:/);
  };

  test('bad query syntax', () =>
    refused({ query: '{ organizations { nodes { id }' }, /^The query is not valid GraphQL: Syntax Error/));

  test('no connection in the query', () =>
    refused({ query: '{ organization(id: "gov-ma") { name } }' }, /^The query has no connection to export/));

  test('a connection with no nodes selected', () =>
    refused({ query: '{ organizations { totalCount } }' }, /"organizations" selects no nodes/));

  test('unknown saved query, listing the saved ones', () =>
    refused(
      { name: 'budgets-2018' },
      /no saved query named "budgets-2018".*budget-lines, commitments, organizations/,
    ));

  test('neither a query nor a name', () => refused({}, /Say what to export/));

  test('a mutation', () =>
    refused(
      { query: 'mutation M { organizations { nodes { id } } }' },
      /^Only queries can be exported: "M" is a mutation/,
    ));

  test('variables that are not JSON, or not an object', async () => {
    await refused({ name: 'organizations', variables: '{filter:' }, /^"variables" is not valid JSON/);
    await refused({ name: 'organizations', variables: '[1]' }, /^"variables" must be a JSON object/);
  });

  test('the API’s own limits and checks apply: first over 100, a bad filter, a misspelt field', async () => {
    await refused(
      { query: '{ organizations(first: 500) { nodes { id } } }' },
      /"first" must be between 0 and 100/,
      'json',
    );
    await refused(
      { name: 'organizations', variables: { filter: { country: 'TUN' } } },
      /"filter\.country".*ISO 3166-1 alpha-2/,
    );
    await refused(
      { query: '{ organizations { nodes { nmae } } }' },
      /Cannot query field "nmae" on type "Organization"/,
    );
  });

  test('POST with a JSON body works like GET, for queries too long for a URL', async () => {
    const res = await fetch(`${base(sys)}/export.csv`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'organizations',
        variables: { filter: { parentId: 'tn-governorate-siliana' } },
      }),
    });
    expect(res.status).toBe(200);
    const rows = csvRows(await res.text());
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.every((r) => r['parent.id'] === 'tn-governorate-siliana')).toBe(true);

    const broken = await fetch(`${base(sys)}/export.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name": "organizations",',
    });
    expect(broken.status).toBe(400);
    expect((await broken.json()).errors[0].message).toMatch(/^The request body must be a JSON object/);
  });
});

describe('export limits and failures', () => {
  let sys: System;
  const opened: { stop(): Promise<void> }[] = [];
  beforeAll(() => {
    sys = systemOf(BACKENDS[0]);
  });
  afterEach(async () => {
    for (const o of opened.splice(0)) await o.stop();
  });

  /** Another gateway over the same subgraphs (organizations possibly through another URL), on port 0. */
  async function gateway(opts: { exportMaxRows?: number; organizationsUrl?: string }): Promise<string> {
    const service: Service = await createGatewayService({
      subgraphUrls: {
        ...sys.subgraphUrls,
        ...(opts.organizationsUrl ? { organizations: opts.organizationsUrl } : {}),
      },
      exportMaxRows: opts.exportMaxRows,
    });
    opened.push(service);
    return (await service.listen(0, '127.0.0.1')).url.replace(/\/graphql$/, '');
  }

  test('an export over EXPORT_MAX_ROWS is refused before any row, saying how many rows it would have', async () => {
    const url = await gateway({ exportMaxRows: 50 });
    const res = await fetch(
      `${url}/export.csv?name=organizations&variables=${encodeURIComponent('{"filter":{"country":"TN"}}')}`,
    );
    expect(res.status).toBe(400);
    const { errors } = await res.json();
    expect(errors[0].message).toMatch(
      /^This export would have \d+ rows, more than the 50 one export may have \(EXPORT_MAX_ROWS\)/,
    );
    const small = await fetch(
      `${url}/export.csv?name=organizations&variables=${encodeURIComponent('{"filter":{"parentId":"tn-governorate-siliana"}}')}`,
    );
    expect(small.status).toBe(200);
  });

  test('a page failing after the download began cuts the response short (no file that looks whole)', async () => {
    // The organizations subgraph, behind a proxy that fails every request after the first.
    const proxy = await faultyProxy(sys.subgraphUrls.organizations, 1);
    opened.push(proxy);
    const url = await gateway({ organizationsUrl: proxy.url });
    const query = '{ organizations(first: 5, filter: { country: "TN" }) { nodes { id name } } }';
    const res = await fetch(`${url}/export.csv?query=${encodeURIComponent(query)}`);
    expect(res.status).toBe(200);
    const { bytes, outcome } = await readAll(res);
    expect(outcome).toMatch(/^cut/);
    const text = bytes.toString('utf8');
    // At most the first page came through; nothing after it, and nothing from the failure.
    expect(csvRows(text).length).toBeLessThanOrEqual(5);
    expect(text).not.toMatch(/error/i);

    // The command line says so, exits 1, and leaves no partial file behind.
    const dir = mkdtempSync(join(tmpdir(), 'civic-export-'));
    try {
      const out = join(dir, 'cut.csv');
      proxy.reset();
      const cli = await runCli(['--query', writeQuery(dir, query), '--out', out, '--gateway', url]);
      expect(cli.code).toBe(1);
      expect(cli.stderr).toMatch(/The export was cut off before its end.*nothing was written to/);
      expect(existsSync(out)).toBe(false);
      expect(existsSync(`${out}.part`)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('npm run export (scripts/export.ts)', () => {
  let sys: System;
  let dir: string;
  beforeAll(() => {
    sys = systemOf(BACKENDS[0]);
    dir = mkdtempSync(join(tmpdir(), 'civic-export-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a saved query with variables into a CSV file: the same bytes as the download', async () => {
    const out = join(dir, 'siliana.csv');
    const variables = JSON.stringify({ filter: { parentId: 'tn-governorate-siliana' } });
    const cli = await runCli([
      '--name',
      'organizations',
      '--variables',
      variables,
      '--out',
      out,
      '--gateway',
      sys.gatewayUrl,
    ]);
    expect(cli).toMatchObject({ code: 0, stdout: '' });
    expect(cli.stderr).toMatch(/^Wrote .*siliana\.csv \(\d+ bytes, \d+ rows\)\.\n$/);
    const download = await buffer(
      (await fetch(exportUrl(sys, 'csv', { name: 'organizations', variables }))).body! as any,
    );
    expect(readFileSync(out)).toEqual(download);
    expect(csvRows(readFileSync(out, 'utf8')).length).toBeGreaterThan(5);
  });

  test('a query file and a variables file, as JSON on stdout', async () => {
    const query = writeQuery(
      dir,
      'query ($parent: ID) { organizations(filter: { parentId: $parent }) { nodes { id names { ar } } } }',
    );
    const vars = join(dir, 'vars.json');
    writeFileSync(vars, JSON.stringify({ parent: 'tn-governorate-siliana' }));
    const cli = await runCli([
      '--query',
      query,
      '--variables-file',
      vars,
      '--format',
      'json',
      '--gateway',
      base(sys),
    ]);
    expect(cli.code).toBe(0);
    const nodes = JSON.parse(cli.stdout);
    expect(nodes.length).toBeGreaterThan(5);
    expect(nodes.find((n: any) => n.id === 'tn-municipality-34012')).toEqual({
      id: 'tn-municipality-34012',
      names: { ar: 'بوعرادة' },
    });
  });

  test('failures: refused by the gateway (1), gateway unreachable (1), bad arguments (2)', async () => {
    const unknown = await runCli(['--name', 'nope', '--gateway', sys.gatewayUrl]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(
      /The gateway refused the export \(HTTP 400\):\n {2}There is no saved query named "nope"/,
    );

    const closed = await closedPort();
    const down = await runCli(['--name', 'organizations', '--gateway', `http://127.0.0.1:${closed}`]);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(`Cannot reach the gateway at http://127.0.0.1:${closed} (ECONNREFUSED)`);

    for (const args of [
      [],
      ['--name', 'organizations', '--query', 'q.graphql'],
      ['--name', 'organizations', '--format', 'xlsx'],
      ['--name', 'organizations', '--variables', '{oops'],
      ['--query', join(dir, 'missing.graphql')],
      ['--name', 'organizations', '--colour'],
    ]) {
      const bad = await runCli(args);
      expect({ args, code: bad.code }).toEqual({ args, code: 2 });
      expect(bad.stderr).toMatch(/Usage: npm run export/);
    }
  });
});

/** Runs `npx tsx scripts/export.ts` with these arguments. */
function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'npx',
      ['tsx', 'scripts/export.ts', ...args],
      { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'silent' }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err ? (err.code as number) : 0, stdout, stderr }),
    );
  });
}

/** A port nothing listens on: bound by the system, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function writeQuery(dir: string, query: string): string {
  const file = join(dir, `query-${Math.random().toString(36).slice(2)}.graphql`);
  writeFileSync(file, query);
  return file;
}

/** An HTTP proxy to a subgraph that forwards the first `ok` requests and answers 502 to the rest. */
async function faultyProxy(
  target: string,
  ok: number,
): Promise<{ url: string; reset(): void; stop(): Promise<void> }> {
  let count = 0;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await buffer(req);
      if (++count > ok) {
        res.writeHead(502, { 'content-type': 'text/plain' }).end('subgraph down');
        return;
      }
      const upstream = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      res
        .writeHead(upstream.status, {
          'content-type': upstream.headers.get('content-type') ?? 'application/json',
        })
        .end(Buffer.from(await upstream.arrayBuffer()));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    reset: () => {
      count = 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
