import type { QueryRunner } from 'typeorm';
import type { Service } from '@civic/common/service';
import { createGatewayService } from '@civic/gateway/server';
import { loadConfig, SUBGRAPH_NAMES, type SubgraphName } from '@civic/subgraphs';
import { countingProxy, type CountingProxy } from '../support/counting-proxy';
import { holdingProxy, type HoldingProxy } from '../support/holding-proxy';
import { logCapture } from '../support/log-capture';
import { startSystem, type GraphQLResponse, type System } from '../support/system';
import { withEnv } from '../support/with-env';

/*
 * Issue 12: an overall deadline per GraphQL request at the gateway (REQUEST_DEADLINE_MS). Past it the request is
 * answered 504 REQUEST_TIMEOUT, its subgraph calls in flight are abandoned and no later call of its plan is
 * made. The commitments subgraph sits behind a proxy that holds its calls unanswered; the organizations
 * subgraph, which the plan calls after it, behind one that counts.
 */

/** Every JSON line the services log during this file. */
const { lines, start: captureLogs } = logCapture();
let sys: System;
let held: HoldingProxy;
let counted: CountingProxy;
const opened: Service[] = [];

beforeAll(async () => {
  // Before any service is built: each takes its logger's child when it is created.
  captureLogs();
  sys = await startSystem('sqlite');
  held = await holdingProxy(sys.subgraphUrls.commitments);
  counted = await countingProxy(sys.subgraphUrls.organizations);
});

afterAll(async () => {
  for (const s of opened.splice(0)) await s.stop();
  await held?.close();
  await counted?.close();
  await sys?.stop();
});

async function gateway(env: Record<string, string>, requestDeadlineMs?: number): Promise<string> {
  return withEnv(env, async () => {
    const urls = Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, sys.subgraphUrls[n]])) as Record<
      SubgraphName,
      string
    >;
    urls.commitments = held.url;
    urls.organizations = counted.url;
    const service = await createGatewayService({
      subgraphUrls: urls,
      reportCost: false,
      rateLimit: { costPerMinute: 0 },
      ...(requestDeadlineMs === undefined ? {} : { requestDeadlineMs }),
    });
    opened.push(service);
    return (await service.listen(0, '127.0.0.1')).url;
  });
}

const PAGE = /* GraphQL */ `
  {
    commitments(first: 3) {
      nodes {
        id
        leadOrganization {
          name
        }
      }
    }
  }
`;

async function post(url: string, query: string, requestId?: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(requestId ? { 'x-request-id': requestId } : {}) },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, body: (await res.json()) as GraphQLResponse<any> };
}

beforeEach(() => {
  held.reset();
  held.hold = true;
  counted.count = 0;
});

test('past REQUEST_DEADLINE_MS: 504 REQUEST_TIMEOUT alone, the call in flight abandoned, no later call made', async () => {
  const url = await gateway({ REQUEST_DEADLINE_MS: '700', SUBGRAPH_TIMEOUT_MS: '60000' });
  const answer = await post(url, PAGE, 'deadline-1');
  expect(answer).toEqual({
    status: 504,
    body: {
      errors: [
        {
          message: 'The request took longer than the 700 ms allowed (REQUEST_DEADLINE_MS): it was stopped',
          extensions: { code: 'REQUEST_TIMEOUT', limit: 700 },
        },
      ],
    },
  });
  // The held call's connection was closed by the gateway (not left to its 60 s per-call timeout) ...
  await held.abandonedCount(1);
  expect(held.received).toBe(1);
  // ... and the organizations the plan asks next were never asked.
  expect(counted.count).toBe(0);
  // One line says so, at info level, and nothing calls it a client gone or an internal error.
  expect(lines.filter((l) => l.requestId === 'deadline-1')).toEqual([
    {
      level: 30,
      time: expect.any(Number),
      service: 'gateway',
      requestId: 'deadline-1',
      ms: expect.any(Number),
      msg: 'request deadline passed',
    },
  ]);
});

test('the option wins over the environment, and a request within its deadline is answered as before', async () => {
  const url = await gateway({ REQUEST_DEADLINE_MS: '100' }, 20_000);
  held.hold = false;
  const answer = await post(url, PAGE);
  expect(answer.status).toBe(200);
  expect(answer.body.errors).toBeUndefined();
  expect(answer.body.data.commitments.nodes).toHaveLength(3);
  expect(answer.body.data.commitments.nodes[0].leadOrganization).toEqual({ name: expect.any(String) });
  expect(counted.count).toBe(1);
});

test('a call still times out at SUBGRAPH_TIMEOUT_MS within a longer deadline, as before', async () => {
  const url = await gateway({ REQUEST_DEADLINE_MS: '30000', SUBGRAPH_TIMEOUT_MS: '300' });
  const answer = await post(url, PAGE);
  expect(answer.status).toBe(200);
  expect(answer.body.data).toBeNull();
  expect(answer.body.errors).toEqual([
    expect.objectContaining({
      extensions: expect.objectContaining({ code: 'SUBGRAPH_TIMEOUT', serviceName: 'commitments' }),
    }),
  ]);
  await held.abandonedCount(1);
});

test('on SQLite, no statement of the request starts past the deadline: the subgraph stops at the next one', async () => {
  // The organizations subgraph made slow where it meets its database (better-sqlite3: one query runner for
  // all): each statement waits before it goes to the database edge, whose check for a request stopped comes after.
  const STATEMENT_MS = 400;
  const ds = sys.dataSources.organizations;
  const [row] = (await ds.query(
    'SELECT c.parent_id AS id FROM organizations g JOIN organizations c ON g.parent_id = c.id LIMIT 1',
  )) as { id: string }[];
  const create = ds.createQueryRunner.bind(ds);
  const slowed = new WeakSet<QueryRunner>();
  let slow = true;
  ds.createQueryRunner = (mode) => {
    const runner = create(mode);
    if (!slowed.has(runner)) {
      slowed.add(runner);
      const send = runner.query.bind(runner);
      runner.query = (async (...args: Parameters<QueryRunner['query']>) => {
        if (slow) await new Promise((r) => setTimeout(r, STATEMENT_MS));
        return send(...args);
      }) as QueryRunner['query'];
    }
    return runner;
  };
  try {
    held.hold = false;
    // The organization, its children and theirs: three statements one after the other (then the budgets).
    const TREE = `{ organization(id: "${row.id}") { name children(first: 3) { name children(first: 3) { name budgets { id } } } } }`;
    const budgets = await countingProxy(sys.subgraphUrls.budgets);
    const url = await withEnv({ REQUEST_DEADLINE_MS: '1000' }, async () => {
      const urls = { ...sys.subgraphUrls, organizations: counted.url, budgets: budgets.url };
      const service = await createGatewayService({
        subgraphUrls: urls,
        reportCost: false,
        rateLimit: { costPerMinute: 0 },
      });
      opened.push(service);
      return (await service.listen(0, '127.0.0.1')).url;
    });
    sys.counters.organizations.reset();
    const answer = await post(url, TREE);
    expect(answer.status).toBe(504);
    expect(answer.body.errors).toEqual([
      expect.objectContaining({ extensions: { code: 'REQUEST_TIMEOUT', limit: 1000 } }),
    ]);
    // Long enough for the whole request had it gone on: three statements.
    await new Promise((r) => setTimeout(r, 3 * STATEMENT_MS + 500));
    expect(sys.counters.organizations.total).toBeGreaterThanOrEqual(1);
    expect(sys.counters.organizations.total).toBeLessThan(3);
    expect(budgets.count).toBe(0);
    await budgets.close();
  } finally {
    slow = false;
  }
});

test('REQUEST_DEADLINE_MS is validated with the rest of the configuration, and defaults to 15 s', () => {
  expect(() => loadConfig({ REQUEST_DEADLINE_MS: 'soon' })).toThrow(/REQUEST_DEADLINE_MS/);
  expect(() => loadConfig({ REQUEST_DEADLINE_MS: '10' })).toThrow(/REQUEST_DEADLINE_MS/);
  expect(loadConfig({}).requestDeadlineMs).toBe(15_000);
});
