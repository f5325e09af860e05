import type { QueryRunner } from 'typeorm';
import type { Service } from '@civic/common/service';
import { createGatewayService } from '@civic/gateway/server';
import { DEFAULT_MAX_RESPONSE_BYTES, subgraphSource } from '@civic/gateway/subgraph-source';
import { SUBGRAPH_NAMES, type SubgraphName } from '@civic/subgraphs';
import { countingProxy, type CountingProxy } from '../support/counting-proxy';
import { logCapture } from '../support/log-capture';
import { probeEntities, startProbeSubgraph, type ProbeSubgraph } from '../support/probe-subgraph';
import { BACKENDS, startSystem, type Backend, type GraphQLResponse, type System } from '../support/system';
import { withEnv } from '../support/with-env';

/*
 * Issue 10: a per-request budget of what the subgraphs send back (MAX_RESPONSE_BYTES, MAX_RESPONSE_NODES), all
 * the calls of a query plan together; and the work of a request stops when its client goes away: at the
 * gateway (its subgraph calls are cancelled, no later one is made) and in the subgraph (no further SQL).
 * Real servers on port 0; calls counted by proxies, statements by each subgraph's counter.
 */

/** Every JSON line any service logs during this file, and what is written to stderr. */
const { lines, stderr, start: captureLogs } = logCapture();
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);

/** A running system with a counting proxy in front of each subgraph. */
interface Setup {
  sys: System;
  proxies: Record<SubgraphName, CountingProxy>;
}
const setups = new Map<Backend, Setup>();
const opened: { stop(): Promise<void> }[] = [];

/** The system of a backend, started once for this file and stopped after it. */
async function setUp(backend: Backend): Promise<Setup> {
  let setup = setups.get(backend);
  if (!setup) {
    const sys = await startSystem(backend);
    const proxies = {} as Record<SubgraphName, CountingProxy>;
    for (const name of SUBGRAPH_NAMES) proxies[name] = await countingProxy(sys.subgraphUrls[name]);
    setups.set(backend, (setup = { sys, proxies }));
  }
  return setup;
}

beforeAll(async () => {
  // Before any service is built: each takes its logger's child when it is created.
  captureLogs();
  process.on('unhandledRejection', onUnhandled);
});

afterAll(async () => {
  for (const o of opened.splice(0).reverse()) await o.stop();
  for (const { sys, proxies } of setups.values()) {
    for (const p of Object.values(proxies)) await p.close();
    await sys.stop();
  }
  process.off('unhandledRejection', onUnhandled);
  jest.restoreAllMocks();
});

/** A gateway over the counting proxies, its response budget from the environment as in production. */
async function gatewayWith(
  proxies: Record<SubgraphName, CountingProxy>,
  env: Record<string, string> = {},
): Promise<string> {
  return withEnv(env, async () => {
    const gateway: Service = await createGatewayService({
      subgraphUrls: Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, proxies[n].url])),
      reportCost: false,
      rateLimit: { costPerMinute: 0 },
    });
    opened.push(gateway);
    return (await gateway.listen(0, '127.0.0.1')).url;
  });
}

async function query(url: string, q: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: q }),
  });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as GraphQLResponse<any> };
}

const resetProxies = (proxies: Record<SubgraphName, CountingProxy>) => {
  for (const p of Object.values(proxies)) {
    p.count = 0;
    p.bytes = 0;
  }
};

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the response budget of a request, all its subgraph calls together', () => {
  const PAGE = /* GraphQL */ `
    {
      commitments(first: 100) {
        nodes {
          id
          title
          leadOrganization {
            name
          }
        }
      }
    }
  `;

  test('two calls each under the per-call caps, together over MAX_RESPONSE_BYTES: the second is refused, the first answered', async () => {
    // What each call of the plan sends, with the default budget: the commitments page, then its organizations.
    const { proxies } = await setUp('sqlite');
    const roomy = await gatewayWith(proxies);
    resetProxies(proxies);
    const full = await query(roomy, PAGE);
    expect(full.body.errors).toBeUndefined();
    const first = proxies.commitments.bytes;
    const second = proxies.organizations.bytes;
    expect([proxies.commitments.count, proxies.organizations.count]).toEqual([1, 1]);
    expect(Math.max(first, second)).toBeLessThan(DEFAULT_MAX_RESPONSE_BYTES);

    // A budget the first call fits in and the second takes it over.
    const limit = first + Math.floor(second / 2);
    const tight = await gatewayWith(proxies, { MAX_RESPONSE_BYTES: String(limit) });
    resetProxies(proxies);
    const { status, body, text } = await query(tight, PAGE);
    expect(status).toBe(200);
    expect(body).toEqual({
      data: {
        commitments: {
          nodes: full.body.data.commitments.nodes.map((n: { id: string; title: string }) => ({
            id: n.id,
            title: n.title,
            leadOrganization: null,
          })),
        },
      },
      errors: [
        {
          message: expect.stringMatching(
            new RegExp(
              `^Subgraph "organizations" took this request over its budget of ${limit} bytes from all subgraphs together \\(MAX_RESPONSE_BYTES\\): \\d+ sent; its answer was dropped$`,
            ),
          ),
          extensions: {
            code: 'SUBGRAPH_RESPONSE_TOO_LARGE',
            serviceName: 'organizations',
            budget: 'MAX_RESPONSE_BYTES',
            limit,
            measured: expect.any(Number),
          },
        },
      ],
    });
    expect(body.errors![0].extensions!.measured).toBeGreaterThan(limit);
    expect(body.errors![0].extensions!.measured).toBeLessThanOrEqual(first + second);
    expect(text).not.toMatch(/127\.0\.0\.1|localhost/);
  });
});

describe('the response budget, call by call (one data source, one request)', () => {
  let probe: ProbeSubgraph;
  let proxy: CountingProxy;
  beforeAll(async () => {
    probe = await startProbeSubgraph();
    opened.push(probe);
    proxy = await countingProxy(probe.url);
    opened.push({ stop: () => proxy.close() });
  });

  test('once MAX_RESPONSE_NODES is spent, the call that spent it is dropped and no later call is made; nor once the client is gone', async () => {
    const source = subgraphSource({
      name: 'probe',
      url: proxy.url,
      budget: { maxBytes: 10 * 1024 * 1024, maxNodes: 150 },
    });
    /**
     * One call of a request's plan: `count` small objects in one entity (`count` + 2 objects in all). The gateway
     * hands every call of one operation the same context object; the budget is kept by it.
     */
    const call = (context: object, count: number) => probeEntities(source, count, context);
    const request = {};
    proxy.count = 0;
    expect((await call(request, 100)).data).toEqual({ _entities: [{ probes: expect.any(Array) }] });
    await expect(call(request, 100)).rejects.toMatchObject({
      message:
        'Subgraph "probe" took this request over its budget of 150 objects from all subgraphs together (MAX_RESPONSE_NODES): 151 counted; its answer was dropped',
      extensions: {
        code: 'SUBGRAPH_RESPONSE_TOO_LARGE',
        serviceName: 'probe',
        budget: 'MAX_RESPONSE_NODES',
        limit: 150,
        measured: 151,
      },
    });
    expect(proxy.count).toBe(2);
    await expect(call(request, 1)).rejects.toMatchObject({
      message:
        'Subgraph "probe" was not called: this request\'s budget of 150 objects from all subgraphs together (MAX_RESPONSE_NODES) is spent (151 counted)',
      extensions: { code: 'SUBGRAPH_RESPONSE_TOO_LARGE', budget: 'MAX_RESPONSE_NODES', limit: 150 },
    });
    expect(proxy.count).toBe(2);
    // Another request has its own budget.
    expect((await call({}, 100)).data).toEqual({ _entities: [{ probes: expect.any(Array) }] });
    expect(proxy.count).toBe(3);

    // And a request whose client has gone away makes no call at all.
    const gone = new AbortController();
    gone.abort();
    await expect(call({ signal: gone.signal }, 1)).rejects.toMatchObject({
      extensions: { code: 'CLIENT_CLOSED_REQUEST', serviceName: 'probe' },
    });
    expect(proxy.count).toBe(3);
  });
});

describe.each(BACKENDS)('a client that goes away, on %s', (backend) => {
  const STATEMENT_MS = 250;
  let slow = false;
  let gatewayUrl: string;
  let root: string;
  let sys: System;
  let proxies: Record<SubgraphName, CountingProxy>;

  beforeAll(async () => {
    // The organizations subgraph made slow where it meets its database: each statement waits before it is sent
    // (and before the subgraph's own check for a client gone, which sits below this wrapper).
    ({ sys, proxies } = await setUp(backend));
    const ds = sys.dataSources.organizations;
    const create = ds.createQueryRunner.bind(ds);
    const slowed = new WeakSet<QueryRunner>();
    ds.createQueryRunner = (mode) => {
      const runner = create(mode);
      if (!slowed.has(runner)) {
        slowed.add(runner);
        const send = runner.query.bind(runner);
        runner.query = (async (...args: Parameters<QueryRunner['query']>) => {
          if (slow) await settle(STATEMENT_MS);
          return send(...args);
        }) as QueryRunner['query'];
      }
      return runner;
    };
    // An organization whose children have children: three statements one after the other.
    const [row] = await ds.query(
      'SELECT c.parent_id AS id FROM organizations g JOIN organizations c ON g.parent_id = c.id LIMIT 1',
    );
    root = row.id;
    gatewayUrl = await gatewayWith(proxies);
  });
  afterAll(() => void (slow = false));

  /** The organization, its children and theirs (organizations), and the grandchildren's budgets (budgets). */
  const TREE = () => /* GraphQL */ `
    {
      organization(id: "${root}") {
        name
        children(first: 3) {
          name
          children(first: 3) {
            name
            budgets {
              id
            }
          }
        }
      }
    }
  `;

  test('without leaving: three statements, then the budgets subgraph is called', async () => {
    resetProxies(proxies);
    sys.counters.organizations.reset();
    const { body } = await query(gatewayUrl, TREE());
    expect(body.errors).toBeUndefined();
    expect(sys.counters.organizations.total).toBe(3);
    expect(proxies.budgets.count).toBe(1);
  });

  test('leaving mid-way: the subgraph sends no further statement, no later call is made, one line each', async () => {
    slow = true;
    resetProxies(proxies);
    sys.counters.organizations.reset();
    const requestId = `client-gone-${backend}`;
    const linesBefore = lines.length;
    const controller = new AbortController();
    const answer = fetch(gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify({ query: TREE() }),
      signal: controller.signal,
    }).catch((err: Error) => err.name);
    // Gone once the first statement has been sent, while the second waits.
    const started = performance.now();
    while (sys.counters.organizations.total < 1 && performance.now() - started < 5000) await settle(5);
    expect(sys.counters.organizations.total).toBe(1);
    controller.abort();
    expect(await answer).toBe('AbortError');
    // Long enough for the whole request had it gone on: three statements, then the call to budgets.
    await settle(3 * STATEMENT_MS + 500);
    expect(sys.counters.organizations.total).toBe(1);
    expect(proxies.organizations.count).toBe(1);
    expect(proxies.budgets.count).toBe(0);

    const logged = lines.filter((l) => l.requestId === requestId);
    expect(logged).toEqual([
      {
        level: 30,
        time: expect.any(Number),
        service: 'gateway',
        requestId,
        ms: expect.any(Number),
        msg: 'client went away',
      },
      {
        level: 30,
        time: expect.any(Number),
        service: 'organizations',
        requestId,
        ms: expect.any(Number),
        msg: 'client went away',
      },
    ]);
    // Nothing else: no warning of a failed subgraph call, no internal error, no stack.
    expect(lines.slice(linesBefore).filter((l) => l.requestId !== requestId)).toEqual([]);
    expect(stderr.join('')).not.toMatch(/\n\s+at /);
    expect(unhandled).toEqual([]);
  });
});
