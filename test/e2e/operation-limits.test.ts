import { getIntrospectionQuery } from 'graphql';
import { DEFAULT_OPERATION_LIMITS } from '@civic/common/config';
import type { Service } from '@civic/common/service';
import { sign } from '@civic/common/signing';
import { createGatewayService } from '@civic/gateway/server';
import { SUBGRAPH_NAMES, type SubgraphName } from '@civic/subgraphs';
import { ENTITIES_QUERY, HOSTILE_DOCUMENTS, nest, representations } from '../bench/hostile-documents';
import { countingProxy, type CountingProxy } from '../support/counting-proxy';
import { MODULES, startSystem, type GraphQLResponse, type System } from '../support/system';

/**
 * Issue 10's hostile documents, sent to real servers: each is refused with its own code, the limit and the
 * measured value, before any subgraph is called (a counting proxy stands between the gateway and each
 * subgraph), and directly to a subgraph (defence in depth). The refusal times are printed, not asserted.
 */

let system: System;
let gateway: Service;
let gatewayUrl: string;
const proxies = {} as Record<SubgraphName, CountingProxy>;
const timings: string[] = [];

beforeAll(async () => {
  system = await startSystem('sqlite');
  for (const name of SUBGRAPH_NAMES) proxies[name] = await countingProxy(system.subgraphUrls[name]);
  const urls = Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, proxies[n].url]));
  gateway = await createGatewayService({
    subgraphUrls: urls,
    limits: DEFAULT_OPERATION_LIMITS,
    introspection: true,
    reportCost: true,
    // The rate limit's own tests are in rate-limits.test.ts; here every answer is about the operation alone.
    rateLimit: { costPerMinute: 0 },
  });
  gatewayUrl = (await gateway.listen(0, '127.0.0.1')).url;
});

afterAll(async () => {
  await gateway?.stop();
  for (const p of Object.values(proxies)) await p.close();
  await system?.stop();
  if (timings.length) console.log(`Refusal times (gateway, 2 vCPU):\n${timings.join('\n')}`);
});

const subgraphCalls = () => SUBGRAPH_NAMES.reduce((n, name) => n + proxies[name].count, 0);

interface Answer {
  status: number;
  headers: Headers;
  body: GraphQLResponse & { extensions?: Record<string, unknown> };
  ms: number;
}

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<Answer> {
  const started = process.hrtime.bigint();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const json = (await res.json()) as Answer['body'];
  return {
    status: res.status,
    headers: res.headers,
    body: json,
    ms: Number(process.hrtime.bigint() - started) / 1e6,
  };
}

const gql = (query: string, variables?: Record<string, unknown>, operationName?: string) =>
  post(gatewayUrl, JSON.stringify({ query, variables, operationName }));

/** Sends a hostile document to the gateway; expects one refusal with `code`, and no subgraph called. */
async function refused(name: string, query: string, code: string, variables?: Record<string, unknown>) {
  const before = subgraphCalls();
  const answer = await gql(query, variables);
  const found = answer.body.errors?.find((e) => e.extensions?.code === code)?.extensions;
  timings.push(
    `  ${name.padEnd(58)} ${answer.ms.toFixed(1).padStart(8)} ms  ${code} (${String(found?.measured)} > ${String(found?.limit)})`,
  );
  expect(answer.status).toBe(400);
  expect(answer.body.data).toBeUndefined();
  const codes = answer.body.errors!.map((e) => e.extensions?.code);
  expect(codes).toContain(code);
  const error = answer.body.errors!.find((e) => e.extensions?.code === code)!;
  expect(error.extensions).toEqual(
    expect.objectContaining({ limit: expect.any(Number), measured: expect.any(Number) }),
  );
  expect(error.extensions!.measured as number).toBeGreaterThan(error.extensions!.limit as number);
  expect(JSON.stringify(answer.body)).not.toMatch(/127\.0\.0\.1|localhost|stack/i);
  expect(subgraphCalls()).toBe(before);
  return answer;
}

const H = HOSTILE_DOCUMENTS;

describe('hostile documents are refused at the gateway before any subgraph is called', () => {
  it('nested budget lines, first: 100 at each level, deeper than allowed: QUERY_TOO_DEEP', async () => {
    await refused(H.deepLines.name, H.deepLines.query, H.deepLines.code);
  });

  it('nested budget lines within the depth: QUERY_TOO_COMPLEX, with the cost measured', async () => {
    const answer = await refused(H.nestedLines.name, H.nestedLines.query, 'QUERY_TOO_COMPLEX');
    // 2 + 100 budgets x (1 + 2 + 100 lines x (1 + 1 budget + 2 + 100 lines x 1)).
    expect(answer.body.errors).toEqual([
      {
        message: expect.stringMatching(/^Cost: 1040302, more than the 50000 allowed/),
        extensions: { code: 'QUERY_TOO_COMPLEX', limit: 50_000, measured: 1_040_302 },
      },
    ]);
    expect(answer.body.extensions?.cost).toEqual({ requested: 1_040_302, limit: 50_000 });
  });

  it('the parent/children ping-pong: QUERY_TOO_COMPLEX, in fields and in fragments', async () => {
    await refused(H.pingPong.name, H.pingPong.query, 'QUERY_TOO_COMPLEX');
    await refused(H.pingPongFragments.name, H.pingPongFragments.query, 'QUERY_TOO_COMPLEX');
  });

  it('40,000 aliases: TOO_MANY_TOKENS while parsing; 31 aliases: TOO_MANY_ALIASES', async () => {
    await refused(H.aliases40k.name, H.aliases40k.query, 'TOO_MANY_TOKENS');
    await refused(H.aliases31.name, H.aliases31.query, 'TOO_MANY_ALIASES');
  });

  it('15 levels of fragment fan-out: TOO_MANY_FIELDS (2^15 once expanded)', async () => {
    expect(H.fanOut.query.length).toBeLessThan(2000);
    await refused(H.fanOut.name, H.fanOut.query, 'TOO_MANY_FIELDS');
  });

  it('a fragment cycle is refused by validation, without looping', async () => {
    const before = subgraphCalls();
    const answer = await gql(
      `{ organization(id: "gov-tn") { ...A } } fragment A on Organization { ...B } fragment B on Organization { ...A }`,
    );
    expect(answer.status).toBe(400);
    expect(answer.body.errors![0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(subgraphCalls()).toBe(before);
  });

  it('too many root fields, directives, and too deep: each its own code', async () => {
    await refused(H.rootFields.name, H.rootFields.query, 'TOO_MANY_ROOT_FIELDS');
    await refused(H.directives.name, H.directives.query, 'TOO_MANY_DIRECTIVES');
    await refused(H.parents.name, H.parents.query, 'QUERY_TOO_DEEP');
  });

  it('a body over 1 MB: JSON 413 PAYLOAD_TOO_LARGE, not an HTML page', async () => {
    const before = subgraphCalls();
    const body = JSON.stringify({ query: `{ __typename }`, variables: { pad: 'x'.repeat(1_100_000) } });
    const answer = await post(gatewayUrl, body);
    timings.push(`  ${'a 1.1 MB body'.padEnd(58)} ${answer.ms.toFixed(1).padStart(8)} ms  PAYLOAD_TOO_LARGE`);
    expect(answer.status).toBe(413);
    expect(answer.headers.get('content-type')).toMatch(/application\/json/);
    expect(answer.body.errors).toEqual([
      {
        message: 'The request body is larger than the 1048576 bytes allowed',
        extensions: { code: 'PAYLOAD_TOO_LARGE', limit: 1_048_576, measured: body.length },
      },
    ]);
    expect(subgraphCalls()).toBe(before);
  });
});

describe('what a dashboard sends still passes, and says what it cost', () => {
  it('a 100-row page with its organizations: data, and extensions.cost { requested, limit }', async () => {
    const answer = await gql(/* GraphQL */ `
      {
        commitments(first: 100) {
          nodes {
            id
            leadOrganization {
              name
            }
            supportingOrganizations {
              name
            }
            actionPlan {
              member {
                name
              }
            }
          }
        }
      }
    `);
    expect(answer.status).toBe(200);
    expect(answer.body.errors).toBeUndefined();
    expect(
      (answer.body.data as { commitments: { nodes: unknown[] } }).commitments.nodes.length,
    ).toBeGreaterThan(0);
    // 2 for the page, then per commitment: itself 1, leadOrganization 1, 40 supporting ones, plan and member 2.
    expect(answer.body.extensions?.cost).toEqual({ requested: 2 + 100 * 44, limit: 50_000 });
  });

  it('a query at the depth and root-field limits, costing thousands, passes the gateway and every subgraph', async () => {
    // Depth 10 (the limit), 20 root fields (the limit), three dashboards, a deep walk and 10,000 children: nothing refused
    // anywhere, although each subgraph checks the part of it that the gateway sends.
    const small = Array.from(
      { length: 15 },
      (_, i) => `o${i}: organizations(first: 100) { nodes { id name parent { name } } }`,
    );
    const deep = nest(
      [
        'deep: organization(id: "tn-municipality-34012")',
        'parent',
        'parent',
        'budgets',
        'lines(first: 5)',
        'nodes',
        'budget',
        'organization',
        'parent',
      ],
      'name',
    );
    const dashboards = /* GraphQL */ `
      kids: organizations(first: 100, filter: { kind: GOVERNMENT }) { nodes { id children { id name } } }
      page: commitments(first: 100) {
        nodes { id leadOrganization { name } supportingOrganizations { name } actionPlan { member { name } } }
      }
      members: organizations(first: 50, filter: { ogpMember: true }) {
        nodes { id name commitmentStats(groupBy: [COMPLETION_END_OF_TERM]) { keys { value } count } }
      }
      lines: budgetLines(first: 100, filter: { direction: EXPENDITURE }) {
        nodes { id code label budget { fiscalYear } amounts { phase amount { amount currency } } }
      }
    `;
    const before = subgraphCalls();
    const answer = await gql(`{ ${deep} ${small.join(' ')} ${dashboards} }`);
    expect(answer.body.errors).toBeUndefined();
    expect(answer.status).toBe(200);
    const data = answer.body.data as Record<string, { nodes?: unknown[] }>;
    expect(data.page.nodes!.length).toBeGreaterThan(0);
    expect(data.lines.nodes!.length).toBeGreaterThan(0);
    expect(subgraphCalls()).toBeGreaterThan(before);
    // As docs/protection.md adds them up: deep 3 + 10 budgets x (1 + 2 + 5 lines x 4) = 233; 15 x (2 + 100 x 2)
    // = 3030; kids 2 + 100 x (1 + 100) = 10102; page 2 + 100 x (1 + 1 + 40 + 2) = 4402; members 1652 (11 keys
    // at most per group); lines 2 + 100 x (1 + 1 + 20 amounts x 2) = 4202 (amounts' default first, 20).
    expect(answer.body.extensions?.cost).toEqual({ requested: 23_621, limit: 50_000 });
  });

  it('with REPORT_COST=false only a refusal for cost carries extensions.cost', async () => {
    // startSystem's gateway is built with reportCost: false (test/support/system.ts).
    const fine = await system.queryGateway('{ organizations(first: 3) { totalCount } }');
    expect(fine).toEqual({ data: { organizations: { totalCount: expect.any(Number) } } });
    const refusal = (await system.queryGateway(H.pingPong.query)) as Answer['body'];
    expect(refusal.errors![0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(refusal.extensions).toEqual({ cost: { requested: 1_020_201, limit: 50_000 } });
  });

  it('the explorer still introspects the gateway (INTROSPECTION defaults on)', async () => {
    const answer = await gql(getIntrospectionQuery());
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.extensions?.cost).toEqual({ requested: 0, limit: 50_000 });
  });
});

describe('input hygiene at the gateway', () => {
  it('says nothing of Express', async () => {
    const res = await fetch(gatewayUrl.replace(/graphql$/, 'health'));
    expect(res.headers.get('x-powered-by')).toBeNull();
    const answer = await gql('{ __typename }');
    expect(answer.headers.get('x-powered-by')).toBeNull();
  });

  it('an operationName the document lacks is the client error OPERATION_RESOLUTION_FAILURE', async () => {
    const answer = await gql('query A { __typename }', undefined, 'B');
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([
      {
        message: 'The document has no operation named "B"',
        extensions: { code: 'OPERATION_RESOLUTION_FAILURE' },
      },
    ]);
    const two = await gql('query A { __typename } query B { __typename }');
    expect(two.status).toBe(400);
    expect(two.body.errors![0].extensions?.code).toBe('OPERATION_RESOLUTION_FAILURE');
  });

  it('a body that is not JSON gets a JSON 400 BAD_REQUEST', async () => {
    const answer = await post(gatewayUrl, '{"query": "{ __typename }"');
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([
      { message: 'The request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } },
    ]);
  });

  it('variables that do not fit the operation: BAD_USER_INPUT, before any subgraph is called', async () => {
    const before = subgraphCalls();
    const answer = await gql('query ($n: Int) { organizations(first: $n) { totalCount } }', { n: 'many' });
    expect(answer.status).toBe(400);
    expect(answer.body.errors![0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(subgraphCalls()).toBe(before);
  });
});

describe('each subgraph applies the same limits to direct calls (defence in depth)', () => {
  it('10,000 representations sent to _entities: QUERY_TOO_COMPLEX, no SQL run', async () => {
    const statements = system.counters.organizations.total;
    const body = JSON.stringify({
      query: ENTITIES_QUERY,
      variables: { representations: representations(10_000) },
    });
    const answer = await post(system.subgraphUrls.organizations, body);
    timings.push(
      `  ${'10,000 _entities representations (organizations subgraph)'.padEnd(58)} ${answer.ms.toFixed(1).padStart(8)} ms  QUERY_TOO_COMPLEX`,
    );
    expect(answer.status).toBe(400);
    // Each representation: the organization 1, names 1, 5 identifiers, 100 children, its source 1.
    expect(answer.body.errors).toEqual([
      {
        message: expect.stringMatching(/^Cost: 1080000, more than the 50000 allowed/),
        extensions: { code: 'QUERY_TOO_COMPLEX', limit: 50_000, measured: 1_080_000 },
      },
    ]);
    expect(system.counters.organizations.total).toBe(statements);
    // What the gateway sends for a page of 100 passes.
    const page = JSON.stringify({
      query: ENTITIES_QUERY,
      variables: { representations: representations(100) },
    });
    const few = await post(system.subgraphUrls.organizations, page);
    expect(few.body.errors).toBeUndefined();
    expect(system.counters.organizations.total).toBeGreaterThan(statements);
  });

  it('the nested budget lines straight to the budgets subgraph: QUERY_TOO_COMPLEX; a big body: JSON 413', async () => {
    const statements = system.counters.budgets.total;
    const answer = await post(system.subgraphUrls.budgets, JSON.stringify({ query: H.nestedLines.query }));
    expect(answer.status).toBe(400);
    expect(answer.body.errors![0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(system.counters.budgets.total).toBe(statements);
    const big = await post(
      system.subgraphUrls.budgets,
      JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(1_100_000) } }),
    );
    expect(big.status).toBe(413);
    expect(big.body.errors![0].extensions?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(big.headers.get('x-powered-by')).toBeNull();
  });

  it('introspection: refused to a direct caller; answered to the gateway signed calls of a subgraph with a secret', async () => {
    const query = JSON.stringify({ query: '{ __schema { queryType { name } } }' });
    const open = await post(system.subgraphUrls.organizations, query);
    expect(open.status).toBe(400);
    expect(open.body.errors![0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(open.body.errors![0].message).toMatch(/introspection/i);

    const secret = 'a-test-secret-of-32-characters!!';
    const signed = await MODULES.organizations.createService(system.dataSources.organizations, {
      closeDataSource: false,
      signatureSecret: secret,
    });
    try {
      const url = (await signed.listen(0, '127.0.0.1')).url;
      const answer = await post(url, query, { 'x-civic-signature': sign(secret, query) });
      expect(answer.body).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
    } finally {
      await signed.stop();
    }
  });
});

describe('what the fuzzer found (test/e2e/fuzz.test.ts)', () => {
  it.each(['mutation', 'subscription'])(
    'a %s is a validation error (the graph is read-only), not a 500',
    async (operation) => {
      const before = subgraphCalls();
      const answer = await gql(`${operation} { __typename }`);
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({
        errors: [
          {
            message: `This API has no ${operation} operations: it answers queries only`,
            locations: [{ line: 1, column: 1 }],
            extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
          },
        ],
      });
      expect(subgraphCalls()).toBe(before);
    },
  );

  it('a persisted query (bad hash or version) is told they are not supported, not an internal error', async () => {
    for (const persistedQuery of [
      { version: 1, sha256Hash: 'x' },
      { version: 2, sha256Hash: 'x' },
    ]) {
      const answer = await post(
        gatewayUrl,
        JSON.stringify({ query: '{ __typename }', extensions: { persistedQuery } }),
      );
      expect(answer.body.errors?.map((e) => e.extensions?.code)).toEqual(['PERSISTED_QUERY_NOT_SUPPORTED']);
    }
  });
});
