import { SIGNATURE_HEADER, sign, unixSeconds } from '@civic/common/signing';
import type { Service } from '@civic/common/service';
import { createGatewayService } from '@civic/gateway/server';
import { composeWith, PROBE_SDL, startProbeSubgraph, type ProbeSubgraph } from '../support/probe-subgraph';
import { startSystem, type GraphQLResponse, type System } from '../support/system';

/*
 * Calls to subgraphs are signed (issue 9): with SUBGRAPH_SECRET_<NAME> set, our subgraphs answer only the
 * gateway, which signs every call, and a subgraph receives only the headers the gateway allows.
 */

const SECRETS = {
  organizations: 'test-secret-organizations-0123456789',
  commitments: 'test-secret-commitments-0123456789',
  budgets: 'test-secret-budgets-0123456789abcdef',
};
const BODY = JSON.stringify({
  query: /* GraphQL */ '{ organization(id: "tn-municipality-34012") { name } }',
});

let sys: System;
beforeAll(async () => {
  // Signing does not depend on the database: the embedded one is enough.
  sys = await startSystem('sqlite', { secrets: SECRETS });
});
afterAll(async () => {
  await sys?.stop();
});

/** A POST of `body` straight to the organizations subgraph, around the gateway. */
async function direct(headers: Record<string, string>, body = BODY) {
  const res = await fetch(sys.subgraphUrls.organizations, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, body: (await res.json()) as GraphQLResponse };
}

const refused = (reason: string) => ({
  status: 401,
  body: { errors: [{ message: expect.any(String), extensions: { code: 'UNAUTHENTICATED', reason } }] },
});

describe('a subgraph with a secret, called directly', () => {
  test('refuses a request without a signature', async () => {
    const res = await direct({});
    expect(res).toEqual(refused('missing'));
    expect(res.body.errors![0].message).toMatch(/^Missing x-civic-signature header/);
  });

  test('refuses a malformed signature', async () => {
    expect(await direct({ [SIGNATURE_HEADER]: 'v1=abc' })).toEqual(refused('malformed'));
    expect(await direct({ [SIGNATURE_HEADER]: `t=${unixSeconds()}` })).toEqual(refused('malformed'));
  });

  test('refuses a signature made with another secret, or over another body', async () => {
    expect(await direct({ [SIGNATURE_HEADER]: sign('not-the-secret-0123456789', BODY) })).toEqual(
      refused('wrong'),
    );
    expect(await direct({ [SIGNATURE_HEADER]: sign(SECRETS.organizations, BODY) }, `${BODY} `)).toEqual(
      refused('wrong'),
    );
    // Another subgraph's secret does not open this one.
    expect(await direct({ [SIGNATURE_HEADER]: sign(SECRETS.budgets, BODY) })).toEqual(refused('wrong'));
  });

  test('refuses a signature older than 300 seconds', async () => {
    const res = await direct({ [SIGNATURE_HEADER]: sign(SECRETS.organizations, BODY, unixSeconds() - 301) });
    expect(res).toEqual(refused('expired'));
    expect(res.body.errors![0].message).toMatch(/signed 30\d s ago, more than the 300 s allowed/);
  });

  test('answers a request signed with its secret over the exact body', async () => {
    expect(await direct({ [SIGNATURE_HEADER]: sign(SECRETS.organizations, BODY) })).toEqual({
      status: 200,
      body: { data: { organization: { name: expect.any(String) } } },
    });
  });

  test('takes operations by POST only: a GET is refused, signed or not', async () => {
    const url = `${sys.subgraphUrls.organizations}?query=${encodeURIComponent('{ __typename }')}`;
    const unsigned = await fetch(url, { headers: { 'apollo-require-preflight': 'true' } });
    expect(unsigned.status).toBe(401);
    const signed = await fetch(url, {
      headers: { 'apollo-require-preflight': 'true', [SIGNATURE_HEADER]: sign(SECRETS.organizations, '') },
    });
    expect(signed.status).toBe(405);
  });

  test('keeps /health open', async () => {
    const res = await fetch(sys.subgraphUrls.organizations.replace(/\/graphql$/, '/health'));
    expect(res.status).toBe(200);
  });
});

test('the gateway signs its calls: a query across the three signed subgraphs is answered', async () => {
  const res = await sys.queryGateway<any>(/* GraphQL */ `
    {
      budget(id: "tn-34012-2018") {
        organization {
          id
        }
      }
      commitment(id: "MO0012") {
        leadOrganization {
          kind
        }
      }
    }
  `);
  expect(res).toEqual({
    data: {
      budget: { organization: { id: 'tn-municipality-34012' } },
      commitment: { leadOrganization: { kind: 'GOVERNMENT' } },
    },
  });
});

describe('what a subgraph receives from the gateway', () => {
  const PROBE_SECRET = 'test-secret-probe-0123456789abcdef';
  let probe: ProbeSubgraph;
  let gateway: Service;
  let gatewayUrl: string;
  beforeAll(async () => {
    process.env.SUBGRAPH_SECRET_PROBE = PROBE_SECRET;
    probe = await startProbeSubgraph({ secret: PROBE_SECRET });
    const subgraphUrls = { ...sys.subgraphUrls, probe: probe.url };
    gateway = await createGatewayService({
      subgraphUrls,
      supergraphSdl: composeWith(sys.subgraphUrls, [{ name: 'probe', url: probe.url, sdl: PROBE_SDL }]),
      reportCost: false,
    });
    gatewayUrl = (await gateway.listen(0, '127.0.0.1')).url;
  });
  afterAll(async () => {
    await gateway?.stop();
    await probe?.stop();
    delete process.env.SUBGRAPH_SECRET_PROBE;
  });

  test('the request id, Accept-Language and the signature; never Authorization, cookies or other headers', async () => {
    const res = await fetch(gatewayUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-request-id': 'req-allow-list-1',
        'accept-language': 'ar, fr;q=0.8',
        authorization: 'Bearer client-token',
        cookie: 'session=client-cookie',
        'x-forwarded-for': '203.0.113.7',
        'x-custom': 'client-value',
      },
      body: JSON.stringify({
        query: /* GraphQL */ '{ organization(id: "tn-municipality-34012") { name probe } }',
      }),
    });
    expect(await res.json()).toEqual({ data: { organization: { name: expect.any(String), probe: 'ok' } } });
    expect(probe.requests).toHaveLength(1);
    const received = probe.requests[0];
    expect(received).toMatchObject({
      'x-request-id': 'req-allow-list-1',
      'accept-language': 'ar, fr;q=0.8',
      [SIGNATURE_HEADER]: expect.stringMatching(/^t=\d+,v1=[0-9a-f]{64}$/),
    });
    // Only the allowed headers and what HTTP itself needs.
    const transport = [
      'host',
      'connection',
      'content-length',
      'user-agent',
      'accept-encoding',
      'sec-fetch-mode',
    ];
    const allowed = ['content-type', 'accept', 'x-request-id', 'accept-language', SIGNATURE_HEADER];
    expect(Object.keys(received).filter((h) => !transport.includes(h) && !allowed.includes(h))).toEqual([]);
  });
});
