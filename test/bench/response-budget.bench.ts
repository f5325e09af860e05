/**
 * `npx tsx test/bench/response-budget.bench.ts`: how much the real queries receive from the subgraphs, all the
 * calls of one request together, to set MAX_RESPONSE_BYTES and MAX_RESPONSE_NODES (docs/protection.md) far
 * above them. The system is started as the tests start it (embedded SQLite, the bundled datasets); a proxy in
 * front of each subgraph adds up, per request id, the bytes of its answers and the objects in their `data`
 * (counted as the gateway counts them: every JSON object, lists not counted). Measured: the fifteen queries of
 * `npm run bench:queries`, the first 100-row page of each saved export query, and the heaviest query of the
 * test suite (test/e2e/batching.test.ts: every relation of 100 commitments).
 */
import { readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { REQUEST_ID_HEADER } from '@civic/common/context';
import { createGatewayService } from '@civic/gateway/server';
import { loadSavedQueries } from '@civic/gateway/export/saved-queries';
import { startSystem } from '../support/system';
import { BENCH_QUERIES } from './bench-queries';

interface Tally {
  calls: number;
  bytes: number;
  nodes: number;
}

/** Every JSON object in a value (lists themselves not counted), as the gateway's countObjects does. */
function objects(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const items = Array.isArray(value) ? value : Object.values(value);
  return (Array.isArray(value) ? 0 : 1) + items.reduce<number>((n, v) => n + objects(v), 0);
}

/** A proxy before one subgraph that tallies its answers by the request id the gateway forwards. */
async function tallyingProxy(target: string, tallies: Map<string, Tally>) {
  const to = new URL(target);
  const server: Server = createServer((req, res) => {
    const id = String(req.headers[REQUEST_ID_HEADER] ?? '');
    const upstream = httpRequest(
      { host: to.hostname, port: to.port, path: to.pathname, method: req.method, headers: req.headers },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => {
          const body = Buffer.concat(chunks);
          const t = tallies.get(id) ?? { calls: 0, bytes: 0, nodes: 0 };
          t.calls++;
          t.bytes += body.length;
          t.nodes += objects((JSON.parse(body.toString('utf8')) as { data?: unknown }).data);
          tallies.set(id, t);
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          res.end(body);
        });
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${to.pathname}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** `count` aliased 100-row pages of the budget lines, each with the saved budget-lines query's selection. */
function aliasedPages(count: number): string {
  const saved = loadSavedQueries().get('budget-lines')!.query;
  const selection = saved.slice(saved.indexOf('nodes {'), saved.lastIndexOf('}', saved.lastIndexOf('}') - 1));
  const pages = Array.from({ length: count }, (_, i) => `p${i}: budgetLines(first: 100) { ${selection} }`);
  return `{ ${pages.join('\n')} }`;
}

async function main() {
  const sys = await startSystem('sqlite');
  const tallies = new Map<string, Tally>();
  const proxies = await Promise.all(
    Object.entries(sys.subgraphUrls).map(
      async ([name, url]) => [name, await tallyingProxy(url, tallies)] as const,
    ),
  );
  const gateway = await createGatewayService({
    subgraphUrls: Object.fromEntries(proxies.map(([name, p]) => [name, p.url])),
    rateLimit: { costPerMinute: 0 },
    reportCost: true,
  });
  const gatewayUrl = (await gateway.listen(0, '127.0.0.1')).url;
  const batching = /const QUERY = \/\* GraphQL \*\/ `([\s\S]*?)`;/.exec(
    readFileSync(join(__dirname, '..', 'e2e', 'batching.test.ts'), 'utf8'),
  )![1];
  const queries = [
    ...BENCH_QUERIES.map((q) => ({ name: q.name, query: q.query, variables: q.variables })),
    ...[...loadSavedQueries().entries()].map(([name, saved]) => ({
      name: `export page: saved query ${name} (100 rows)`,
      query: saved.query,
      variables: undefined,
    })),
    { name: 'test suite: every relation of 100 commitments', query: batching, variables: { first: 100 } },
    // An aggregate costs the same however many groups it has: grouped by every fine dimension at once.
    {
      name: 'budgetSummary by organization, year, direction, code level 2 and economic code',
      query: BENCH_QUERIES[0].query.replace(
        /groupBy: \[[^\]]*\]/,
        'groupBy: [ORGANIZATION, FISCAL_YEAR, DIRECTION, CODE_LEVEL_2, ECONOMIC]',
      ),
      variables: undefined,
    },
    // The largest answer the operation limits let through that we found: fifteen 100-row pages of the budget-lines
    // export's selection in one request (450 fields, under MAX_FIELDS).
    {
      name: 'eleven 100-line pages of the budget-lines export, aliased',
      query: aliasedPages(11),
      variables: undefined,
    },
  ];
  const rows: string[] = [];
  try {
    for (const [i, q] of queries.entries()) {
      const id = `bench-${i}`;
      const res = await fetch(gatewayUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [REQUEST_ID_HEADER]: id },
        body: JSON.stringify({ query: q.query, variables: q.variables }),
      });
      const text = await res.text();
      const body = JSON.parse(text) as { errors?: unknown[]; extensions?: { cost?: { requested?: number } } };
      const errors = body.errors?.length ?? 0;
      if (errors) console.error(q.name, text.slice(0, 400));
      const t = tallies.get(id) ?? { calls: 0, bytes: 0, nodes: 0 };
      rows.push(
        `| ${q.name} | ${body.extensions?.cost?.requested?.toLocaleString('en') ?? ''} | ${t.calls} | ${t.bytes.toLocaleString('en')} | ${t.nodes.toLocaleString('en')} | ${text.length.toLocaleString('en')} |${errors ? ` ${errors} errors` : ''}`,
      );
    }
    console.log(
      '| query | cost | subgraph calls | bytes received | objects received | bytes sent to the client |',
    );
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (const r of rows) console.log(r);
  } finally {
    await gateway.stop();
    for (const [, p] of proxies) await p.close();
    await sys.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
