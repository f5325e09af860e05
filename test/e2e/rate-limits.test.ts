import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { DEFAULT_RATE_LIMIT_COST_PER_MINUTE } from '@civic/common/config';
import type { Service } from '@civic/common/service';
import { createGatewayService, type GatewayOptions } from '@civic/gateway/server';
import { SUBGRAPH_NAMES, type SubgraphName } from '@civic/subgraphs';
import { countingProxy, type CountingProxy } from '../support/counting-proxy';
import { startSystem, type GraphQLResponse, type System } from '../support/system';
import { dropRedisKeys, retryAfterOf } from '../support/rate-limit';
import { withEnv } from '../support/with-env';

/**
 * Rate limits by cost per minute (issue 10), against real gateways in front of the real subgraphs: a client
 * over its budget gets 429 with Retry-After and the RateLimit headers, and nothing runs (a counting proxy
 * stands between each gateway and each subgraph); the headers count down; clients are apart by IP
 * (X-Forwarded-For only with TRUST_PROXY); two gateways sharing a Redis share the budget, and a Redis that
 * cannot be reached leaves each gateway limiting in its memory; exports spend from the same budget. Every
 * gateway here has its own small budget, so no test waits for a window to end.
 */

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** This run's Redis keys: removed after the tests. */
const KEY_PREFIX = `civic-test-ratelimit-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

let system: System;
const proxies = {} as Record<SubgraphName, CountingProxy>;
const opened: Service[] = [];

beforeAll(async () => {
  system = await startSystem('sqlite');
  for (const name of SUBGRAPH_NAMES) proxies[name] = await countingProxy(system.subgraphUrls[name]);
});

afterEach(async () => {
  for (const s of opened.splice(0).reverse()) await s.stop();
});

afterAll(async () => {
  for (const p of Object.values(proxies)) await p.close();
  await system?.stop();
  await dropRedisKeys(REDIS_URL, KEY_PREFIX);
});

const subgraphCalls = () => SUBGRAPH_NAMES.reduce((n, name) => n + proxies[name].count, 0);

/** A gateway over the counting proxies, with these rate limits (and the environment's for the rest), on port 0. */
async function gateway(rateLimit: GatewayOptions['rateLimit'], env: Record<string, string> = {}) {
  const service = await withEnv(env, () =>
    createGatewayService({
      subgraphUrls: Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, proxies[n].url])),
      rateLimit,
    }),
  );
  opened.push(service);
  return (await service.listen(0, '127.0.0.1')).url;
}

interface Answer {
  status: number;
  headers: Headers;
  body: GraphQLResponse;
}

async function gql(url: string, query: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as GraphQLResponse };
}

/** Costs 2 + 10 x 1 = 12 (common/src/limits/cost.ts). */
const TWELVE = '{ organizations(first: 10) { nodes { id } } }';
/** Costs 2: a page whose rows select nothing but a scalar. */
const TWO = '{ organizations(first: 1) { totalCount } }';

const remaining = (a: Answer) => Number(a.headers.get('ratelimit-remaining'));

describe('a client over its cost per minute', () => {
  it('gets 429 with Retry-After and the RateLimit headers, and nothing runs', async () => {
    const url = await gateway({ costPerMinute: 50, redisUrl: null });
    const answers: Answer[] = [];
    for (let i = 0; i < 4; i++) answers.push(await gql(url, TWELVE));
    // Allowed: 200, the headers on each, counting down by the cost.
    expect(answers.map((a) => [a.status, remaining(a)])).toEqual([
      [200, 38],
      [200, 26],
      [200, 14],
      [200, 2],
    ]);
    // REPORT_COST is on by default: each answer says what it cost and what is left, as the header does.
    expect(answers.map((a) => a.body.extensions)).toEqual(
      [38, 26, 14, 2].map((left) => ({ cost: { requested: 12, limit: 50_000, remaining: left } })),
    );
    for (const a of answers) {
      expect(a.body.errors).toBeUndefined();
      expect(a.headers.get('ratelimit-limit')).toBe('50');
      expect(a.headers.get('ratelimit-policy')).toBe('50;w=60');
      expect(Number(a.headers.get('ratelimit-reset'))).toBeGreaterThanOrEqual(0);
      expect(Number(a.headers.get('ratelimit-reset'))).toBeLessThanOrEqual(60);
      expect(a.headers.get('retry-after')).toBeNull();
    }

    const before = subgraphCalls();
    const refused = await gql(url, TWELVE);
    expect(subgraphCalls()).toBe(before);
    expect(refused.status).toBe(429);
    const retryAfter = retryAfterOf(refused.headers);
    expect({
      limit: refused.headers.get('ratelimit-limit'),
      remaining: refused.headers.get('ratelimit-remaining'),
      reset: refused.headers.get('ratelimit-reset'),
      policy: refused.headers.get('ratelimit-policy'),
    }).toEqual({ limit: '50', remaining: '2', reset: String(retryAfter), policy: '50;w=60' });
    expect(refused.body).toEqual({
      errors: [
        {
          message: `Cost: 12, more than the 2 left of the 50 one client may spend in 60 s (RATE_LIMIT_COST_PER_MINUTE): try again in ${retryAfter} s`,
          extensions: { code: 'RATE_LIMITED', limit: 50, measured: 12, remaining: 2, retryAfter },
        },
      ],
      extensions: { cost: { requested: 12, limit: 50_000, remaining: 2 } },
    });

    // The refusal spent nothing: an operation that fits in what is left still runs.
    const fits = await gql(url, TWO);
    expect(fits.status).toBe(200);
    expect(fits.body.errors).toBeUndefined();
    expect(remaining(fits)).toBe(0);
    expect(subgraphCalls()).toBeGreaterThan(before);

    // A request refused before its cost is known (here, one that does not parse) spends nothing, and still
    // says where the client stands.
    const broken = await gql(url, '{ organizations(');
    expect(broken.status).toBe(400);
    expect(remaining(broken)).toBe(0);
  });

  it('an operation costing more than the whole budget is told it can never run', async () => {
    const url = await gateway({ costPerMinute: 10, redisUrl: null });
    const before = subgraphCalls();
    const refused = await gql(url, TWELVE);
    expect(refused.status).toBe(429);
    expect(refused.body.errors![0].message).toMatch(
      /^Cost: 12, more than the 10 one client may spend in 60 s \(RATE_LIMIT_COST_PER_MINUTE\): this operation can never run/,
    );
    expect(subgraphCalls()).toBe(before);
    // Nothing was spent.
    expect(remaining(refused)).toBe(10);
  });
});

describe('who a client is', () => {
  const A = { 'x-forwarded-for': '203.0.113.1' };
  const B = { 'x-forwarded-for': '203.0.113.2' };

  it('with TRUST_PROXY, two addresses in X-Forwarded-For have separate budgets', async () => {
    const url = await gateway({ costPerMinute: 30, redisUrl: null, trustProxy: true });
    expect(remaining(await gql(url, TWELVE, A))).toBe(18);
    expect(remaining(await gql(url, TWELVE, A))).toBe(6);
    expect((await gql(url, TWELVE, A)).status).toBe(429);
    const b = await gql(url, TWELVE, B);
    expect([b.status, remaining(b)]).toEqual([200, 18]);
  });

  it('without TRUST_PROXY (the default) X-Forwarded-For is ignored: one address, one budget', async () => {
    const url = await gateway({ costPerMinute: 30, redisUrl: null });
    expect(remaining(await gql(url, TWELVE, A))).toBe(18);
    expect(remaining(await gql(url, TWELVE, B))).toBe(6);
    expect((await gql(url, TWELVE, { 'x-forwarded-for': '203.0.113.3' })).status).toBe(429);
  });

  it('TRUST_PROXY read from the environment', async () => {
    const url = await gateway({ costPerMinute: 30, redisUrl: null }, { TRUST_PROXY: 'true' });
    expect(remaining(await gql(url, TWELVE, A))).toBe(18);
    expect(remaining(await gql(url, TWELVE, B))).toBe(18);
  });
});

describe('where budgets are kept', () => {
  it('two gateways sharing REDIS_URL share each client budget', async () => {
    const options = { costPerMinute: 30, redisUrl: REDIS_URL, keyPrefix: KEY_PREFIX };
    const one = await gateway(options);
    const two = await gateway(options);
    expect(remaining(await gql(one, TWELVE))).toBe(18);
    expect(remaining(await gql(two, TWELVE))).toBe(6);
    const before = subgraphCalls();
    const refused = await gql(one, TWELVE);
    expect(refused.status).toBe(429);
    expect(subgraphCalls()).toBe(before);
    const redis = new Redis(REDIS_URL);
    try {
      expect(await redis.keys(`${KEY_PREFIX}*`)).toEqual([expect.stringMatching(/ip:/)]);
    } finally {
      redis.disconnect();
    }
  });

  it('REDIS_URL from the environment; without it each gateway counts in its own memory', async () => {
    const env = { REDIS_URL, RATE_LIMIT_COST_PER_MINUTE: '30' };
    const shared = { keyPrefix: `${KEY_PREFIX}-env` };
    const one = await gateway(shared, env);
    const two = await gateway(shared, env);
    expect(remaining(await gql(one, TWELVE))).toBe(18);
    expect(remaining(await gql(two, TWELVE))).toBe(6);

    const memory = { RATE_LIMIT_COST_PER_MINUTE: '30' };
    const three = await gateway({}, memory);
    const four = await gateway({}, memory);
    expect(remaining(await gql(three, TWELVE))).toBe(18);
    expect(remaining(await gql(four, TWELVE))).toBe(18);
  });

  it('a Redis that cannot be reached: the gateway keeps answering, and limits each client in its memory', async () => {
    // Port 1: nothing listens there; the connection is refused at once.
    const url = await gateway({ costPerMinute: 30, redisUrl: 'redis://127.0.0.1:1', keyPrefix: KEY_PREFIX });
    const first = await gql(url, TWELVE);
    expect(first.status).toBe(200);
    expect(first.body.errors).toBeUndefined();
    expect(remaining(first)).toBe(18);
    expect(remaining(await gql(url, TWELVE))).toBe(6);
    const before = subgraphCalls();
    expect((await gql(url, TWELVE)).status).toBe(429);
    expect(subgraphCalls()).toBe(before);
  });

  it('the default budget, and RATE_LIMIT_COST_PER_MINUTE=0 turns the limit off', async () => {
    const byDefault = await gql(await gateway({ redisUrl: null }), TWO);
    expect(byDefault.headers.get('ratelimit-limit')).toBe(String(DEFAULT_RATE_LIMIT_COST_PER_MINUTE));
    expect(remaining(byDefault)).toBe(DEFAULT_RATE_LIMIT_COST_PER_MINUTE - 2);

    const off = await gql(await gateway({}, { RATE_LIMIT_COST_PER_MINUTE: '0' }), TWELVE);
    expect(off.status).toBe(200);
    expect(off.body.errors).toBeUndefined();
    expect(off.headers.get('ratelimit-limit')).toBeNull();
    expect(off.headers.get('ratelimit-remaining')).toBeNull();
    // Without a budget there is nothing left to say: the cost, without `remaining`.
    expect(off.body.extensions).toEqual({ cost: { requested: 12, limit: 50_000 } });
  });
});

describe('exports spend from the same budget', () => {
  /** Five organizations a page, each with its id and name. */
  const QUERY = '{ organizations(first: 5, filter: { country: "TN" }) { nodes { id name } } }';
  const exportUrl = (url: string) =>
    `${url.replace(/\/graphql$/, '')}/export.csv?${new URLSearchParams({ query: QUERY })}`;

  it('an export over the budget is refused with 429 and Retry-After before anything runs', async () => {
    const url = await gateway({ costPerMinute: 20, redisUrl: null });
    expect(remaining(await gql(url, TWELVE))).toBe(8);
    const before = subgraphCalls();
    const res = await fetch(exportUrl(url));
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    const body = (await res.json()) as GraphQLResponse;
    expect(body.errors).toEqual([
      {
        message: expect.stringMatching(/^Cost: \d+, more than the 8 left of the 20/),
        extensions: expect.objectContaining({ code: 'RATE_LIMITED', limit: 20, remaining: 8, retryAfter }),
      },
    ]);
    expect(subgraphCalls()).toBe(before);
  });

  it('an export that runs out of budget on a later page is cut short, never a file that looks whole', async () => {
    // What a page costs, measured by a gateway with room for the whole export.
    const roomy = await gateway({ costPerMinute: 1_000_000, redisUrl: null });
    const whole = await fetch(exportUrl(roomy));
    expect(whole.status).toBe(200);
    const rows = (await whole.text()).trim().split('\n').length - 1;
    const pages = Math.ceil(rows / 5);
    expect(pages).toBeGreaterThan(3);
    const spent = 1_000_000 - remaining(await gql(roomy, '{ __typename }')) - 1;
    const perPage = spent / pages;
    expect(Number.isInteger(perPage)).toBe(true);

    // Room for two pages and a half: the first page is sent, the third is refused and the download cut.
    const url = await gateway({ costPerMinute: Math.floor(perPage * 2.5), redisUrl: null });
    const res = await fetch(exportUrl(url));
    expect(res.status).toBe(200);
    const outcome = await res.text().then(
      () => 'complete',
      (err: Error) => `cut: ${err.message}`,
    );
    expect(outcome).toMatch(/^cut/);
  });
});
