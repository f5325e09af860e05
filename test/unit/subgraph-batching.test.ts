import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { graphql, GraphQLError, parse, type OperationDefinitionNode } from 'graphql';
import { mergeCalls } from '@civic/gateway/batching';
import { SubgraphDataSource } from '@civic/gateway/subgraph-source';

/**
 * A plan's parallel calls to one subgraph merged into one request (gateway/src/batching.ts): against a real
 * subgraph schema (buildSubgraphSchema) executed behind a real HTTP server on port 0, which records every request
 * it receives. Each call must get exactly what it gets when sent alone.
 */
const typeDefs = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Org @key(fields: "id") {
    id: ID!
    name: String!
    country: String
  }
  type Query {
    echo(n: Int, lang: String): String
    boom: String!
  }
  type Mutation {
    touch(n: Int): Int
  }
`);

const resolvers = {
  Org: {
    __resolveReference: (ref: { id: string }) => {
      if (ref.id.startsWith('gone')) return null;
      return { id: ref.id };
    },
    name: (org: { id: string }) => {
      if (org.id.startsWith('bad')) throw new GraphQLError(`no name for ${org.id}`);
      return `name of ${org.id}`;
    },
    country: (org: { id: string }) => (org.id.startsWith('ma') ? 'MA' : 'TN'),
  },
  Query: {
    echo: (_: unknown, args: { n?: number; lang?: string }) => `${args.n ?? '-'}/${args.lang ?? '-'}`,
    boom: () => {
      throw new GraphQLError('boom failed');
    },
  },
  Mutation: { touch: (_: unknown, args: { n?: number }) => args.n ?? 0 },
};

const schema = buildSubgraphSchema({ typeDefs, resolvers: resolvers as never });

interface Received {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
}

let server: Server;
let url: string;
const received: Received[] = [];
/** Refuse, before running it, an operation with more root fields than this (a partner's own limit), as a 200. */
let maxRootFields = Infinity;
/** Refuse a body longer than this with 413 (a partner's own body limit). */
let maxBodyBytes = Infinity;

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const body = JSON.parse(raw) as Received;
      received.push(body);
      res.setHeader('content-type', 'application/json');
      if (Buffer.byteLength(raw) > maxBodyBytes) {
        res.statusCode = 413;
        return void res.end(JSON.stringify({ errors: [{ message: 'request entity too large' }] }));
      }
      const operation = parse(body.query).definitions[0] as OperationDefinitionNode;
      if (operation.selectionSet.selections.length > maxRootFields) {
        const error = { message: 'too many root fields', extensions: { code: 'QUERY_TOO_COMPLEX' } };
        return void res.end(JSON.stringify({ errors: [error] }));
      }
      void graphql({
        schema,
        source: body.query,
        variableValues: body.variables,
        operationName: body.operationName,
      }).then((result) => {
        res.end(JSON.stringify(result));
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

beforeEach(() => {
  received.length = 0;
  maxRootFields = Infinity;
  maxBodyBytes = Infinity;
});

const sources: SubgraphDataSource[] = [];
afterEach(() => {
  for (const s of sources.splice(0)) s.close();
});

const source = (batch = true) => {
  const s = new SubgraphDataSource({ name: 'orgs', url, secret: null, timeoutMs: 5000, batch });
  sources.push(s);
  return s;
};

/** A fetch of a plan, as Apollo's executor hands it to a data source: `context` is the operation's. */
const fetch = (ds: SubgraphDataSource, context: object, query: string, variables?: Record<string, unknown>) =>
  ds.process({
    kind: 'incoming operation' as never,
    request: { query, variables },
    context: context as never,
    incomingRequestContext: {} as never,
  });

const NAMES =
  'query Plan__orgs__1($representations: [_Any!]!) { _entities(representations: $representations) { ... on Org { name } } }';
const COUNTRIES =
  'query Plan__orgs__2($representations: [_Any!]!) { _entities(representations: $representations) { ...C } } fragment C on Org { country }';
const ECHO = 'query Plan__orgs__3($n: Int, $lang: String) { echo(n: $n, lang: $lang) first: echo(n: 1) }';
const org = (id: string) => ({ __typename: 'Org', id });

/** The answers of `calls`, each sent alone (batching off), and the requests that took. */
async function alone(calls: [string, Record<string, unknown>?][]) {
  const ds = source(false);
  const context = {};
  const answers = await Promise.all(calls.map(([q, v]) => fetch(ds, context, q, v)));
  const requests = received.splice(0);
  // An error's locations point into the document sent; a merged call's into the merged one, so they are dropped
  // there (Apollo's gateway drops them from every subgraph error anyway).
  for (const a of answers) for (const e of a.errors ?? []) delete (e as { locations?: unknown }).locations;
  return { answers, requests };
}

describe('parallel calls of one plan to one subgraph', () => {
  const calls: [string, Record<string, unknown>?][] = [
    [NAMES, { representations: ['ma-1', 'tn-2'].map(org) }],
    [COUNTRIES, { representations: ['ma-1', 'ma-3'].map(org) }],
    [ECHO, { n: 7, lang: 'ar' }],
  ];

  test('go out as one request, and each gets exactly what it gets alone', async () => {
    const expected = await alone(calls);
    expect(expected.requests).toHaveLength(3);
    const ds = source();
    const context = {};
    const answers = await Promise.all(calls.map(([q, v]) => fetch(ds, context, q, v)));
    expect(received).toHaveLength(1);
    expect(ds.batches).toEqual({ requests: 1, calls: 3 });
    expect(answers).toEqual(expected.answers);
    expect(answers[0]!.data).toEqual({ _entities: [{ name: 'name of ma-1' }, { name: 'name of tn-2' }] });
    expect(answers[2]!.data).toEqual({ echo: '7/ar', first: '1/-' });
    // Each call's selections, variables and fragments under its own prefix.
    const sent = received[0]!;
    expect(sent.operationName).toBe('orgs__batch_3');
    expect(Object.keys(sent.variables ?? {}).sort()).toEqual([
      '_0_representations',
      '_1_representations',
      '_2_lang',
      '_2_n',
    ]);
    expect(sent.query).toContain('fragment _1_C on Org');
  });

  test("an entity's error goes to the call that asked for it, with that call's path", async () => {
    const withErrors: [string, Record<string, unknown>?][] = [
      [NAMES, { representations: ['ma-1', 'bad-2', 'gone-3'].map(org) }],
      [COUNTRIES, { representations: ['bad-2', 'ma-1'].map(org) }],
    ];
    const expected = await alone(withErrors);
    const ds = source();
    const context = {};
    const answers = await Promise.all(withErrors.map(([q, v]) => fetch(ds, context, q, v)));
    expect(received).toHaveLength(1);
    expect(answers).toEqual(expected.answers);
    expect(answers[0]!.errors).toEqual([
      expect.objectContaining({ message: 'no name for bad-2', path: ['_entities', 1, 'name'] }),
    ]);
    expect(answers[1]!.errors).toBeUndefined();
    expect(answers[1]!.data).toEqual({ _entities: [{ country: 'TN' }, { country: 'MA' }] });
  });

  test('repeated representations are sent once within each call, and spread back to every position', async () => {
    const repeated: [string, Record<string, unknown>?][] = [
      [NAMES, { representations: ['ma-1', 'ma-1', 'tn-2', 'ma-1'].map(org) }],
      [COUNTRIES, { representations: ['tn-2', 'tn-2'].map(org) }],
    ];
    const expected = await alone(repeated);
    const ds = source();
    const context = {};
    const answers = await Promise.all(repeated.map(([q, v]) => fetch(ds, context, q, v)));
    expect(received).toHaveLength(1);
    expect(received[0]!.variables).toEqual({
      _0_representations: ['ma-1', 'tn-2'].map(org),
      _1_representations: [org('tn-2')],
    });
    expect(ds.representations.repeated).toBe(3);
    expect(answers).toEqual(expected.answers);
    const entities = (answers[0]!.data as { _entities: object[] })._entities;
    expect(new Set(entities).size).toBe(4);
  });

  test('a root field that fails the whole answer: each call is sent again alone, and only its own fails', async () => {
    const ds = source();
    const context = {};
    const [boom, echo] = await Promise.all([
      fetch(ds, context, 'query { boom }'),
      fetch(ds, context, ECHO, { n: 2 }),
    ]);
    // The merged request answered `data: null`; then each went alone.
    expect(received).toHaveLength(3);
    expect(boom.data).toBeNull();
    expect(boom.errors).toEqual([expect.objectContaining({ message: 'boom failed', path: ['boom'] })]);
    expect(echo.data).toEqual({ echo: '2/-', first: '1/-' });
    expect(echo.errors).toBeUndefined();
  });

  test("a merged operation over the subgraph's own limits: each call alone, now and for later requests", async () => {
    const expected = await alone(calls);
    maxRootFields = 2;
    const ds = source();
    // Three calls of one operation: one refused merged request, then each alone; the next operation's calls
    // go apart at once.
    for (const context of [{}, {}]) {
      const answers = await Promise.all(calls.map(([q, v]) => fetch(ds, context, q, v)));
      expect(answers).toEqual(expected.answers);
    }
    expect(received.map((r) => r.operationName ?? 'alone')).toEqual([
      'orgs__batch_3',
      ...Array(6).fill('alone'),
    ]);
  });

  test('a merged request refused with a 4xx (a body limit each call alone is within): each call alone', async () => {
    const expected = await alone(calls);
    maxBodyBytes = Math.max(...expected.requests.map((r) => Buffer.byteLength(JSON.stringify(r)))) + 50;
    const ds = source();
    const context = {};
    const answers = await Promise.all(calls.map(([q, v]) => fetch(ds, context, q, v)));
    expect(answers).toEqual(expected.answers);
    expect(received).toHaveLength(4);
    expect(received[0]!.operationName).toBe('orgs__batch_3');
  });

  test('a call alone is sent as the plan wrote it', async () => {
    const ds = source();
    const answer = await fetch(ds, {}, ECHO, { n: 3 });
    expect(received).toEqual([{ query: ECHO, variables: { n: 3 } }]);
    expect(answer.data).toEqual({ echo: '3/-', first: '1/-' });
    expect(ds.batches).toEqual({ requests: 0, calls: 0 });
  });

  test('calls of different client operations are not merged (each keeps its own budget and client)', async () => {
    const ds = source();
    await Promise.all([fetch(ds, {}, ECHO, { n: 1 }), fetch(ds, {}, ECHO, { n: 2 })]);
    expect(received).toHaveLength(2);
  });

  test('calls one after the other (a sequence in the plan) are not held back for each other', async () => {
    const ds = source();
    const context = {};
    await fetch(ds, context, ECHO, { n: 1 });
    await fetch(ds, context, ECHO, { n: 2 });
    expect(received.map((r) => r.query)).toEqual([ECHO, ECHO]);
  });

  test('mutations are never merged', async () => {
    const ds = source();
    const context = {};
    const touch = 'mutation ($n: Int) { touch(n: $n) }';
    const answers = await Promise.all([
      fetch(ds, context, touch, { n: 1 }),
      fetch(ds, context, touch, { n: 2 }),
    ]);
    expect(received.map((r) => r.query)).toEqual([touch, touch]);
    expect(answers.map((a) => a.data)).toEqual([{ touch: 1 }, { touch: 2 }]);
  });

  test('SUBGRAPH_BATCH off (batch: false): each call is its own request', async () => {
    const ds = source(false);
    const context = {};
    await Promise.all(calls.map(([q, v]) => fetch(ds, context, q, v)));
    expect(received).toHaveLength(3);
  });

  test('a failed request fails every call it carried, naming the subgraph', async () => {
    const ds = new SubgraphDataSource({ name: 'orgs', url: 'http://127.0.0.1:1/graphql', secret: null });
    sources.push(ds);
    const context = {};
    const results = await Promise.allSettled(calls.map(([q, v]) => fetch(ds, context, q, v)));
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const err = (r as PromiseRejectedResult).reason as GraphQLError;
      expect(err.extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'orgs' });
    }
  });
});

describe('mergeCalls', () => {
  test('refuses what it cannot merge: a mutation, a root fragment, a document with two operations', () => {
    const q = { query: ECHO };
    expect(mergeCalls([q, { query: 'mutation { touch }' }], 'x')).toBeNull();
    expect(mergeCalls([q, { query: '{ ... on Query { echo } }' }], 'x')).toBeNull();
    expect(mergeCalls([q, { query: 'query A { echo } query B { echo }' }], 'x')).toBeNull();
    expect(mergeCalls([q], 'x')).toBeNull();
  });

  test('keeps only the variables each operation declares, under its prefix', () => {
    const merged = mergeCalls(
      [
        { query: ECHO, variables: { n: 1, stray: true } },
        { query: NAMES, variables: { representations: [] } },
      ],
      'orgs',
    );
    expect(merged?.variables).toEqual({ _0_n: 1, _1_representations: [] });
  });

  test('an error with no path goes to every call', () => {
    const merged = mergeCalls([{ query: ECHO }, { query: NAMES }], 'orgs')!;
    const answer: { data: Record<string, unknown>; errors: { message: string }[] } = {
      data: { _0_echo: 'a', _0_first: 'b', _1__entities: [] },
      errors: [{ message: 'x' }],
    };
    const parts = merged.split(answer);
    expect(parts).toEqual([
      { data: { echo: 'a', first: 'b' }, errors: [{ message: 'x' }] },
      { data: { _entities: [] }, errors: [{ message: 'x' }] },
    ]);
  });
});
