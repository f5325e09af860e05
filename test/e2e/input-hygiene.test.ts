import { connect, type Socket } from 'node:net';
import { DEFAULT_OPERATION_LIMITS } from '@civic/common/config';
import type { Service } from '@civic/common/service';
import { createGatewayService } from '@civic/gateway/server';
import { SUBGRAPH_NAMES, type SubgraphName } from '@civic/subgraphs';
import { countingProxy, type CountingProxy } from '../support/counting-proxy';
import { logCapture } from '../support/log-capture';
import { startSystem, type GraphQLResponse, type System } from '../support/system';

/**
 * Issue 10's input hygiene, against real servers on port 0: string arguments are capped (MAX_STRING_LENGTH) and
 * may hold no NUL and no lone surrogate, literal or from variables, refused before any subgraph is called; a bad
 * cursor is named, never echoed; a parse error, a malformed body and an aborted request each log one JSON line;
 * slow clients and too many connections are cut off while the server keeps serving.
 */

/** Every JSON line any service logs during this file, and what is written to stderr. */
const { lines, stderr, start: captureLogs } = logCapture();
let stderrSpy: jest.SpyInstance;
let previousNodeEnv: string | undefined;

let system: System;
let gateway: Service;
let gatewayUrl: string;
const proxies = {} as Record<SubgraphName, CountingProxy>;
const MAX = DEFAULT_OPERATION_LIMITS.maxStringLength;

beforeAll(async () => {
  // Express prints an unhandled error's stack to stderr except when NODE_ENV is `test`: run as production does.
  previousNodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  stderrSpy = captureLogs();
  system = await startSystem('sqlite');
  for (const name of SUBGRAPH_NAMES) proxies[name] = await countingProxy(system.subgraphUrls[name]);
  gateway = await createGatewayService({
    subgraphUrls: Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, proxies[n].url])),
    limits: DEFAULT_OPERATION_LIMITS,
    introspection: true,
    reportCost: false,
    rateLimit: { costPerMinute: 1_000_000 },
  });
  gatewayUrl = (await gateway.listen(0, '127.0.0.1')).url;
});

afterAll(async () => {
  await gateway?.stop();
  for (const p of Object.values(proxies)) await p.close();
  await system?.stop();
  stderrSpy?.mockRestore();
  jest.restoreAllMocks();
  process.env.NODE_ENV = previousNodeEnv;
});

const subgraphCalls = () => SUBGRAPH_NAMES.reduce((n, name) => n + proxies[name].count, 0);

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: GraphQLResponse;
}

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: JSON.parse(text) as GraphQLResponse };
}

const gql = (query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) =>
  post(gatewayUrl, JSON.stringify({ query, variables }), headers);

/** Expects the one refusal of a string argument: 400, BAD_USER_INPUT, no data, no subgraph called, no echo. */
async function refusedString(
  send: () => Promise<Answer>,
  argumentPath: string,
  reason: RegExp,
  value: string,
): Promise<Answer> {
  const before = subgraphCalls();
  const answer = await send();
  expect(answer.status).toBe(400);
  expect(answer.body.data).toBeUndefined();
  expect(answer.body.errors).toHaveLength(1);
  const [error] = answer.body.errors!;
  expect(error.message).toContain(`Argument "${argumentPath}"`);
  expect(error.message).toMatch(reason);
  expect(error.extensions).toEqual(
    expect.objectContaining({
      code: 'BAD_USER_INPUT',
      argumentPath,
      argumentName: argumentPath.split(/[.[]/)[0],
    }),
  );
  // Never the value: the whole answer is a few hundred bytes, whatever was sent.
  expect(answer.text.length).toBeLessThan(600);
  if (value.length > 20) expect(answer.text).not.toContain(value.slice(0, 20));
  expect(subgraphCalls()).toBe(before);
  return answer;
}

const NAME_CONTAINS = /* GraphQL */ `
  query ($name: String) {
    organizations(first: 1, filter: { nameContains: $name }) {
      totalCount
    }
  }
`;

describe('string arguments: capped, no NUL, no lone surrogate, refused before any subgraph is called', () => {
  const huge = 'x'.repeat(900_000);

  it('a 900 KB nameContains, from a variable or literal: 400 naming filter.nameContains and the limit', async () => {
    const fromVariable = await refusedString(
      () => gql(NAME_CONTAINS, { name: huge }),
      'filter.nameContains',
      new RegExp(`more than the ${MAX} allowed`),
      huge,
    );
    expect(fromVariable.body.errors![0].extensions).toEqual(
      expect.objectContaining({ limit: MAX, measured: 900_000 }),
    );
    await refusedString(
      () => gql(`{ organizations(filter: { nameContains: "${huge}" }) { totalCount } }`),
      'filter.nameContains',
      new RegExp(`more than the ${MAX} allowed`),
      huge,
    );
  });

  it('a string of exactly MAX_STRING_LENGTH characters passes, counted in code points; one more does not', async () => {
    const atLimit = await gql(NAME_CONTAINS, { name: 'q'.repeat(MAX) });
    expect(atLimit.status).toBe(200);
    expect(atLimit.body).toEqual({ data: { organizations: { totalCount: 0 } } });
    // 4096 emoji are 8192 UTF-16 units, but 4096 characters.
    const emoji = await gql(NAME_CONTAINS, { name: '😀'.repeat(MAX) });
    expect(emoji.body).toEqual({ data: { organizations: { totalCount: 0 } } });
    await refusedString(
      () => gql(NAME_CONTAINS, { name: 'q'.repeat(MAX + 1) }),
      'filter.nameContains',
      /is 4097 characters long/,
      'q'.repeat(MAX + 1),
    );
  });

  it('a NUL byte, literal (\\u0000) or from a variable, is refused instead of matching every organization', async () => {
    await refusedString(() => gql(NAME_CONTAINS, { name: '\u0000' }), 'filter.nameContains', /NUL/, '');
    await refusedString(
      () => gql(`{ organizations(filter: { nameContains: "Tun\\u0000is" }) { totalCount } }`),
      'filter.nameContains',
      /NUL character \(U\+0000\)/,
      '',
    );
  });

  it('an unpaired UTF-16 surrogate from a variable is refused; a paired one is text', async () => {
    await refusedString(
      () =>
        post(gatewayUrl, '{"query":' + JSON.stringify(NAME_CONTAINS) + ',"variables":{"name":"a\\ud800b"}}'),
      'filter.nameContains',
      /unpaired UTF-16 surrogate/,
      '',
    );
    await refusedString(() => gql(NAME_CONTAINS, { name: '\udc00' }), 'filter.nameContains', /surrogate/, '');
    const paired = await gql(NAME_CONTAINS, { name: '\ud83d\ude00' });
    expect(paired.body).toEqual({ data: { organizations: { totalCount: 0 } } });
  });

  it('strings nested in lists of input objects, in ids, in directives: each named by its path', async () => {
    await refusedString(
      () =>
        gql(
          `query ($code: String!) { budgetLines(filter: { classifications: [{ code: "1" }, { code: $code }] }) { totalCount } }`,
          {
            code: huge,
          },
        ),
      'filter.classifications[1].code',
      /more than/,
      huge,
    );
    await refusedString(
      () => gql(`query ($id: ID!) { organization(id: $id) { id } }`, { id: '\u0000' }),
      'id',
      /NUL/,
      '',
    );
    // A variable's default counts too, and a fragment's arguments.
    await refusedString(
      () =>
        gql(
          `query ($name: String = "a\\u0000") { ...F } fragment F on Query { organizations(filter: { nameContains: $name }) { totalCount } }`,
        ),
      'filter.nameContains',
      /NUL/,
      '',
    );
  });

  it('is checked before the rate limit: a refused operation spends nothing of the budget', async () => {
    const ok = await gql(NAME_CONTAINS, { name: 'Tunis' }, { 'x-forwarded-for': 'ignored' });
    const before = Number(ok.headers.get('ratelimit-remaining'));
    const refused = await gql(NAME_CONTAINS, { name: huge });
    expect(refused.status).toBe(400);
    expect(Number(refused.headers.get('ratelimit-remaining'))).toBe(before);
  });

  it('a search keeps its own cap (300) and its own message, under MAX_STRING_LENGTH', async () => {
    const answer = await gql(`query ($s: String) { organizations(filter: { search: $s }) { totalCount } }`, {
      s: 'tunis '.repeat(100),
    });
    expect(answer.body.errors?.[0].message).toMatch(/is 600 characters long; at most 300 are allowed/);
    expect(answer.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('each subgraph refuses the same on its own (a caller that reaches it around the gateway)', async () => {
    for (const name of SUBGRAPH_NAMES) {
      const answer = await post(
        system.subgraphUrls[name],
        JSON.stringify({
          query: 'query ($r: [_Any!]!) { _entities(representations: $r) { __typename } }',
          variables: { r: [{ __typename: 'Organization', id: huge }] },
        }),
      );
      expect({ name, status: answer.status }).toEqual({ name, status: 400 });
      expect(answer.body.errors).toEqual([
        expect.objectContaining({
          message: expect.stringContaining('Argument "representations[0].id" of "_entities" is 900000'),
          extensions: expect.objectContaining({
            code: 'BAD_USER_INPUT',
            argumentPath: 'representations[0].id',
          }),
        }),
      ]);
      expect(answer.text.length).toBeLessThan(600);
    }
  });

  it('the longest cursor the seeded data gives (commitments ordered by every field) still passes', async () => {
    const orderBy = [
      'ID',
      'START_DATE',
      'END_DATE',
      'TITLE',
      'ACTION_PLAN',
      'POTENTIAL_IMPACT',
      'COMPLETION_END_OF_TERM',
    ]
      .map((f) => `{ field: ${f} }`)
      .join(', ');
    const query = /* GraphQL */ `
      query ($after: String) {
        commitments(first: 100, after: $after, orderBy: [${orderBy}]) {
          edges { cursor }
          pageInfo { hasNextPage endCursor }
        }
      }
    `;
    let after: string | null = null;
    let longest = '';
    for (;;) {
      const page = await gql(query, { after });
      const c = (
        page.body.data as {
          commitments: { edges: { cursor: string }[]; pageInfo: { hasNextPage: boolean; endCursor: string } };
        }
      ).commitments;
      for (const e of c.edges) if (e.cursor.length > longest.length) longest = e.cursor;
      if (!c.pageInfo.hasNextPage) break;
      after = c.pageInfo.endCursor;
    }
    expect(longest.length).toBeGreaterThan(1000);
    expect(longest.length).toBeLessThan(MAX);
    const next = await gql(query, { after: longest });
    expect(next.body.errors).toBeUndefined();
  });
});

describe('cursors: a bad one is named, not echoed', () => {
  it.each([
    ['a 3,000-character made-up cursor', 'Zm9v'.repeat(750)],
    ['a short one', 'abc'],
  ])('%s: BAD_USER_INPUT naming "after", with its length and not its value', async (_what, cursor) => {
    for (const orderBy of ['', ', orderBy: [{ field: NAME }]']) {
      const answer = await gql(
        `query ($a: String) { organizations(first: 1, after: $a${orderBy}) { totalCount } }`,
        {
          a: cursor,
        },
      );
      expect(answer.body.errors).toEqual([
        expect.objectContaining({
          message: `Argument "after" is not a cursor returned by this API (a value of ${cursor.length} characters): pass a page's endCursor or one of its edges' cursors, unchanged`,
          extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', argumentName: 'after' }),
        }),
      ]);
      expect(answer.text).not.toContain(cursor);
    }
  });

  it('a 900 KB cursor is refused by the string cap, before any subgraph, without its value', async () => {
    const cursor = 'A'.repeat(900_000);
    await refusedString(
      () => gql(`query ($a: String) { commitments(after: $a) { totalCount } }`, { a: cursor }),
      'after',
      /more than the/,
      cursor,
    );
  });
});

/** The lines logged with this request id, by any service. */
const logged = (requestId: string) => lines.filter((l) => l.requestId === requestId);

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('logs: one JSON line per refused request, no stack trace', () => {
  it('a GraphQL syntax error: one line, with the request id', async () => {
    const answer = await gql('{ organizations(first: ', undefined, { 'x-request-id': 'hygiene-parse-1' });
    expect(answer.status).toBe(400);
    await settle(50);
    expect(logged('hygiene-parse-1')).toEqual([
      expect.objectContaining({
        level: 30,
        service: 'gateway',
        msg: 'unparsable operation',
        err: expect.stringMatching(/^Syntax Error/),
      }),
    ]);
  });

  it('a body that is not JSON: one line, with the request id', async () => {
    const answer = await post(gatewayUrl, '{"query": "{ __typename }', { 'x-request-id': 'hygiene-json-1' });
    expect(answer.status).toBe(400);
    expect(answer.body.errors![0].extensions?.code).toBe('BAD_REQUEST');
    await settle(50);
    expect(logged('hygiene-json-1')).toEqual([
      expect.objectContaining({ service: 'gateway', msg: 'unreadable request body' }),
    ]);
  });

  it('without an X-Request-Id, the line carries the id the answer was given', async () => {
    for (const body of ['{"query": "{ __typename }', JSON.stringify({ query: '{ organizations(' })]) {
      const answer = await post(gatewayUrl, body);
      expect(answer.status).toBe(400);
      const id = answer.headers.get('x-request-id');
      expect(id).toMatch(/^[\w-]{16,}$/);
      await settle(50);
      expect(logged(id!)).toHaveLength(1);
    }
  });

  /** Sends half a body to `url` and goes away: the one line logged for it. */
  const abortMidBody = async (url: string, requestId: string) => {
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write(
      'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n' +
        `X-Request-Id: ${requestId}\r\n\r\n{"query": "{ __ty`,
    );
    await settle(100);
    socket.destroy();
    await settle(300);
    const found = logged(requestId);
    expect(found).toHaveLength(1);
    expect(found[0]).toEqual(
      expect.objectContaining({
        service: 'gateway',
        level: 30,
        msg: 'request aborted by the client',
        method: 'POST',
        path: '/graphql',
        status: 400,
      }),
    );
  };

  it('a request aborted by its client in the middle of its body: one line, with the request id', async () => {
    await abortMidBody(gatewayUrl, 'hygiene-abort-1');
  });

  it('the same without the front path (GRAPHQL_FRONT=false), the response cache reading the body first', async () => {
    const plain = await createGatewayService({
      subgraphUrls: system.subgraphUrls,
      limits: DEFAULT_OPERATION_LIMITS,
      rateLimit: { costPerMinute: 1_000_000 },
      responseCache: { mode: 'memory' },
      graphqlFront: false,
    });
    try {
      await abortMidBody((await plain.listen(0, '127.0.0.1')).url, 'hygiene-abort-2');
    } finally {
      await plain.stop();
    }
  });

  it('nothing reached stderr, and every line logged is one JSON object without a stack', () => {
    expect(stderr.join('')).not.toMatch(/\n\s+at /);
    expect(stderr.filter((s) => /aborted|Error/i.test(s))).toEqual([]);
    for (const line of lines) expect(JSON.stringify(line)).not.toMatch(/\\n\s+at /);
  });
});

/** A raw TCP connection to `port`, and a promise of when the server closes it (ms after `since`). */
function rawConnection(port: number) {
  const socket: Socket = connect(port, '127.0.0.1');
  const received: Buffer[] = [];
  socket.on('data', (d: Buffer) => received.push(d));
  socket.on('error', () => undefined);
  const closed = new Promise<number>((r) => socket.once('close', () => r(performance.now())));
  const connected = new Promise<void>((r) => socket.once('connect', () => r()));
  return { socket, received, closed, connected, text: () => Buffer.concat(received).toString('latin1') };
}

describe('server bounds: slow clients are cut off, connections are capped, the server keeps serving', () => {
  let bounded: Service;
  let port: number;
  const env = {
    HEADERS_TIMEOUT_MS: '1000',
    REQUEST_TIMEOUT_MS: '2000',
    KEEP_ALIVE_TIMEOUT_MS: '1000',
    MAX_CONNECTIONS: '4',
    MAX_HEADER_BYTES: '8192',
  };
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    for (const [k, v] of Object.entries(env)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    bounded = await createGatewayService({
      subgraphUrls: Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, system.subgraphUrls[n]])),
      reportCost: false,
      rateLimit: { costPerMinute: 0 },
    });
    port = (await bounded.listen(0, '127.0.0.1')).port;
  });

  afterAll(async () => {
    await bounded?.stop();
    for (const k of Object.keys(env)) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  const typename = () =>
    fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', connection: 'close' },
      body: JSON.stringify({ query: '{ __typename }' }),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));

  it('a slow upload (headers, then a byte every 200 ms) is cut off after REQUEST_TIMEOUT_MS with 408', async () => {
    const c = rawConnection(port);
    await c.connected;
    const started = performance.now();
    c.socket.write(
      'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{',
    );
    const trickle = setInterval(() => c.socket.writable && c.socket.write(' '), 200);
    const closedAt = await c.closed;
    clearInterval(trickle);
    const ms = closedAt - started;
    expect(ms).toBeGreaterThanOrEqual(1900);
    expect(ms).toBeLessThan(4000);
    expect(c.text()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('headers sent slowly are cut off after HEADERS_TIMEOUT_MS', async () => {
    const c = rawConnection(port);
    await c.connected;
    const started = performance.now();
    c.socket.write('GET /health HTTP/1.1\r\n');
    const trickle = setInterval(() => c.socket.writable && c.socket.write('X-A: b\r\n'), 200);
    const closedAt = await c.closed;
    clearInterval(trickle);
    const ms = closedAt - started;
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(3000);
  });

  it('over MAX_CONNECTIONS a new connection is closed at once, and the server still answers after', async () => {
    const held = Array.from({ length: 4 }, () => rawConnection(port));
    await Promise.all(held.map((c) => c.connected));
    await settle(50);
    const extra = rawConnection(port);
    const started = performance.now();
    await extra.connected.catch(() => undefined);
    extra.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    const closedAt = await extra.closed;
    expect(closedAt - started).toBeLessThan(500);
    expect(extra.text()).toBe('');
    // The held connections were never closed by the extra one; let them go, and the server answers.
    for (const c of held) c.socket.destroy();
    await Promise.all(held.map((c) => c.closed));
    await settle(50);
    expect(await typename()).toEqual({
      status: 200,
      body: expect.objectContaining({ data: { __typename: 'Query' } }),
    });
  });

  it('a request head over MAX_HEADER_BYTES gets 431; one under it is served', async () => {
    const health = (padding: number) =>
      fetch(`http://127.0.0.1:${port}/health`, { headers: { 'x-padding': 'p'.repeat(padding) } });
    expect((await health(10_000)).status).toBe(431);
    expect((await health(6_000)).status).toBe(200);
  });

  it('HEADERS_TIMEOUT_MS longer than REQUEST_TIMEOUT_MS is refused at start, naming the variable', async () => {
    process.env.HEADERS_TIMEOUT_MS = '5000';
    try {
      await expect(createGatewayService({ subgraphUrls: system.subgraphUrls })).rejects.toThrow(
        /HEADERS_TIMEOUT_MS: must not be longer than REQUEST_TIMEOUT_MS/,
      );
    } finally {
      process.env.HEADERS_TIMEOUT_MS = env.HEADERS_TIMEOUT_MS;
    }
  });

  it('a connection that sends nothing is closed after HEADERS_TIMEOUT_MS, freeing its place', async () => {
    const c = rawConnection(port);
    await c.connected;
    const started = performance.now();
    const closedAt = await c.closed;
    expect(closedAt - started).toBeLessThan(3000);
  });
});
