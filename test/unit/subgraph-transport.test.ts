import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { SubgraphDataSource } from '@civic/gateway/subgraph-source';

/**
 * How the gateway's data source talks to a subgraph over HTTP: identical queries in flight at once are sent once,
 * each request still bounded by its own budget and its own client; a kept-alive connection the subgraph closed
 * under a query is retried once. Against a real HTTP server on port 0 that counts what it receives.
 */
interface Received {
  body: { query: string; variables?: Record<string, unknown> };
  headers: IncomingMessage['headers'];
  /** Whether the gateway closed the connection before the answer was sent. */
  abandoned: boolean;
}

let server: Server;
let url: string;
const received: Received[] = [];
/** How long the server waits before answering. */
let delayMs = 0;
/** Answer with this many bytes of padding in `data.pad`. */
let padBytes = 0;
/** Destroy the connection when it brings its second request (a keep-alive connection closed by the server). */
let resetSecondRequest = false;
const requestsPerSocket = new WeakMap<Socket, number>();

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const seen = (requestsPerSocket.get(req.socket) ?? 0) + 1;
    requestsPerSocket.set(req.socket, seen);
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const entry: Received = { body: JSON.parse(raw), headers: req.headers, abandoned: false };
      received.push(entry);
      if (resetSecondRequest && seen >= 2) return void req.socket.destroy();
      res.on('close', () => {
        if (!res.writableFinished) entry.abandoned = true;
      });
      setTimeout(() => {
        if (res.destroyed) return;
        res.setHeader('content-type', 'application/json');
        const representations = entry.body.variables?.representations as { id: string }[] | undefined;
        if (representations) return void res.end(JSON.stringify(entitiesAnswer(representations)));
        const data = { echo: entry.body.variables ?? null, pad: 'x'.repeat(padBytes) };
        res.end(JSON.stringify({ data }));
      }, delayMs);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

beforeEach(() => {
  received.length = 0;
  delayMs = 0;
  padBytes = 0;
  resetSecondRequest = false;
});

/**
 * An `_entities` answer, as a subgraph gives it: each representation's entity with its `name` and a list, in the
 * order asked; an id starting with `bad` gets null and an error at its position.
 */
function entitiesAnswer(representations: { id: string }[]) {
  const errors = representations.flatMap((r, i) =>
    r.id.startsWith('bad') ? [{ message: `no ${r.id}`, path: ['_entities', i, 'name'] }] : [],
  );
  return {
    data: {
      _entities: representations.map((r) =>
        r.id.startsWith('bad') ? null : { __typename: 'Org', name: `name of ${r.id}`, tags: [{ id: r.id }] },
      ),
    },
    ...(errors.length ? { errors } : {}),
  };
}

const source = (opts: Partial<ConstructorParameters<typeof SubgraphDataSource>[0]> = {}) =>
  new SubgraphDataSource({ name: 'counted', url, secret: null, timeoutMs: 5000, ...opts });

const QUERY = 'query ($n: Int) { echo(n: $n) }';

const call = (
  ds: SubgraphDataSource,
  opts: { query?: string; variables?: Record<string, unknown>; context?: Record<string, unknown> } = {},
) =>
  ds.process({
    kind: 'health check' as never,
    request: { query: opts.query ?? QUERY, variables: opts.variables ?? { n: 1 } },
    context: (opts.context ?? {}) as never,
  });

describe('identical queries in flight at once', () => {
  test('are sent once; every request gets its own copy of the answer', async () => {
    delayMs = 150;
    const ds = source();
    const answers = await Promise.all(Array.from({ length: 10 }, () => call(ds)));
    expect(received).toHaveLength(1);
    expect(ds.counts).toEqual({ sent: 1, shared: 9 });
    for (const a of answers) expect(a.data).toEqual({ echo: { n: 1 }, pad: '' });
    // The gateway writes into what it receives: one request's answer must not be another's.
    (answers[0].data as Record<string, unknown>).echo = 'changed';
    expect(answers[1].data).toEqual({ echo: { n: 1 }, pad: '' });
    ds.close();
  });

  test('different variables or another language are different calls', async () => {
    delayMs = 100;
    const ds = source();
    await Promise.all([
      call(ds, { variables: { n: 1 } }),
      call(ds, { variables: { n: 2 } }),
      call(ds, { variables: { n: 1 }, context: { acceptLanguage: 'ar' } }),
      call(ds, { variables: { n: 1 }, context: { acceptLanguage: 'ar' } }),
    ]);
    expect(received.map((r) => [r.body.variables?.n, r.headers['accept-language'] ?? null]).sort()).toEqual([
      [1, null],
      [1, 'ar'],
      [2, null],
    ]);
    ds.close();
  });

  test('one after the other are separate calls (nothing is cached)', async () => {
    const ds = source();
    await call(ds);
    await call(ds);
    expect(received).toHaveLength(2);
    ds.close();
  });

  test('mutations are never shared', async () => {
    delayMs = 100;
    const ds = source();
    const mutation = 'mutation ($n: Int) { echo(n: $n) }';
    await Promise.all(Array.from({ length: 3 }, () => call(ds, { query: mutation })));
    expect(received).toHaveLength(3);
    ds.close();
  });

  test('SUBGRAPH_DEDUPLICATE off (deduplicate: false): every request has its own call', async () => {
    delayMs = 100;
    const ds = source({ deduplicate: false });
    await Promise.all(Array.from({ length: 4 }, () => call(ds)));
    expect(received).toHaveLength(4);
    ds.close();
  });

  test('one client going away does not cancel the call the others wait for', async () => {
    delayMs = 300;
    const ds = source();
    const gone = new AbortController();
    const leaving = call(ds, { context: { signal: gone.signal } });
    const staying = call(ds, { context: { signal: new AbortController().signal } });
    setTimeout(() => gone.abort(), 50);
    await expect(leaving).rejects.toMatchObject({
      extensions: { code: 'CLIENT_CLOSED_REQUEST', serviceName: 'counted' },
    });
    await expect(staying).resolves.toMatchObject({ data: { echo: { n: 1 } } });
    expect(received).toHaveLength(1);
    expect(received[0].abandoned).toBe(false);
    ds.close();
  });

  test('when every client has gone away, the call is abandoned (its connection closed)', async () => {
    delayMs = 400;
    const ds = source();
    const a = new AbortController();
    const b = new AbortController();
    const calls = [call(ds, { context: { signal: a.signal } }), call(ds, { context: { signal: b.signal } })];
    setTimeout(() => {
      a.abort();
      b.abort();
    }, 50);
    for (const c of calls)
      await expect(c).rejects.toMatchObject({ extensions: { code: 'CLIENT_CLOSED_REQUEST' } });
    await new Promise((r) => setTimeout(r, 500));
    expect(received).toHaveLength(1);
    expect(received[0].abandoned).toBe(true);
    // A new request after that is a new call, not a join of the abandoned one.
    delayMs = 0;
    await expect(call(ds)).resolves.toMatchObject({ data: { echo: { n: 1 } } });
    expect(received).toHaveLength(2);
    ds.close();
  });

  test("each request's budget is charged with the shared answer's bytes: a spent one is refused alone", async () => {
    const ds = source({ budget: { maxBytes: 20_000, maxNodes: 1000 } });
    // Request A has already received 12,000 bytes from an earlier call of its plan; B nothing.
    const a = {};
    const b = {};
    padBytes = 12_000;
    await call(ds, { variables: { n: 0 }, context: a });
    delayMs = 100;
    padBytes = 10_000;
    const [refused, answered] = await Promise.allSettled([
      call(ds, { context: a }),
      call(ds, { context: b }),
    ]);
    expect(received).toHaveLength(2);
    expect(refused).toMatchObject({
      status: 'rejected',
      reason: {
        extensions: { code: 'SUBGRAPH_RESPONSE_TOO_LARGE', budget: 'MAX_RESPONSE_BYTES', limit: 20_000 },
      },
    });
    expect(answered).toMatchObject({ status: 'fulfilled', value: { data: { pad: 'x'.repeat(10_000) } } });
    ds.close();
  });
});

describe('a kept-alive connection the subgraph closed', () => {
  test('a query is sent again, once, on a fresh connection', async () => {
    const ds = source({ maxSockets: 1 });
    await call(ds, { variables: { n: 1 } });
    resetSecondRequest = true;
    await expect(call(ds, { variables: { n: 2 } })).resolves.toMatchObject({ data: { echo: { n: 2 } } });
    // The first call, the one the server dropped, and the same sent again.
    expect(received.map((r) => r.body.variables?.n)).toEqual([1, 2, 2]);
    ds.close();
  });

  test('a mutation is not: its error names the subgraph', async () => {
    const ds = source({ maxSockets: 1 });
    const mutation = 'mutation ($n: Int) { echo(n: $n) }';
    await call(ds, { query: mutation, variables: { n: 1 } });
    resetSecondRequest = true;
    await expect(call(ds, { query: mutation, variables: { n: 2 } })).rejects.toMatchObject({
      message: 'Subgraph "counted" is unavailable',
      extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'counted' },
    });
    expect(received.map((r) => r.body.variables?.n)).toEqual([1, 2]);
    ds.close();
  });
});

describe('repeated entity representations in one call', () => {
  const ENTITIES =
    'query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Org { name } } }';
  const org = (id: string) => ({ __typename: 'Org', id });

  test('are sent once, and every position gets its entity, its own copy', async () => {
    const ds = source();
    const asked = ['a', 'b', 'a', 'c', 'a', 'b'].map(org);
    const answer = await call(ds, { query: ENTITIES, variables: { representations: asked } });
    expect(received).toHaveLength(1);
    expect(received[0].body.variables?.representations).toEqual(['a', 'b', 'c'].map(org));
    expect(ds.representations.repeated).toBe(3);
    const entities = (answer.data as { _entities: { name: string; tags: { id: string }[] }[] })._entities;
    expect(entities.map((e) => e.name)).toEqual(['a', 'b', 'a', 'c', 'a', 'b'].map((id) => `name of ${id}`));
    expect(entities.map((e) => e.tags)).toEqual(['a', 'b', 'a', 'c', 'a', 'b'].map((id) => [{ id }]));
    // The gateway merges later fetches into each entity: no two positions may share an object.
    expect(new Set(entities).size).toBe(6);
    expect(new Set(entities.map((e) => e.tags[0])).size).toBe(6);
    ds.close();
  });

  test('an error about one entity is reported at every position that asked for it', async () => {
    const ds = source();
    const asked = ['bad-1', 'a', 'bad-1', 'a'].map(org);
    const answer = await call(ds, { query: ENTITIES, variables: { representations: asked } });
    expect(received[0].body.variables?.representations).toEqual(['bad-1', 'a'].map(org));
    expect((answer.data as { _entities: unknown[] })._entities).toEqual([
      null,
      { __typename: 'Org', name: 'name of a', tags: [{ id: 'a' }] },
      null,
      { __typename: 'Org', name: 'name of a', tags: [{ id: 'a' }] },
    ]);
    expect(answer.errors).toEqual([
      { message: 'no bad-1', path: ['_entities', 0, 'name'] },
      { message: 'no bad-1', path: ['_entities', 2, 'name'] },
    ]);
    ds.close();
  });

  test('a call without repeats is sent as it is', async () => {
    const ds = source();
    const asked = ['a', 'b', 'c'].map(org);
    const answer = await call(ds, { query: ENTITIES, variables: { representations: asked } });
    expect(received[0].body.variables?.representations).toEqual(asked);
    expect(ds.representations.repeated).toBe(0);
    expect((answer.data as { _entities: unknown[] })._entities).toHaveLength(3);
    ds.close();
  });
});
