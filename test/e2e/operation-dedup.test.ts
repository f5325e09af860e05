import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { newResponseCacheStats } from '@civic/gateway/cache/response-cache';
import { createGatewayService } from '@civic/gateway/server';
import type { Service } from '@civic/common/service';
import { startSystem, type System } from '../support/system';

/*
 * Identical queries in flight at the gateway at the same moment, executed once (OPERATION_DEDUPLICATE,
 * gateway/src/coalesce.ts), on the real graph (SQLite, seeded) with the budgets subgraph behind a proxy that holds
 * each call 300 ms, so that the requests are certainly in flight together.
 */

const QUERY = /* GraphQL */ `
  query BudgetByDirection {
    budgetSummary(
      filter: { organizationId: "tn-municipality-34012", fiscalYear: 2018 }
      groupBy: [DIRECTION]
    ) {
      keys {
        dimension
        value
        label
      }
      lineCount
      totals {
        phase
        amount {
          amount
          currency
        }
      }
    }
  }
`;

/** A proxy in front of one subgraph that forwards each request after `delayMs`, counting them. */
async function slowProxy(target: string, delayMs: number) {
  const to = new URL(target);
  const proxy = { url: '', received: 0 };
  const server: Server = createServer((req, res) => {
    // GraphQL calls only (the response cache also polls GET /data-version through here).
    if (req.method === 'POST') proxy.received++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () =>
      setTimeout(() => {
        const upstream = httpRequest(
          { host: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers },
          (up) => {
            res.writeHead(up.statusCode ?? 502, up.headers);
            up.pipe(res);
          },
        );
        upstream.on('error', () => res.destroy());
        upstream.end(Buffer.concat(chunks));
      }, delayMs),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  return {
    proxy,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

let sys: System;
let slow: Awaited<ReturnType<typeof slowProxy>>;
beforeAll(async () => {
  sys = await startSystem('sqlite');
  slow = await slowProxy(sys.subgraphUrls.budgets, 300);
});
afterAll(async () => {
  await slow?.close();
  await sys?.stop();
});

async function gatewayWith(deduplicateOperations: boolean) {
  const stats = newResponseCacheStats();
  const gateway: Service = await createGatewayService({
    subgraphUrls: { ...sys.subgraphUrls, budgets: slow.proxy.url },
    reportCost: false,
    deduplicateOperations,
    // Polled versions trusted long enough for the whole burst: every request looks its answer up once.
    responseCache: { mode: 'memory', pollMs: 1000, stats },
  });
  const { url } = await gateway.listen(0, '127.0.0.1');
  // Until the gateway trusts the data versions it polled: another query's answer is written.
  const warmUp = QUERY.replace('BudgetByDirection', 'WarmUp').replace('[DIRECTION]', '[FISCAL_YEAR]');
  for (let i = 0; stats.writes === 0; i++) {
    if (i === 50) {
      await gateway.stop();
      throw new Error('the gateway never wrote an answer to its cache');
    }
    await post(url, 'fr', warmUp);
    await new Promise((r) => setTimeout(r, 100));
  }
  const counted = { misses: stats.misses, writes: stats.writes };
  return {
    gateway,
    url,
    stats: () => ({ misses: stats.misses - counted.misses, writes: stats.writes - counted.writes }),
  };
}

const post = (url: string, language: string, query = QUERY) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'accept-language': language },
    body: JSON.stringify({ query }),
  }).then(async (res) => ({ status: res.status, text: await res.text() }));

async function sharedCount(url: string): Promise<number> {
  const text = await (await fetch(url.replace(/\/graphql$/, '/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith('graphql_operations_shared_total'));
  return Number(line?.split(' ').pop() ?? NaN);
}

describe('identical queries in flight at once (OPERATION_DEDUPLICATE)', () => {
  test('are executed once: one answer for all, byte for byte; the shared answers are not written to the cache', async () => {
    const { gateway, url, stats } = await gatewayWith(true);
    try {
      slow.proxy.received = 0;
      expect(stats()).toEqual({ misses: 0, writes: 0 });
      const answers = await Promise.all(Array.from({ length: 8 }, () => post(url, 'fr')));
      expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
      expect(new Set(answers.map((a) => a.text)).size).toBe(1);
      const body = JSON.parse(answers[0]!.text);
      expect(body.errors).toBeUndefined();
      expect(body.data.budgetSummary.length).toBeGreaterThan(0);
      expect(slow.proxy.received).toBe(1);
      expect(await sharedCount(url)).toBe(7);
      // Eight misses, one entry written: the executing request's.
      expect(stats()).toEqual({ misses: 8, writes: 1 });
      // In another language: another execution, not the French answer.
      const before = slow.proxy.received;
      const [ar] = await Promise.all([post(url, 'ar'), post(url, 'ar')]);
      expect(slow.proxy.received).toBe(before + 1);
      expect(JSON.parse(ar!.text).data.budgetSummary).toHaveLength(body.data.budgetSummary.length);
      expect(await sharedCount(url)).toBe(8);
    } finally {
      await gateway.stop();
    }
  });

  test('off: each request executes (the subgraph call is still shared) and writes its own entry', async () => {
    const { gateway, url, stats } = await gatewayWith(false);
    try {
      const on = await gatewayWith(true);
      const expected = await post(on.url, 'fr');
      await on.gateway.stop();
      const answers = await Promise.all(Array.from({ length: 8 }, () => post(url, 'fr')));
      expect(new Set(answers.map((a) => a.text))).toEqual(new Set([expected.text]));
      expect(await sharedCount(url)).toBe(0);
      expect(stats()).toEqual({ misses: 8, writes: 8 });
    } finally {
      await gateway.stop();
    }
  });
});
