import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  closeDataVersionPublisher,
  publishDataVersionsTo,
  readDataVersion,
} from '@civic/common/data-version';
import type { Service } from '@civic/common/service';
import { newResponseCacheStats, type ResponseCacheStats } from '@civic/gateway/cache/response-cache';
import { createGatewayService } from '@civic/gateway/server';
import { importers as budgetsImporters } from '@civic/subgraphs/budgets/src/import';
import { importWith } from '../support/imports';
import { composeWith, PROBE_SDL, startProbeSubgraph } from '../support/probe-subgraph';
import { dropRedisKeys } from '../support/rate-limit';
import { BACKENDS, startSystem, type System } from '../support/system';

// The gateway's response cache against the whole running system: hits and misses, what the key varies with,
// what is never kept, the HTTP side (Cache-Control, ETag, 304), Redis shared by two gateways, and above all
// that an import is never followed by the answer of the data before it.

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const FDP = join(__dirname, '..', 'fixtures', 'import', 'fiscal-data-package', 'bou-arada-2018');
const BUDGET = 'fdp-bou-arada-2018-approved-expenditure-2018';
const POLL_MS = 100;

const TOTAL = /* GraphQL */ `
  query Total($id: ID!) {
    budget(id: $id) {
      id
      approved: total(direction: EXPENDITURE, phase: APPROVED) {
        amount
        currency
      }
    }
  }
`;

const ORGANIZATION = /* GraphQL */ `
  query Org($id: ID!) {
    organization(id: $id) {
      id
      name
    }
  }
`;

interface Answer {
  status: number;
  headers: Headers;
  body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
    extensions?: { cost?: { requested: number; limit: number; remaining?: number } };
  };
}

async function post(url: string, query: string, variables?: object, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Answer['body'] };
}

async function get(url: string, query: string, variables?: object, headers: Record<string, string> = {}) {
  const u = new URL(url);
  u.searchParams.set('query', query);
  if (variables) u.searchParams.set('variables', JSON.stringify(variables));
  // Apollo's CSRF prevention: a GET names itself as not a simple request.
  const res = await fetch(u, { headers: { 'apollo-require-preflight': 'true', ...headers } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as Answer['body'] };
}

/**
 * A conditional GET as a browser or a CDN revalidates: with node:http, because fetch adds `Cache-Control:
 * no-cache` to any request carrying If-None-Match (the Fetch standard), and a server must then answer in full.
 */
function revalidate(url: string, query: string, variables: object, etag: string) {
  const u = new URL(url);
  u.searchParams.set('query', query);
  u.searchParams.set('variables', JSON.stringify(variables));
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      httpGet(u, { headers: { 'apollo-require-preflight': 'true', 'if-none-match': etag } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      }).on('error', reject);
    },
  );
}

/** A copy of the Bou Arada package with one approved amount raised by `delta` dinars: the same budget, new numbers. */
function changedPackage(dir: string, delta: number): string {
  const out = join(dir, `bou-arada-${delta}`);
  cpSync(FDP, out, { recursive: true });
  const csv = join(out, 'expenditure.csv');
  const before = readFileSync(csv, 'utf8');
  const after = before.replace(',190000.000\n', `,${190000 + delta}.000\n`);
  expect(after).not.toBe(before);
  writeFileSync(csv, after);
  return out;
}

/** Until one query is kept and found again: the gateway trusts the versions it has polled. */
async function settle(url?: string) {
  for (let i = 0; i < 100; i++) {
    const target = url ?? currentGateway;
    const q = '{ organization(id: "gov-fr") { id } }';
    await post(target, q);
    if ((await post(target, q)).headers.get('x-cache') === 'HIT') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the gateway never trusted its data versions');
}
let currentGateway = '';

const importPackage = async (sys: System, path: string) => {
  const report = await importWith(budgetsImporters, 'fiscal-data-package', sys.dataSources.budgets, path);
  expect(report.outcome).toBe('loaded');
};

const approvedOf = (a: Answer) =>
  Number(((a.body.data?.budget as { approved: { amount: string } }).approved.amount as string) ?? NaN);

describe.each(BACKENDS)('the response cache on %s', (backend) => {
  const prefix = `civic:test:cache:${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'civic-cache-'));
  const stats: ResponseCacheStats = newResponseCacheStats();
  let sys: System;
  const extra: Service[] = [];
  /** Another gateway on the same subgraphs; its URL. */
  const gateway = async (responseCache: Parameters<typeof createGatewayService>[0]['responseCache']) => {
    const service = await createGatewayService({
      subgraphUrls: sys.subgraphUrls,
      responseCache,
      reportCost: true,
    });
    extra.push(service);
    return (await service.listen(0, '127.0.0.1')).url;
  };

  beforeAll(async () => {
    // Writers of this file publish nowhere until the Redis test says so (whatever REDIS_URL the shell has).
    publishDataVersionsTo(null);
    sys = await startSystem(backend, {
      reportCost: true,
      responseCache: { mode: 'memory', pollMs: POLL_MS, stats },
    });
    currentGateway = sys.gatewayUrl;
    await importPackage(sys, FDP);
    // The import ran in this process and held its event loop: the gateway's polls catch up before the tests.
    await settle();
  });

  afterAll(async () => {
    for (const s of extra) await s.stop();
    await sys?.stop();
    await closeDataVersionPublisher();
    await dropRedisKeys(REDIS_URL, prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a repeated query from the cache: MISS, then HIT with the same data', async () => {
    const vars = { id: 'tn-municipality-34012' };
    const before = { ...stats };
    const first = await post(sys.gatewayUrl, ORGANIZATION, vars);
    const second = await post(sys.gatewayUrl, ORGANIZATION, vars);
    expect(first.body.errors).toBeUndefined();
    expect(first.headers.get('x-cache')).toBe('MISS');
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(second.body.data).toEqual(first.body.data);
    expect(stats.misses - before.misses).toBe(1);
    expect(stats.hits - before.hits).toBe(1);
    expect(stats.writes - before.writes).toBe(1);
    // The cost is the client's own on a hit too: spent (remaining goes down), never the cached request's.
    expect(second.body.extensions?.cost?.requested).toBe(first.body.extensions?.cost?.requested);
    expect(second.body.extensions?.cost?.remaining).toBeLessThan(first.body.extensions!.cost!.remaining!);
  });

  it('keys by the variables and by the negotiated languages', async () => {
    const a = await post(sys.gatewayUrl, ORGANIZATION, { id: 'gov-ma' });
    const b = await post(sys.gatewayUrl, ORGANIZATION, { id: 'ma-region-01' });
    expect(a.headers.get('x-cache')).toBe('MISS');
    expect(b.headers.get('x-cache')).toBe('MISS');
    expect(a.body.data).not.toEqual(b.body.data);

    const vars = { id: 'tn-municipality-34012' };
    const ar = await post(sys.gatewayUrl, ORGANIZATION, vars, { 'accept-language': 'ar' });
    const fr = await post(sys.gatewayUrl, ORGANIZATION, vars, { 'accept-language': 'fr' });
    expect(ar.headers.get('x-cache')).toBe('MISS');
    expect(fr.headers.get('x-cache')).toBe('MISS');
    const name = (x: Answer) => (x.body.data?.organization as { name: string }).name;
    expect(name(ar)).not.toBe(name(fr));
    expect(name(ar)).toMatch(/[\u0600-\u06ff]/);
    // The same preferences said otherwise are the same key; Arabic is still answered in Arabic.
    const frFr = await post(sys.gatewayUrl, ORGANIZATION, vars, { 'accept-language': 'fr-FR,fr;q=0.9' });
    expect(frFr.headers.get('x-cache')).toBe('HIT');
    expect(name(frFr)).toBe(name(fr));
    const arAgain = await post(sys.gatewayUrl, ORGANIZATION, vars, { 'accept-language': 'ar-TN' });
    expect(arAgain.headers.get('x-cache')).toBe('HIT');
    expect(name(arAgain)).toBe(name(ar));
  });

  it('never keeps an answer with errors, nor one with search highlights', async () => {
    const broken = /* GraphQL */ `
      {
        organizations(first: 2, after: "not-a-cursor") {
          edges {
            node {
              id
            }
          }
        }
      }
    `;
    for (let i = 0; i < 2; i++) {
      const res = await post(sys.gatewayUrl, broken);
      expect(res.body.errors?.length).toBeGreaterThan(0);
      expect(res.headers.get('x-cache')).toBe('MISS');
    }
    const search = /* GraphQL */ `
      {
        organizations(first: 3, filter: { search: "Arada" }) {
          edges {
            node {
              id
              searchHighlights {
                field
                snippet
              }
            }
          }
        }
      }
    `;
    for (let i = 0; i < 2; i++) {
      const res = await get(sys.gatewayUrl, search);
      expect(res.body.errors).toBeUndefined();
      expect(res.headers.get('x-cache')).toBe('MISS');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('etag')).not.toMatch(/^W\/"[\w-]{27}"$/);
    }
    // The same search without highlights is kept.
    const plain = search.replace(/searchHighlights \{[^}]*\}/, '');
    await post(sys.gatewayUrl, plain);
    expect((await post(sys.gatewayUrl, plain)).headers.get('x-cache')).toBe('HIT');
  });

  it('never keeps the pages of an export', async () => {
    const query = '{ organizations(first: 50) { edges { node { id } } } }';
    const before = { ...stats };
    for (let i = 0; i < 2; i++) {
      const u = new URL('/export.json', sys.gatewayUrl);
      u.searchParams.set('query', query);
      const res = await fetch(u);
      expect(res.status).toBe(200);
      expect(((await res.json()) as unknown[]).length).toBeGreaterThan(5);
    }
    expect(stats.writes).toBe(before.writes);
    expect(stats.hits).toBe(before.hits);
    expect(stats.bypasses).toBeGreaterThan(before.bypasses);
    // Not written by the export: /graphql computes it.
    expect((await post(sys.gatewayUrl, query)).headers.get('x-cache')).toBe('MISS');
  });

  it('GET: Cache-Control public with a bounded max-age, an ETag over the data, 304 on If-None-Match', async () => {
    const vars = { id: BUDGET };
    const first = await get(sys.gatewayUrl, TOTAL, vars);
    const second = await get(sys.gatewayUrl, TOTAL, vars);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('public, max-age=60');
    expect(first.headers.get('vary')).toMatch(/Accept-Language/);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^W\/"[\w-]{27}"$/);
    // The data is the same, the cost left is not: the tag is over the data, so it is the same.
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(second.headers.get('etag')).toBe(etag);
    expect(second.body.extensions?.cost?.remaining).not.toBe(first.body.extensions?.cost?.remaining);
    const revalidated = await revalidate(sys.gatewayUrl, TOTAL, vars, etag!);
    expect(revalidated.status).toBe(304);
    expect(revalidated.body).toBe('');
    // Still counted against the client's budget: the RateLimit headers come with the 304.
    expect(revalidated.headers['ratelimit-remaining']).toBeDefined();
    const otherTag = await revalidate(sys.gatewayUrl, TOTAL, vars, 'W/"something-else"');
    expect(otherTag.status).toBe(200);
    expect(JSON.parse(otherTag.body).data).toEqual(first.body.data);
    // A POST is never stored by an HTTP cache.
    const posted = await post(sys.gatewayUrl, TOTAL, vars);
    expect(posted.headers.get('x-cache')).toBe('HIT');
    expect(posted.headers.get('cache-control')).toBe('no-store');
  });

  it('memory mode: after an import, the new numbers once the poll has seen the new version', async () => {
    const vars = { id: BUDGET };
    const old = approvedOf(await post(sys.gatewayUrl, TOTAL, vars));
    expect((await post(sys.gatewayUrl, TOTAL, vars)).headers.get('x-cache')).toBe('HIT');
    const versionBefore = await readDataVersion(sys.dataSources.budgets, 'budgets');
    await importPackage(sys, changedPackage(dir, 1));
    expect(await readDataVersion(sys.dataSources.budgets, 'budgets')).toBeGreaterThan(versionBefore!);
    // The documented bound: a version is trusted for max(750 ms, 3 polls) from when its poll was asked, and the
    // subgraph reads it at most 100 ms late. After that, the old answer is unreachable whatever the load.
    await new Promise((r) => setTimeout(r, 750 + 100 + 150));
    const after = await post(sys.gatewayUrl, TOTAL, vars);
    expect(approvedOf(after)).toBe(old + 1);
    // And the new answer is what is cached from then on.
    const again = await post(sys.gatewayUrl, TOTAL, vars);
    expect(approvedOf(again)).toBe(old + 1);
  });

  it('an answer depends only on the subgraphs its plan calls: a budgets import keeps organizations cached', async () => {
    const vars = { id: 'ma-region-01' };
    await post(sys.gatewayUrl, ORGANIZATION, vars);
    expect((await post(sys.gatewayUrl, ORGANIZATION, vars)).headers.get('x-cache')).toBe('HIT');
    await importPackage(sys, changedPackage(dir, 5));
    await new Promise((r) => setTimeout(r, 750 + 100 + 150));
    expect((await post(sys.gatewayUrl, ORGANIZATION, vars)).headers.get('x-cache')).toBe('HIT');
  });

  it('redis mode: two gateways share answers, and the very next query after an import has the new numbers', async () => {
    publishDataVersionsTo({ redisUrl: REDIS_URL, keyPrefix: prefix });
    const options = { mode: 'redis' as const, redisUrl: REDIS_URL, keyPrefix: prefix, pollMs: POLL_MS };
    const a = await gateway(options);
    const b = await gateway(options);
    const vars = { id: BUDGET };
    // The gateways' first polls fill the version keys of this fresh prefix; until then nothing is kept.
    let first: Answer;
    for (let i = 0; ; i++) {
      first = await post(a, TOTAL, vars);
      if ((await post(b, TOTAL, vars)).headers.get('x-cache') === 'HIT') break;
      expect(i).toBeLessThan(50);
      await new Promise((r) => setTimeout(r, 50));
    }
    const old = approvedOf(first);
    for (let round = 1; round <= 3; round++) {
      expect((await post(a, TOTAL, vars)).headers.get('x-cache')).toBe('HIT');
      await importPackage(sys, changedPackage(dir, 100 * round));
      // No wait: the importer has published the new version before it returned.
      const next = await post(b, TOTAL, vars);
      expect(next.headers.get('x-cache')).toBe('MISS');
      expect(approvedOf(next)).toBe(old - 5 + 100 * round);
      expect(approvedOf(await post(a, TOTAL, vars))).toBe(old - 5 + 100 * round);
    }
  });

  it('a partner without cache hints makes every answer it takes part in uncacheable', async () => {
    const probe = await startProbeSubgraph();
    try {
      const service = await createGatewayService({
        subgraphUrls: { ...sys.subgraphUrls, probe: probe.url },
        supergraphSdl: composeWith(sys.subgraphUrls, [{ name: 'probe', url: probe.url, sdl: PROBE_SDL }]),
        responseCache: { mode: 'memory', pollMs: POLL_MS, versioned: Object.keys(sys.subgraphUrls) },
      });
      extra.push(service);
      const url = (await service.listen(0, '127.0.0.1')).url;
      await settle(url);
      const withProbe = '{ organization(id: "gov-ma") { id name probe } }';
      for (let i = 0; i < 2; i++) {
        const res = await post(url, withProbe);
        expect(res.body.errors).toBeUndefined();
        expect((res.body.data?.organization as { probe: string }).probe).toBe('ok');
        expect(res.headers.get('x-cache')).toBe('MISS');
      }
      // Without the partner's field, the same organization is ours alone, and kept.
      const ours = '{ organization(id: "gov-ma") { id name } }';
      await post(url, ours);
      expect((await post(url, ours)).headers.get('x-cache')).toBe('HIT');
    } finally {
      await probe.stop();
    }
  });

  it('a hit is answered before Apollo as Apollo answers it: same headers, CSRF rule, rate limit, metrics', async () => {
    const counted = newResponseCacheStats();
    const service = await createGatewayService({
      subgraphUrls: sys.subgraphUrls,
      responseCache: { mode: 'memory', pollMs: POLL_MS, stats: counted },
      reportCost: true,
      rateLimit: { costPerMinute: 40, redisUrl: null, keyPrefix: `${prefix}:early` },
    });
    extra.push(service);
    const url = (await service.listen(0, '127.0.0.1')).url;
    await settle(url);
    const hitsBefore = counted.hits;
    const staleBefore = counted.stale;
    const vars = { id: 'gov-tn' };
    const miss = await get(url, ORGANIZATION, vars);
    const hit = await get(url, ORGANIZATION, vars);
    expect([miss.headers.get('x-cache'), hit.headers.get('x-cache')]).toEqual(['MISS', 'HIT']);
    expect(hit.body.data).toEqual(miss.body.data);
    // The same headers, with the same values but for the request's own (its id, its budget left, the date).
    const own = /^(x-cache|x-request-id|date|ratelimit-remaining|ratelimit-reset|content-length|keep-alive)$/;
    const shown = (h: Headers) => Object.fromEntries([...h.entries()].filter(([k]) => !own.test(k)));
    expect(shown(hit.headers)).toEqual(shown(miss.headers));
    expect(hit.headers.get('x-request-id')).toMatch(/^[\w-]+$/);
    expect(hit.headers.get('x-request-id')).not.toBe(miss.headers.get('x-request-id'));
    const cost = miss.body.extensions!.cost!.requested;
    expect(hit.body.extensions?.cost).toEqual({
      requested: cost,
      limit: miss.body.extensions!.cost!.limit,
      remaining: miss.body.extensions!.cost!.remaining! - cost,
    });
    // A GET without the preflight header is refused by Apollo's CSRF prevention, cached answer or not.
    const u = new URL(url);
    u.searchParams.set('query', ORGANIZATION);
    u.searchParams.set('variables', JSON.stringify(vars));
    expect((await fetch(u)).status).toBe(400);
    // Hits spend from the client's budget until it is spent; then Apollo refuses, with its code and Retry-After.
    let last: Answer | undefined;
    for (let i = 0; i < 50 && (!last || last.status === 200); i++) last = await post(url, ORGANIZATION, vars);
    expect(last!.status).toBe(429);
    expect(last!.body.errors?.[0].extensions?.code).toBe('RATE_LIMITED');
    expect(last!.headers.get('retry-after')).toMatch(/^\d+$/);
    // Counted as Apollo counts them: under the operation's name, ok; and as cache hits.
    const metrics = await (await fetch(url.replace(/\/graphql$/, '/metrics'))).text();
    const ok = Number(
      /graphql_requests_total\{[^}]*operation="Org"[^}]*outcome="ok"[^}]*\} (\d+)/.exec(metrics)?.[1],
    );
    expect(ok).toBeGreaterThanOrEqual(3);
    // Every one answered but the first was a hit (the refused one is not); or, where a data-version poll of this
    // busy machine came back later than the versions may be trusted (3 intervals), its entry was found but not
    // served (stale) and the answer fetched again: uncached, never stale.
    expect(counted.hits - hitsBefore + (counted.stale - staleBefore)).toBe(ok - 1);
    expect(counted.hits - hitsBefore).toBeGreaterThan(0);
  });

  it('RESPONSE_CACHE=off keeps nothing', async () => {
    const off = newResponseCacheStats();
    const url = await gateway({ mode: 'off', stats: off });
    for (let i = 0; i < 3; i++) {
      const res = await post(url, ORGANIZATION, { id: 'gov-ma' });
      expect(res.body.errors).toBeUndefined();
      expect(res.headers.get('x-cache')).toBe('BYPASS');
    }
    expect(off).toMatchObject({ hits: 0, misses: 0, writes: 0, bypasses: 3 });
  });
});
