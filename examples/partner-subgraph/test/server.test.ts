import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startPartnerSubgraph, type PartnerSubgraph } from '../src/server';
import { signatureHeader } from '../src/signature';

// The partner's own smoke test (npm test): the Civic Graph project tests this example more fully.
const SECRET = 'partner-test-secret';
let subgraph: PartnerSubgraph;

before(async () => {
  subgraph = await startPartnerSubgraph({ port: 0, secret: SECRET });
});
after(() => subgraph.stop());

async function post(body: string, signature?: string): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (signature !== undefined) headers['x-civic-signature'] = signature;
  return fetch(subgraph.url, { method: 'POST', headers, body });
}

test('a signed query gets the indicators of an organization', async () => {
  const body = JSON.stringify({
    query: /* GraphQL */ `
      query ($r: [_Any!]!) {
        _entities(representations: $r) {
          ... on Organization {
            latestIndicator(kind: WATER_ACCESS) {
              year
              unit
              synthetic
            }
          }
        }
      }
    `,
    variables: { r: [{ __typename: 'Organization', id: 'tn-municipality-34012' }] },
  });
  const res = await post(body, signatureHeader(SECRET, body));
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {
    data: { _entities: [{ latestIndicator: { year: 2023, unit: 'percent', synthetic: true } }] },
  });
});

test('an unsigned query is refused', async () => {
  const res = await post(JSON.stringify({ query: '{ indicatorKinds { kind } }' }));
  assert.equal(res.status, 401);
});
