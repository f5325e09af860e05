import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKey } from '@civic/gateway/keys/api-keys';
import { openKeyStore, type KeyStore } from '@civic/gateway/keys/store';
import { createGatewayService, type GatewayOptions } from '@civic/gateway/server';
import { startSystem, type System } from '../support/system';
import { csvRows, exportUrl, gatedProxy, readAll } from '../support/export';
import { dropRedisKeys, retryAfterOf } from '../support/rate-limit';
import { withEnv } from '../support/with-env';

/**
 * Export rows per minute (issue 10): each client's rows, all its exports together, counted as pages are
 * written in the rate limits' store (memory, or Redis shared by the replicas). An export that would not fit
 * what is left is refused before it starts (429, Retry-After, RateLimit headers of the rows); one that meets
 * the limit while streaming is cut short, never looking whole; an API key has its own rows per minute.
 */

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const KEY_PREFIX = `civic-test-export-rows-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

let sys: System;
let keys: KeyStore;
let keysDir: string;
const opened: { stop(): Promise<void> }[] = [];

beforeAll(async () => {
  sys = await startSystem('sqlite');
  keysDir = mkdtempSync(join(tmpdir(), 'civic-export-rows-'));
  keys = await openKeyStore({ type: 'sqlite', path: join(keysDir, 'gateway.sqlite') });
});
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.stop();
});
afterAll(async () => {
  await keys?.close();
  rmSync(keysDir, { recursive: true, force: true });
  await sys?.stop();
  await dropRedisKeys(REDIS_URL, KEY_PREFIX);
});

/**
 * A gateway over the system's subgraphs (organizations possibly through another URL) with these environment
 * variables set as in production, the test's key store, and no cost limit (rows are what is measured here).
 */
async function gatewayWith(
  env: Record<string, string>,
  opts: { organizationsUrl?: string; redisUrl?: string } = {},
): Promise<string> {
  const rateLimit: GatewayOptions['rateLimit'] = {
    costPerMinute: 0,
    redisUrl: opts.redisUrl ?? null,
    keyPrefix: KEY_PREFIX,
  };
  const service = await withEnv(env, () =>
    createGatewayService({
      subgraphUrls: {
        ...sys.subgraphUrls,
        ...(opts.organizationsUrl ? { organizations: opts.organizationsUrl } : {}),
      },
      rateLimit,
      keys: {
        store: {
          location: keys.location,
          insert: (k) => keys.insert(k),
          get: (id) => keys.get(id),
          list: () => keys.list(),
          revoke: (id, at) => keys.revoke(id, at),
          close: async () => {},
        },
      },
    }),
  );
  opened.push(service);
  return (await service.listen(0, '127.0.0.1')).url.replace(/\/graphql$/, '');
}

const SILIANA = { name: 'organizations', variables: { filter: { parentId: 'tn-governorate-siliana' } } };
/** Commitments of Tunisia, ids only: another subgraph, so it never goes through an organizations proxy. */
const TN_COMMITMENTS = '{ commitments(first: 100, filter: { country: "TN" }) { nodes { id } } }';

async function totalCount(query: string): Promise<number> {
  const res = await sys.queryGateway<any>(query);
  expect(res.errors).toBeUndefined();
  return (Object.values(res.data!)[0] as { totalCount: number }).totalCount;
}
const silianaRows = () =>
  totalCount('{ organizations(filter: { parentId: "tn-governorate-siliana" }) { totalCount } }');
const tnCommitments = () => totalCount('{ commitments(filter: { country: "TN" }) { totalCount } }');

test('anonymous: EXPORT_ROWS_PER_MINUTE; an export that does not fit what is left gets 429 before it starts', async () => {
  const s = await silianaRows();
  expect(s).toBeGreaterThan(5);
  const proxy = await gatedProxy(sys.subgraphUrls.organizations, opened);
  // Room for two exports of Siliana and a little more.
  const limit = 2 * s + 3;
  const root = await gatewayWith({ EXPORT_ROWS_PER_MINUTE: String(limit) }, { organizationsUrl: proxy.url });
  for (let i = 0; i < 2; i++) {
    const ok = await fetch(exportUrl(root, 'csv', SILIANA));
    expect(ok.status).toBe(200);
    expect(csvRows(await ok.text())).toHaveLength(s);
  }
  const pages = proxy.count;
  const refused = await fetch(exportUrl(root, 'json', SILIANA));
  expect(refused.status).toBe(429);
  const retryAfter = retryAfterOf(refused.headers);
  expect({
    limit: refused.headers.get('ratelimit-limit'),
    remaining: refused.headers.get('ratelimit-remaining'),
    policy: refused.headers.get('ratelimit-policy'),
  }).toEqual({ limit: String(limit), remaining: '3', policy: `${limit};w=60` });
  expect(await refused.json()).toEqual({
    errors: [
      {
        message:
          `This export would have ${s} rows, more than the 3 left of the ${limit} rows one client may export ` +
          `per minute (EXPORT_ROWS_PER_MINUTE): try again in ${retryAfter} s`,
        extensions: { code: 'EXPORT_RATE_LIMITED', limit, measured: s, remaining: 3, retryAfter },
      },
    ],
  });
  // Only the first page ran, to learn the totalCount; nothing was counted for it.
  expect(proxy.count).toBe(pages + 1);

  // A client with no rows left is refused before any page runs.
  const exact = await gatewayWith({ EXPORT_ROWS_PER_MINUTE: String(s) }, { organizationsUrl: proxy.url });
  const all = await fetch(exportUrl(exact, 'csv', SILIANA));
  expect(all.status).toBe(200);
  await all.text();
  const before = proxy.count;
  const none = await fetch(exportUrl(exact, 'csv', SILIANA));
  expect(none.status).toBe(429);
  expect(none.headers.get('ratelimit-remaining')).toBe('0');
  expect((await none.json()).errors[0]).toEqual({
    message: expect.stringMatching(
      new RegExp(
        `^You have exported the ${s} rows one client may export per minute \\(EXPORT_ROWS_PER_MINUTE\\): try again in \\d+ s$`,
      ),
    ),
    extensions: {
      code: 'EXPORT_RATE_LIMITED',
      limit: s,
      measured: 0,
      remaining: 0,
      retryAfter: expect.any(Number),
    },
  });
  expect(proxy.count).toBe(before);
});

test('below EXPORT_ANONYMOUS_MAX_ROWS, the rows per minute also cap one export, named as such', async () => {
  const s = await silianaRows();
  const root = await gatewayWith({ EXPORT_ROWS_PER_MINUTE: String(s - 1) });
  const res = await fetch(exportUrl(root, 'csv', SILIANA));
  expect(res.status).toBe(400);
  expect((await res.json()).errors[0].message).toBe(
    `This export would have ${s} rows, more than the ${s - 1} one client's exports of one minute may have ` +
      '(EXPORT_ROWS_PER_MINUTE): narrow it with a filter, or export it in parts',
  );
});

test('an export that meets the limit while streaming is cut short, never looking whole', async () => {
  const s = await silianaRows();
  const c = await tnCommitments();
  const proxy = await gatedProxy(sys.subgraphUrls.organizations, opened);
  // Both fit alone; together they are one row over.
  const limit = s + c - 1;
  const root = await gatewayWith({ EXPORT_ROWS_PER_MINUTE: String(limit) }, { organizationsUrl: proxy.url });
  // One row per page; the third page is held while another export of the same client spends its rows.
  proxy.hold(3);
  const query =
    '{ organizations(first: 1, filter: { parentId: "tn-governorate-siliana" }) { nodes { id } } }';
  const slow = await fetch(exportUrl(root, 'csv', { query }));
  expect(slow.status).toBe(200);
  await proxy.arrived(3);
  const other = await fetch(exportUrl(root, 'csv', { query: TN_COMMITMENTS }));
  expect(other.status).toBe(200);
  expect(csvRows(await other.text())).toHaveLength(c);
  proxy.release();

  const { bytes, outcome } = await readAll(slow);
  const text = bytes.toString('utf8');
  expect(outcome).toMatch(/^cut/);
  // Every row up to the limit, whole records, and no error text in the file.
  expect(csvRows(text)).toHaveLength(s - 1);
  expect(text.endsWith('\r\n')).toBe(true);
  expect(text).not.toMatch(/EXPORT_ROWS_PER_MINUTE|error/i);
});

test('an API key has its own export rows per minute (--export-rows, else EXPORT_KEY_ROWS_PER_MINUTE)', async () => {
  const s = await silianaRows();
  const own = await createKey(keys, {
    name: 'newsroom',
    costPerMinute: 1_000_000,
    exportRowsPerMinute: 3 * s,
  });
  const byDefault = await createKey(keys, { name: 'partner', costPerMinute: 1_000_000 });
  const root = await gatewayWith({
    EXPORT_ROWS_PER_MINUTE: String(s),
    EXPORT_KEY_ROWS_PER_MINUTE: String(2 * s),
  });
  const run = async (headers: Record<string, string> = {}) => {
    const res = await fetch(exportUrl(root, 'csv', SILIANA), { headers });
    await res.text();
    return res.status;
  };
  // Anonymous: one export of Siliana a minute.
  expect([await run(), await run()]).toEqual([200, 429]);
  // The key's own rows: three; the other key's, EXPORT_KEY_ROWS_PER_MINUTE's two.
  const withOwn = { authorization: `Bearer ${own.key}` };
  expect([await run(withOwn), await run(withOwn), await run(withOwn), await run(withOwn)]).toEqual([
    200, 200, 200, 429,
  ]);
  const withDefault = { 'x-api-key': byDefault.key };
  expect([await run(withDefault), await run(withDefault), await run(withDefault)]).toEqual([200, 200, 429]);
  const refused = await fetch(exportUrl(root, 'json', SILIANA), { headers: withDefault });
  expect((await refused.json()).errors[0].message).toMatch(
    new RegExp(
      `^You have exported the ${2 * s} rows your API key may export per minute \\(EXPORT_KEY_ROWS_PER_MINUTE\\)`,
    ),
  );
});

test('the rows are counted in Redis when REDIS_URL is set: two gateways spend from one count', async () => {
  const s = await silianaRows();
  const env = { EXPORT_ROWS_PER_MINUTE: String(s) };
  const first = await gatewayWith(env, { redisUrl: REDIS_URL });
  const second = await gatewayWith(env, { redisUrl: REDIS_URL });
  const ok = await fetch(exportUrl(first, 'csv', SILIANA));
  expect(ok.status).toBe(200);
  await ok.text();
  const refused = await fetch(exportUrl(second, 'csv', SILIANA));
  expect(refused.status).toBe(429);
  expect(refused.headers.get('ratelimit-remaining')).toBe('0');
  await refused.text();
});
