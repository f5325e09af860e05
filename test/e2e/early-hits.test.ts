import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Service } from '@civic/common/service';
import { newResponseCacheStats, type ResponseCacheOptions } from '@civic/gateway/cache/response-cache';
import { createKey, revokeKey } from '@civic/gateway/keys/api-keys';
import { openKeyStore } from '@civic/gateway/keys/store';
import { createGatewayService, type GatewayOptions } from '@civic/gateway/server';
import { comparable, header, ORGANIZATION, PERSISTED_ID, post, type Raw, send } from '../support/raw-http';
import { dropRedisKeys } from '../support/rate-limit';
import { BACKENDS, startSystem, type System } from '../support/system';

// Cached answers served as requests arrive, before Express and Apollo (gateway/src/cache/early.ts): each request
// is sent to two gateways on the same subgraphs, one answering hits early and one with `early: false` (every hit
// through Express and Apollo's pipeline), and their answers must be the same bytes: status, headers in order, body.

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/**
 * Nothing here writes data, so the versions never change: polled each second, they are trusted for 3 s. With 100 ms
 * (750 ms of trust) a poll that a loaded CI runner answered late turned one gateway's hit into a refetch (MISS) while
 * the other still answered HIT, and the two answers differed for that reason alone.
 */
const POLL_MS = 1000;

describe.each(BACKENDS)('cached answers served as requests arrive, on %s', (backend) => {
  const prefix = `civic:test:early:${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'civic-early-'));
  let sys: System;
  const opened: Service[] = [];
  let n = 0;

  /** A gateway on the system's subgraphs; its URL and its cache counters. */
  async function gateway(
    cache: Partial<ResponseCacheOptions> & { mode: 'memory' | 'redis' },
    options: Partial<GatewayOptions> = {},
  ) {
    const stats = newResponseCacheStats();
    const service = await createGatewayService({
      subgraphUrls: sys.subgraphUrls,
      reportCost: true,
      rateLimit: { costPerMinute: 100_000, redisUrl: null, keyPrefix: `${prefix}:rl:${n++}` },
      persisted: { apq: false },
      ...options,
      responseCache: {
        pollMs: POLL_MS,
        stats,
        ...(cache.mode === 'redis' ? { redisUrl: REDIS_URL, keyPrefix: `${prefix}:c:${n++}` } : {}),
        ...cache,
      },
    });
    opened.push(service);
    return { url: (await service.listen(0, '127.0.0.1')).url, stats };
  }

  /**
   * Until a query is kept and found again by each gateway (each trusts the data versions it has polled); each is
   * sent the same requests, so that their clients' budgets stay the same.
   */
  async function settle(...urls: string[]) {
    for (let i = 0; i < 100; i++) {
      const q = { query: '{ organization(id: "gov-fr") { id } }' };
      for (const url of urls) await post(url, q);
      const found = [];
      for (const url of urls) found.push(header(await post(url, q), 'x-cache'));
      if (found.every((x) => x === 'HIT')) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the gateway never trusted its data versions');
  }

  beforeAll(async () => {
    sys = await startSystem(backend);
  });

  afterAll(async () => {
    for (const s of opened) await s.stop();
    await sys?.stop();
    await dropRedisKeys(REDIS_URL, prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  describe.each(['memory', 'redis'] as const)('with the %s store', (mode) => {
    it('answers a hit with the bytes Apollo would: POST, GET, Origin, Accept, 304, a persisted id', async () => {
      // No rate limit here (the next test has one): every hit of an answer has the same body, written once.
      const early = await gateway({ mode }, { rateLimit: { costPerMinute: 0 } });
      const apollo = await gateway({ mode, early: false }, { rateLimit: { costPerMinute: 0 } });
      await settle(early.url, apollo.url);
      const requests: Parameters<typeof send>[1][] = [
        { method: 'POST', body: JSON.stringify({ query: ORGANIZATION, variables: { id: 'gov-tn' } }) },
        {
          method: 'POST',
          body: JSON.stringify({ query: ORGANIZATION, variables: { id: 'gov-tn' }, operationName: 'Org' }),
          headers: { origin: 'https://news.example', accept: 'application/graphql-response+json' },
        },
        {
          search: { query: ORGANIZATION, variables: JSON.stringify({ id: 'gov-ma' }) },
          headers: { 'apollo-require-preflight': 'true', 'accept-language': 'ar' },
        },
        // The same answer by POST, after the GET: Express's ETag, not the entry's.
        {
          method: 'POST',
          body: JSON.stringify({ query: ORGANIZATION, variables: { id: 'gov-ma' } }),
          headers: { 'accept-language': 'ar' },
        },
        { search: { id: PERSISTED_ID }, headers: { 'apollo-require-preflight': 'true' } },
        {
          method: 'POST',
          body: JSON.stringify({
            id: `sha256:${PERSISTED_ID}`,
            operationName: 'DashboardCommitmentsByCountry',
          }),
        },
      ];
      for (const [i, r] of requests.entries()) {
        const headers = { 'x-request-id': `early-${mode}-${i}`, ...r.headers };
        // Each gateway's first answer is a miss (its POST's body, read by the early path, still reached Apollo), but
        // for an answer kept already by another request.
        for (const g of [early, apollo]) {
          const first = await send(g.url, { ...r, headers });
          expect([first.status, header(first, 'x-cache')]).toEqual([200, i === 3 ? 'HIT' : 'MISS']);
          expect(JSON.parse(first.body).errors).toBeUndefined();
        }
        const hitsBefore = [early.stats.early, apollo.stats.early];
        const a = await send(early.url, { ...r, headers });
        const b = await send(apollo.url, { ...r, headers });
        expect(header(a, 'x-cache')).toBe('HIT');
        expect([early.stats.early, apollo.stats.early]).toEqual([hitsBefore[0] + 1, hitsBefore[1]]);
        expect(comparable(a)).toEqual(comparable(b));
        const etag = header(a, 'etag');
        if (r.method === 'POST' || !etag) continue;
        // Revalidated: 304 from both, with the same headers.
        const again = { ...r, headers: { ...headers, 'if-none-match': etag } };
        const c = await send(early.url, again);
        const d = await send(apollo.url, again);
        expect(c.status).toBe(304);
        expect(comparable(c)).toEqual(comparable(d));
      }
    });
  });

  it('with a list of CORS origins, a cached GET varies by Origin and Accept-Language on both paths', async () => {
    // CORS_ORIGINS is read when a service is built: set for these two gateways only.
    const was = process.env.CORS_ORIGINS;
    process.env.CORS_ORIGINS = 'https://news.example,https://city.example';
    let early: Awaited<ReturnType<typeof gateway>>;
    let apollo: Awaited<ReturnType<typeof gateway>>;
    try {
      early = await gateway({ mode: 'memory' }, { rateLimit: { costPerMinute: 0 } });
      apollo = await gateway({ mode: 'memory', early: false }, { rateLimit: { costPerMinute: 0 } });
    } finally {
      if (was === undefined) delete process.env.CORS_ORIGINS;
      else process.env.CORS_ORIGINS = was;
    }
    await settle(early.url, apollo.url);
    const r = {
      search: { query: ORGANIZATION, variables: JSON.stringify({ id: 'gov-tn' }) },
      headers: {
        'apollo-require-preflight': 'true',
        origin: 'https://city.example',
        'x-request-id': 'early-vary',
      },
    };
    for (const g of [early, apollo]) {
      const first = await send(g.url, r);
      // Apollo's own Vary used to replace the one CORS set: a shared cache then mixed the origins' answers.
      expect([first.status, header(first, 'x-cache'), header(first, 'vary')]).toEqual([
        200,
        'MISS',
        'Origin, Accept-Language',
      ]);
      expect(header(first, 'access-control-allow-origin')).toBe('https://city.example');
    }
    const a = await send(early.url, r);
    const b = await send(apollo.url, r);
    expect([header(a, 'x-cache'), header(b, 'x-cache')]).toEqual(['HIT', 'HIT']);
    expect(header(a, 'vary')).toBe('Origin, Accept-Language');
    expect(comparable(a)).toEqual(comparable(b));
  });

  it('spends the cost from the client’s budget, and leaves a client whose budget is spent to Apollo’s 429', async () => {
    const rateLimit = { costPerMinute: 30, redisUrl: null };
    const early = await gateway(
      { mode: 'memory' },
      { rateLimit: { ...rateLimit, keyPrefix: `${prefix}:b1` } },
    );
    const apollo = await gateway(
      { mode: 'memory', early: false },
      { rateLimit: { ...rateLimit, keyPrefix: `${prefix}:b2` } },
    );
    const body = { query: ORGANIZATION, variables: { id: 'gov-fr' } };
    const answers: [Raw, Raw][] = [];
    for (let i = 0; i < 40; i++) {
      const headers = { 'x-request-id': `budget-${i}` };
      answers.push([await post(early.url, body, headers), await post(apollo.url, body, headers)]);
      if (answers.at(-1)![0].status === 429) break;
    }
    const [lastEarly, lastApollo] = answers.at(-1)!;
    expect(lastEarly.status).toBe(429);
    expect(JSON.parse(lastEarly.body).errors[0].extensions.code).toBe('RATE_LIMITED');
    expect(early.stats.early).toBeGreaterThan(0);
    // The same budget left after each answer, hit early or through Apollo; the same refusal at the end.
    for (const [a, b] of answers) {
      expect([a.status, header(a, 'ratelimit-remaining')]).toEqual([
        b.status,
        header(b, 'ratelimit-remaining'),
      ]);
      if (header(a, 'x-cache') === 'HIT' && header(b, 'x-cache') === 'HIT') {
        expect(comparable(a)).toEqual(comparable(b));
      }
    }
    // Apollo's refusal on both (its Retry-After is each limiter's own window).
    const refusal = (r: Raw) => ({
      code: JSON.parse(r.body).errors[0].extensions.code,
      headers: r.headers.map(([name]) => name),
    });
    expect(refusal(lastEarly)).toEqual(refusal(lastApollo));
  });

  it('with TRUST_PROXY, counts each client by its forwarded address, as Express reads it', async () => {
    const rateLimit = { costPerMinute: 1000, redisUrl: null, trustProxy: true };
    const early = await gateway(
      { mode: 'memory' },
      { rateLimit: { ...rateLimit, keyPrefix: `${prefix}:p1` } },
    );
    const apollo = await gateway(
      { mode: 'memory', early: false },
      { rateLimit: { ...rateLimit, keyPrefix: `${prefix}:p2` } },
    );
    await settle(early.url, apollo.url);
    const body = { query: ORGANIZATION, variables: { id: 'gov-fr' } };
    const before = early.stats.early;
    const sequence = ['203.0.113.7', '203.0.113.7', '203.0.113.8', '198.51.100.1, 203.0.113.7'];
    const remaining: string[] = [];
    for (const [i, forwarded] of [...sequence, ...sequence].entries()) {
      const headers = { 'x-forwarded-for': forwarded, 'x-request-id': `proxy-${i}` };
      const a = await post(early.url, body, headers);
      const b = await post(apollo.url, body, headers);
      if (i > 0) expect(comparable(a)).toEqual(comparable(b));
      remaining.push(header(a, 'ratelimit-remaining')!);
    }
    expect(early.stats.early - before).toBe(7);
    // Each address its own budget (the last hop is the client with `trust proxy` true).
    expect(remaining.map(Number)).toEqual([999, 998, 999, 999, 997, 996, 998, 998]);
  });

  it('serves a key holder from its own budget; a key that is wrong or revoked is refused as before', async () => {
    const store = await openKeyStore({ type: 'sqlite', path: join(dir, 'keys.sqlite') });
    const { key, info } = await createKey(store, { name: 'early-test', costPerMinute: 5000 });
    const early = await gateway({ mode: 'memory' }, { keys: { store, cacheTtlMs: 0 } });
    await settle(early.url);
    const before = early.stats.early;
    const body = { query: ORGANIZATION, variables: { id: 'gov-ma' } };
    expect(header(await post(early.url, body, { 'x-api-key': key }), 'x-cache')).toBe('MISS');
    const hit = await post(early.url, body, { 'x-api-key': key });
    expect(header(hit, 'x-cache')).toBe('HIT');
    expect(early.stats.early - before).toBe(1);
    expect(header(hit, 'ratelimit-limit')).toBe('5000');
    // An anonymous client, by its IP, has the gateway's budget, not the key's.
    const anonymous = await post(early.url, body);
    expect(header(anonymous, 'ratelimit-limit')).toBe('100000');
    const wrongs: Record<string, string>[] = [
      { 'x-api-key': 'cg_nothing_at_all' },
      { authorization: 'Bearer ' },
    ];
    for (const wrong of wrongs) {
      const refused = await post(early.url, body, wrong);
      expect(refused.status).toBe(401);
      expect(JSON.parse(refused.body).errors[0].extensions.code).toBe('INVALID_API_KEY');
    }
    await revokeKey(store, info.id);
    const revoked = await post(early.url, body, { 'x-api-key': key });
    expect(revoked.status).toBe(401);
    expect(early.stats.early - before).toBe(2);
  });

  it('PERSISTED_ONLY: a cached answer to a document that is not persisted is still refused', async () => {
    // Two gateways sharing one Redis cache: the first runs any document, the second persisted ones only.
    const cache = { mode: 'redis' as const, keyPrefix: `${prefix}:shared` };
    const open = await gateway(cache, { persisted: { apq: false } });
    const only = await gateway(cache, { persisted: { apq: false, only: true } });
    await settle(open.url);
    const body = { query: ORGANIZATION, variables: { id: 'gov-tn' } };
    await post(open.url, body);
    expect(header(await post(open.url, body), 'x-cache')).toBe('HIT');
    const refused = await post(only.url, body);
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body).errors[0].extensions.code).toBe('PERSISTED_QUERY_REQUIRED');
    const viaGet = await send(only.url, {
      search: { query: ORGANIZATION, variables: JSON.stringify({ id: 'gov-tn' }) },
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(viaGet.status).toBe(400);
    // A persisted document, by id, is served from the cache there.
    const byId = { search: { id: PERSISTED_ID }, headers: { 'apollo-require-preflight': 'true' } };
    await send(open.url, byId);
    const hit = await send(only.url, byId);
    expect([hit.status, header(hit, 'x-cache')]).toEqual([200, 'HIT']);
    expect(only.stats.early).toBe(1);
  });

  it('leaves to Express what it does not answer: bad JSON, a large body, a body over the limit, a batch, APQ, a mutation', async () => {
    const early = await gateway({ mode: 'memory' });
    const apollo = await gateway({ mode: 'memory', early: false });
    const bodies = [
      '{"query": "{ organization(id: \\"gov-fr\\") { id } }"',
      // Read here in many chunks and put back: Apollo answers it (a miss).
      JSON.stringify({ query: `{ organizations(first: 1) { nodes { id } } } ${' '.repeat(200_000)}` }),
      // Over MAX_BODY_BYTES: not read here; Express refuses it.
      JSON.stringify({ query: `{ organizations(first: 1) { nodes { id } } } ${' '.repeat(1_100_000)}` }),
      JSON.stringify([{ query: '{ organization(id: "gov-fr") { id } }' }]),
      JSON.stringify({ query: '{ organization(id: "gov-fr") { id } }', extensions: { persistedQuery: 1 } }),
      JSON.stringify({ query: 'mutation { nothing }' }),
    ];
    for (const [i, body] of bodies.entries()) {
      const headers = { 'x-request-id': `odd-${i}` };
      const a = await post(early.url, body, headers);
      const b = await post(apollo.url, body, headers);
      expect(header(a, 'x-cache')).not.toBe('HIT');
      expect(comparable(a)).toEqual(comparable(b));
    }
    expect(early.stats.early).toBe(0);
  });

  it('counts an early hit in the metrics as Apollo counts a hit', async () => {
    const early = await gateway({ mode: 'memory' });
    await settle(early.url);
    const before = { ...early.stats };
    const body = { query: ORGANIZATION, variables: { id: 'gov-ma' } };
    for (let i = 0; i < 3; i++) await post(early.url, body);
    expect(early.stats.hits - before.hits).toBe(2);
    expect(early.stats.early - before.early).toBe(2);
    expect(early.stats.misses - before.misses).toBe(1);
    const metrics = (await send(early.url.replace(/\/graphql$/, '/metrics'), {})).body;
    expect(metrics).toMatch(/graphql_requests_total\{[^}]*operation="Org"[^}]*outcome="ok"[^}]*\} 3/);
    expect(metrics).toMatch(
      new RegExp(`response_cache_early_hits_total(\\{[^}]*\\})? ${early.stats.early}\\n`),
    );
  });
});
