import type { Service } from '@civic/common/service';
import { createGatewayService } from '@civic/gateway/server';
import { loadConfig, SUBGRAPH_NAMES, type SubgraphName } from '@civic/subgraphs';
import { countingProxy, type CountingProxy } from '../support/counting-proxy';
import { holdingProxy, type HoldingProxy } from '../support/holding-proxy';
import { startSystem, type GraphQLResponse, type System } from '../support/system';
import { withEnv } from '../support/with-env';

/*
 * Issue 12: an overall deadline per GraphQL request at the gateway (REQUEST_DEADLINE_MS). Past it the request is
 * answered 504 REQUEST_TIMEOUT, its subgraph calls in flight are abandoned and no later call of its plan is
 * made. The commitments subgraph sits behind a proxy that holds its calls unanswered; the organizations
 * subgraph, which the plan calls after it, behind one that counts.
 */

let sys: System;
let held: HoldingProxy;
let counted: CountingProxy;
const opened: Service[] = [];

beforeAll(async () => {
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

async function post(url: string, query: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
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
  const answer = await post(url, PAGE);
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

test('REQUEST_DEADLINE_MS is validated with the rest of the configuration, and defaults to 15 s', () => {
  expect(() => loadConfig({ REQUEST_DEADLINE_MS: 'soon' })).toThrow(/REQUEST_DEADLINE_MS/);
  expect(() => loadConfig({ REQUEST_DEADLINE_MS: '10' })).toThrow(/REQUEST_DEADLINE_MS/);
  expect(loadConfig({}).requestDeadlineMs).toBe(15_000);
});
