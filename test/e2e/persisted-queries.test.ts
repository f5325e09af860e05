import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { print, parse, getIntrospectionQuery } from 'graphql';
import { serverAudits } from 'graphql-http';
import { Redis } from 'ioredis';
import type { GatewayDatabaseConfig } from '@civic/common/config';
import { DEFAULT_OPERATION_LIMITS } from '@civic/common/config';
import { dropDatabase } from '@civic/common/db';
import { logger } from '@civic/common/log';
import type { Service } from '@civic/common/service';
import { openSharedStore } from '@civic/gateway/cache/store';
import { runPersistedCommand } from '@civic/gateway/persisted/cli';
import type { PersistedOptions } from '@civic/gateway/persisted/http';
import { openPersistedStore } from '@civic/gateway/persisted/store';
import { createGatewayService } from '@civic/gateway/server';
import { loadConfig } from '@civic/subgraphs';
import { runTsxScript, type CliResult } from '../support/import-cli';
import { dropRedisKeys } from '../support/rate-limit';
import { BACKENDS, startSystem, type Backend, type GraphQLResponse, type System } from '../support/system';

/**
 * Persisted queries (issue 11) against the real gateway over the real subgraphs: automatic persisted queries
 * (Apollo's protocol) in the shared store, memory or Redis; persisted documents from the built-in manifests and
 * from `npm run persisted:add` (the gateway's database, SQLite or MySQL), run by id over GET and POST; and the
 * safelist mode (PERSISTED_ONLY), which refuses everything else, exports' own queries included.
 */

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** This run's Redis keys: removed after the tests. */
const KEY_PREFIX = `civic-test-apq-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}:`;

/** A query of real data with a variable: the test manifest holds it as `print` writes it. */
const ORGS = /* GraphQL */ `
  query TunisianOrgs($first: Int!) {
    organizations(first: $first, filter: { country: "TN" }) {
      nodes {
        id
        name
        country
      }
    }
  }
`;
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

let system: System;
let manifestsDir: string;
/** The built-in manifest of these tests: client `test-dashboard`. */
const MANIFEST_BODY = print(parse(ORGS));
const MANIFEST_ID = sha(MANIFEST_BODY);
const opened: Service[] = [];
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  system = await startSystem('sqlite');
  manifestsDir = mkdtempSync(join(tmpdir(), 'civic-manifests-'));
  writeFileSync(
    join(manifestsDir, 'test-dashboard.json'),
    JSON.stringify({
      format: 'apollo-persisted-query-manifest',
      version: 1,
      operations: [{ id: MANIFEST_ID, name: 'TunisianOrgs', type: 'query', body: MANIFEST_BODY }],
    }),
  );
});

afterEach(async () => {
  for (const s of opened.splice(0).reverse()) await s.stop();
  for (const c of cleanups.splice(0).reverse()) await c();
});

afterAll(async () => {
  await system?.stop();
  if (manifestsDir) rmSync(manifestsDir, { recursive: true, force: true });
  await dropRedisKeys(REDIS_URL, KEY_PREFIX);
});

/** A gateway with persisted queries (the test manifests unless told otherwise); its origin. */
async function gateway(persisted: PersistedOptions = {}): Promise<string> {
  const service = await createGatewayService({
    subgraphUrls: system.subgraphUrls,
    limits: DEFAULT_OPERATION_LIMITS,
    reportCost: false,
    rateLimit: { costPerMinute: 0 },
    persisted: { manifestsDir, ...persisted },
  });
  opened.push(service);
  return new URL((await service.listen(0, '127.0.0.1')).url).origin;
}

interface Answer {
  status: number;
  headers: Headers;
  body: GraphQLResponse;
}

async function answer(res: Response): Promise<Answer> {
  return { status: res.status, headers: res.headers, body: (await res.json()) as GraphQLResponse };
}

const post = async (origin: string, body: unknown, headers: Record<string, string> = {}) =>
  answer(
    await fetch(`${origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    }),
  );

/** A GET as a page of the same origin sends it: Apollo's CSRF prevention wants this header (or a JSON type). */
const get = async (origin: string, params: Record<string, unknown>, headers: Record<string, string> = {}) => {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) search.set(k, typeof v === 'string' ? v : JSON.stringify(v));
  return answer(
    await fetch(`${origin}/graphql?${search}`, {
      headers: { 'apollo-require-preflight': 'true', ...headers },
    }),
  );
};

const codes = (a: Answer) => a.body.errors?.map((e) => e.extensions?.code);
const apq = (hash: string, version: unknown = 1) => ({ persistedQuery: { version, sha256Hash: hash } });

/** What the gateway answers the query itself with (the reference every persisted form must equal). */
let expected: GraphQLResponse;
beforeAll(async () => {
  const origin = await gateway({ apq: false });
  const direct = await post(origin, { query: ORGS, variables: { first: 3 } });
  expect(direct.status).toBe(200);
  expect((direct.body.data as { organizations: { nodes: unknown[] } }).organizations.nodes).toHaveLength(3);
  expected = direct.body;
  for (const s of opened.splice(0)) await s.stop();
});

/** A query no manifest or test shares, so that what the APQ store holds is this test's alone. */
const fresh = (tag: string) => `query Fresh_${tag}_${randomBytes(4).toString('hex')} { __typename }`;

describe('automatic persisted queries', () => {
  it.each(['memory', 'redis'] as const)(
    'not found, registered with its query, then found by its hash alone (%s store)',
    async (kind) => {
      const store = openSharedStore({
        redisUrl: kind === 'redis' ? REDIS_URL : null,
        maxBytes: 1024 * 1024,
        log: logger,
      });
      const origin = await gateway({ apq: { store, keyPrefix: KEY_PREFIX, ttlSeconds: 600 } });
      const query = fresh(kind);
      const hash = sha(query);
      const missing = await post(origin, { extensions: apq(hash) });
      expect(missing.status).toBe(200);
      expect(missing.headers.get('cache-control')).toBe('private, no-cache, must-revalidate');
      expect(missing.body).toEqual({
        errors: [
          {
            message: `No document is registered under the hash ${hash}: send it again with its query`,
            extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' },
          },
        ],
      });
      const registered = await post(origin, { query, extensions: apq(hash) });
      expect(registered.body).toEqual({ data: { __typename: 'Query' } });
      // Apollo stores it without waiting for the store (Redis): the next request may come first.
      let byHash: Answer | undefined;
      for (let i = 0; i < 50; i++) {
        byHash = await post(origin, { extensions: apq(hash) });
        if (byHash.body.data) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(byHash!.body).toEqual({ data: { __typename: 'Query' } });
      // A GET by hash (APQ's way of being cached by URL) finds it too.
      expect((await get(origin, { extensions: apq(hash) })).body).toEqual({ data: { __typename: 'Query' } });
      if (kind === 'redis') {
        // Kept under this gateway's prefix, with the TTL asked for; another replica sharing the Redis finds it.
        const redis = new Redis(REDIS_URL);
        try {
          const ttl = await redis.ttl(`${KEY_PREFIX}apq:${hash}`);
          expect(ttl).toBeGreaterThan(500);
          expect(ttl).toBeLessThanOrEqual(600);
        } finally {
          redis.disconnect();
        }
        const replica = await gateway({
          apq: {
            store: openSharedStore({ redisUrl: REDIS_URL, maxBytes: 1024, log: logger }),
            keyPrefix: KEY_PREFIX,
          },
        });
        expect((await post(replica, { extensions: apq(hash) })).body).toEqual({
          data: { __typename: 'Query' },
        });
      }
    },
  );

  it('refuses a hash that is not the query’s, a version other than 1 and a malformed hash, each with its code', async () => {
    const origin = await gateway();
    const query = '{ __typename }';
    const wrong = sha('something else');
    const mismatch = await post(origin, { query, extensions: apq(wrong) });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body).toEqual({
      errors: [
        {
          message: `extensions.persistedQuery.sha256Hash ${wrong} is not the SHA-256 of the query sent (${sha(query)})`,
          extensions: { code: 'PERSISTED_QUERY_HASH_MISMATCH' },
        },
      ],
    });
    for (const persistedQuery of [
      { version: 2, sha256Hash: sha(query) },
      { version: '1', sha256Hash: sha(query) },
      { version: null, sha256Hash: sha(query) },
      { sha256Hash: sha(query) },
    ]) {
      const bad = await post(origin, { query, extensions: { persistedQuery } });
      expect(bad.status).toBe(400);
      expect(codes(bad)).toEqual(['PERSISTED_QUERY_VERSION_NOT_SUPPORTED']);
      expect(bad.body.errors![0].message).toMatch(
        /only version 1 of automatic persisted queries is supported/,
      );
    }
    for (const hash of ['x', sha(query).toUpperCase(), 42]) {
      const bad = await post(origin, { query, extensions: apq(hash as string) });
      expect(bad.status).toBe(400);
      expect(codes(bad)).toEqual(['BAD_REQUEST']);
    }
    const notObject = await post(origin, { query, extensions: { persistedQuery: 'yes' } });
    expect(codes(notObject)).toEqual(['BAD_REQUEST']);
    // The same refusals in a GET's query string.
    expect(codes(await get(origin, { query, extensions: apq(sha(query), 2) }))).toEqual([
      'PERSISTED_QUERY_VERSION_NOT_SUPPORTED',
    ]);
    expect(codes(await get(origin, { query, extensions: apq(wrong) }))).toEqual([
      'PERSISTED_QUERY_HASH_MISMATCH',
    ]);
  });

  it('stores only a document that passes the limits: one too deep is refused and never registered', async () => {
    const origin = await gateway({
      apq: { store: openSharedStore({ redisUrl: null, maxBytes: 1024 * 1024, log: logger }) },
    });
    const deep = `{ organizations(first: 1) { nodes { parent { parent { parent { parent { parent { parent { parent { parent { parent { id } } } } } } } } } } } }`;
    const refused = await post(origin, { query: deep, extensions: apq(sha(deep)) });
    expect(codes(refused)).toEqual(['QUERY_TOO_DEEP']);
    await new Promise((r) => setTimeout(r, 50));
    expect(codes(await post(origin, { extensions: apq(sha(deep)) }))).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
  });

  it('finds a manifest’s document by its hash, without registering anything', async () => {
    const origin = await gateway({ apq: false });
    const byHash = await post(origin, { extensions: apq(MANIFEST_ID), variables: { first: 3 } });
    expect(byHash.body).toEqual(expected);
    // With APQ off, registering a new one is not supported (Apollo's own answer, with its code).
    const query = fresh('off');
    expect(codes(await post(origin, { query, extensions: apq(sha(query)) }))).toEqual([
      'PERSISTED_QUERY_NOT_SUPPORTED',
    ]);
  });
});

describe('persisted documents by id', () => {
  it('keeps every MUST and SHOULD of the GraphQL over HTTP audit with persisted queries on', async () => {
    const origin = await gateway();
    const results = await Promise.all(serverAudits({ url: `${origin}/graphql` }).map((a) => a.fn()));
    const failed = results.flatMap((r) =>
      /^(MUST|SHOULD)/.test(r.name) && r.status !== 'ok' ? [`${r.name}: ${r.reason}`] : [],
    );
    expect(failed).toEqual([]);
    expect(results.filter((r) => r.name.startsWith('MUST')).length).toBeGreaterThanOrEqual(13);
  });

  it('runs a built-in manifest’s document by GET ?id= with variables, by documentId and by POST, as the query itself', async () => {
    const origin = await gateway();
    const forms: Answer[] = [
      await get(origin, { id: MANIFEST_ID, variables: { first: 3 } }),
      await get(origin, { id: MANIFEST_ID, variables: { first: 3 }, operationName: 'TunisianOrgs' }),
      await get(origin, { documentId: `sha256:${MANIFEST_ID}`, variables: { first: 3 } }),
      await get(origin, { id: MANIFEST_ID, variables: { first: 3 } }, { 'content-type': 'application/json' }),
      await post(origin, { id: MANIFEST_ID, variables: { first: 3 } }),
      await post(origin, { documentId: `sha256:${MANIFEST_ID}`, variables: { first: 3 } }),
      await post(origin, { documentId: MANIFEST_ID.toUpperCase(), variables: { first: 3 } }),
    ];
    for (const a of forms) {
      expect(a.status).toBe(200);
      expect(a.body).toEqual(expected);
    }
    // Its variables are still checked: a wrong one is the client's error.
    const wrong = await get(origin, { id: MANIFEST_ID, variables: { first: 'three' } });
    expect(codes(wrong)).toEqual(['BAD_USER_INPUT']);
  });

  it('refuses an unknown id with PERSISTED_QUERY_NOT_FOUND naming only the id, and malformed requests with BAD_REQUEST', async () => {
    const origin = await gateway();
    const unknown = sha('not persisted anywhere');
    for (const a of [
      await get(origin, { id: unknown }),
      await post(origin, { documentId: `sha256:${unknown}` }),
    ]) {
      expect(a.status).toBe(400);
      expect(a.headers.get('cache-control')).toBe('no-store');
      expect(a.headers.get('x-request-id')).toBeTruthy();
      expect(a.body).toEqual({
        errors: [
          {
            message: `There is no persisted document with the id ${unknown}: its client must add it first (npm run persisted:add)`,
            extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' },
          },
        ],
      });
    }
    const malformed = [
      await get(origin, { id: 'abc' }),
      await post(origin, { documentId: 'md5:0123' }),
      await post(origin, { id: 42 }),
      await post(origin, { id: MANIFEST_ID, query: '{ __typename }' }),
      await post(origin, { id: MANIFEST_ID, documentId: `sha256:${unknown}` }),
      await post(origin, { id: MANIFEST_ID, extensions: apq(MANIFEST_ID) }),
    ];
    for (const a of malformed) {
      expect(a.status).toBe(400);
      expect(codes(a)).toEqual(['BAD_REQUEST']);
    }
  });

  it('keeps Apollo’s CSRF prevention: a GET by id without a preflight header is refused', async () => {
    const origin = await gateway();
    const res = await fetch(
      `${origin}/graphql?id=${MANIFEST_ID}&variables=${encodeURIComponent('{"first":1}')}`,
    );
    const a = await answer(res);
    expect(a.status).toBe(400);
    expect(a.body.errors?.[0].message).toMatch(/Cross-Site Request Forgery/);
    expect(a.body.data).toBeUndefined();
  });
});

describe('safelist mode (PERSISTED_ONLY)', () => {
  it('runs persisted documents only: by id, by hash, or by their exact text', async () => {
    const origin = await gateway({ only: true });
    expect((await get(origin, { id: MANIFEST_ID, variables: { first: 3 } })).body).toEqual(expected);
    expect((await post(origin, { extensions: apq(MANIFEST_ID), variables: { first: 3 } })).body).toEqual(
      expected,
    );
    expect((await post(origin, { query: MANIFEST_BODY, variables: { first: 3 } })).body).toEqual(expected);
    expect(
      (await post(origin, { query: MANIFEST_BODY, variables: { first: 3 }, extensions: apq(MANIFEST_ID) }))
        .body,
    ).toEqual(expected);
  });

  it('refuses any other operation, introspection, and APQ registration with PERSISTED_QUERY_REQUIRED', async () => {
    const origin = await gateway({ only: true });
    const required = [
      // The same operation as the manifest's, but not its exact text.
      await post(origin, { query: ORGS, variables: { first: 3 } }),
      await get(origin, { query: '{ __typename }' }),
      await post(origin, { query: getIntrospectionQuery() }),
      await post(origin, { query: ORGS, variables: { first: 3 }, extensions: apq(sha(ORGS)) }),
    ];
    for (const a of required) {
      expect(a.status).toBe(400);
      expect(codes(a)).toEqual(['PERSISTED_QUERY_REQUIRED']);
      expect(a.body.errors![0].message).toMatch(/runs persisted documents only \(PERSISTED_ONLY\)/);
    }
    const unknownHash = await post(origin, { extensions: apq(sha(ORGS)) });
    expect(codes(unknownHash)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    // The explorer's page is still served (it can show no schema: introspection is refused).
    const page = await fetch(`${origin}/`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
  });

  it('refuses an export’s own query, and still exports a saved query by name', async () => {
    const origin = await gateway({ only: true });
    const own = await fetch(
      `${origin}/export.csv?query=${encodeURIComponent('{ organizations { nodes { id } } }')}`,
    );
    expect(own.status).toBe(400);
    expect(await own.json()).toEqual({
      errors: [
        {
          message:
            'This gateway runs persisted documents only (PERSISTED_ONLY): export a saved query by its "name", not a "query" of your own',
          extensions: { code: 'PERSISTED_QUERY_REQUIRED' },
        },
      ],
    });
    const posted = await fetch(`${origin}/export.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ organizations { nodes { id } } }' }),
    });
    expect(posted.status).toBe(400);
    expect(((await posted.json()) as GraphQLResponse).errors?.[0].extensions?.code).toBe(
      'PERSISTED_QUERY_REQUIRED',
    );
    const saved = await fetch(
      `${origin}/export.csv?name=organizations&variables=${encodeURIComponent('{"filter":{"parentId":"tn-governorate-siliana"}}')}`,
    );
    expect(saved.status).toBe(200);
    expect((await saved.text()).split('\n').length).toBeGreaterThan(2);
  });
});

/** A fresh gateway database: a SQLite file in a temporary DATA_DIR, or a uniquely named MySQL database. */
function freshDatabase(backend: Backend): { config: GatewayDatabaseConfig; env: NodeJS.ProcessEnv } {
  const { DATABASE_URL: _d, GATEWAY_DATABASE_URL: _g, DATA_DIR: _dir, ...env } = process.env;
  if (backend === 'mysql') {
    const server = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
    const database = `civic_test_persisted_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
    const config: GatewayDatabaseConfig = { type: 'mysql', url: server, database };
    cleanups.push(() => dropDatabase(config));
    return { config, env: { ...env, GATEWAY_DATABASE_URL: `${server}/${database}` } };
  }
  const dir = mkdtempSync(join(tmpdir(), 'civic-persisted-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return { config: { type: 'sqlite', path: join(dir, 'gateway.sqlite') }, env: { ...env, DATA_DIR: dir } };
}

/** Runs `npm run persisted:<argv>` in this process, as scripts/persisted.ts does, on the database of `env`. */
async function persistedCli(env: NodeJS.ProcessEnv, args: readonly string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runPersistedCommand([...args], {
    out: (text) => void (stdout += `${text}\n`),
    err: (text) => void (stderr += `${text}\n`),
    database: () => loadConfig(env).gatewayDatabase,
    limits: () => loadConfig(env).limits,
    manifestsDir,
  });
  return { code, stdout, stderr };
}

/** A .graphql file of two operations sharing a fragment, and the documents it becomes. */
function graphqlFile(dir: string): { path: string; ids: Record<string, string> } {
  const path = join(dir, 'newsroom.graphql');
  writeFileSync(
    path,
    `# A newsroom's two queries
query Members($first: Int!) { organizations(first: $first, filter: { country: "MA" }) { nodes { ...Org } } }

fragment Org on Organization { id name }

query One($id: ID!) { organization(id: $id) { ...Org country } }
`,
  );
  const fragment = 'fragment Org on Organization {\n  id\n  name\n}';
  const members = `query Members($first: Int!) {\n  organizations(first: $first, filter: {country: "MA"}) {\n    nodes {\n      ...Org\n    }\n  }\n}\n\n${fragment}`;
  const one = `query One($id: ID!) {\n  organization(id: $id) {\n    ...Org\n    country\n  }\n}\n\n${fragment}`;
  return { path, ids: { Members: sha(members), One: sha(one) } };
}

describe.each(BACKENDS)('npm run persisted:* on %s', (backend) => {
  it('adds a .graphql file’s operations; a running gateway serves them within its refresh, and stops after remove', async () => {
    const { config, env } = freshDatabase(backend);
    const store = await openPersistedStore(config);
    const origin = await gateway({ store, refreshMs: 300 });
    const dir = mkdtempSync(join(tmpdir(), 'civic-persisted-files-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const { path, ids } = graphqlFile(dir);
    expect(codes(await get(origin, { id: ids.Members, variables: { first: 2 } }))).toEqual([
      'PERSISTED_QUERY_NOT_FOUND',
    ]);

    const added = await persistedCli(env, ['add', 'newsroom', path]);
    expect(added).toMatchObject({ code: 0, stderr: '' });
    expect(added.stdout).toContain('newsroom: 2 added, 0 renamed, 0 unchanged');
    expect(added.stdout).toContain(ids.Members);
    expect(added.stdout).toContain(ids.One);
    const addedAt = Date.now();
    let served: Answer | undefined;
    while (Date.now() - addedAt < 5000) {
      served = await get(origin, { id: ids.Members, variables: { first: 2 } });
      if (served.body.data) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const seenAfter = Date.now() - addedAt;
    console.log(
      `A document added by persisted:add was served ${seenAfter} ms later (refreshMs 300, ${backend})`,
    );
    expect(served!.body.data).toEqual({
      organizations: { nodes: expect.arrayContaining([expect.objectContaining({ id: expect.any(String) })]) },
    });
    const one = await post(origin, {
      documentId: `sha256:${ids.One}`,
      variables: { id: 'tn-governorate-siliana' },
    });
    expect(one.body).toEqual({
      data: { organization: { id: 'tn-governorate-siliana', name: expect.any(String), country: 'TN' } },
    });

    // Adding the same file again changes nothing.
    expect((await persistedCli(env, ['add', 'newsroom', path])).stdout).toContain(
      '0 added, 0 renamed, 2 unchanged',
    );
    const listed = await persistedCli(env, ['list', 'newsroom', '--json']);
    expect(
      (JSON.parse(listed.stdout) as { id: string; name: string; source: string }[]).map((d) => [
        d.name,
        d.id,
        d.source,
      ]),
    ).toEqual([
      ['Members', ids.Members, 'database'],
      ['One', ids.One, 'database'],
    ]);

    expect((await persistedCli(env, ['remove', 'newsroom', ids.Members])).code).toBe(0);
    const removedAt = Date.now();
    let refused: Answer | undefined;
    while (Date.now() - removedAt < 5000) {
      refused = await get(origin, { id: ids.Members, variables: { first: 2 } });
      if (!refused.body.data) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(codes(refused!)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    expect((await get(origin, { id: ids.One, variables: { id: 'x' } })).status).toBe(200);
  }, 120_000);

  it('adds an Apollo manifest (.json) after checking its ids; refuses a wrong id, an invalid document and a built-in client', async () => {
    const { env } = freshDatabase(backend);
    const dir = mkdtempSync(join(tmpdir(), 'civic-persisted-files-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const body = 'query Ping {\n  __typename\n}';
    const manifest = (id: string, b = body) =>
      JSON.stringify({
        format: 'apollo-persisted-query-manifest',
        version: 1,
        operations: [{ id, name: 'Ping', type: 'query', body: b }],
      });
    const good = join(dir, 'good.json');
    writeFileSync(good, manifest(sha(body)));
    const added = await persistedCli(env, ['add', 'app', good]);
    expect(added).toMatchObject({ code: 0, stderr: '' });
    expect(added.stdout).toContain(sha(body));

    const wrongId = join(dir, 'wrong.json');
    writeFileSync(wrongId, manifest(sha('other')));
    const refused = await persistedCli(env, ['add', 'app', wrongId]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`"id" ${sha('other')} is not the SHA-256 of its body (${sha(body)})`);

    const invalid = join(dir, 'invalid.json');
    const badBody = 'query Nope {\n  nope\n}';
    writeFileSync(invalid, manifest(sha(badBody), badBody));
    const invalidRun = await persistedCli(env, ['add', 'app', invalid]);
    expect(invalidRun.code).toBe(1);
    expect(invalidRun.stderr).toContain('Cannot query field "nope" on type "Query"');

    const builtIn = await persistedCli(env, ['add', 'test-dashboard', good]);
    expect(builtIn.code).toBe(1);
    expect(builtIn.stderr).toContain('built-in manifest');

    for (const args of [
      [],
      ['add', 'app'],
      ['add', 'bad name', good],
      ['remove', 'app', 'xyz'],
      ['drop'],
      ['list', '--nope'],
    ]) {
      expect((await persistedCli(env, args)).code).toBe(64);
    }
    expect((await persistedCli(env, ['remove', 'nobody'])).code).toBe(1);
  });

  it('runs as people run it (scripts/persisted.ts through tsx): add, list, remove with their exit statuses', async () => {
    const { env } = freshDatabase(backend);
    const dir = mkdtempSync(join(tmpdir(), 'civic-persisted-files-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(dir, { recursive: true });
    const { path, ids } = graphqlFile(dir);
    const run = (args: string[]) => runTsxScript('persisted.ts', args, { ...env, LOG_LEVEL: 'silent' });
    const added = await run(['add', 'newsroom', path]);
    expect(added.code).toBe(0);
    expect(added.stdout).toContain(ids.One);
    const listed = await run(['list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/CLIENT\s+ID\s+NAME\s+SOURCE\s+ADDED AT/);
    expect(listed.stdout).toContain(ids.Members);
    expect((await run(['remove', 'newsroom'])).code).toBe(0);
    const again = await run(['remove', 'newsroom']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('"newsroom" has no persisted documents');
    const usage = await run(['add']);
    expect(usage.code).toBe(64);
    expect(usage.stderr).toContain('Usage:');
  }, 120_000);
});
