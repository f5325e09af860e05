/**
 * `npx tsx test/bench/persisted.bench.ts [--runs N]`: what a persisted query costs at the gateway. Starts the
 * system (fresh embedded SQLite, ports 0, response cache off) and a gateway with persisted queries (a document
 * added to its SQLite database, APQ in memory), then sends one dashboard query N times in each form, the forms
 * taking turns in rounds: its text by POST, its id by GET (`?id=`), its `documentId` by POST, its APQ hash alone
 * by POST, and its text in safelist mode (matched by hash). Prints the median and p95 latency of each, and the
 * body bytes a client sends. A benchmark, not a test: it asserts only that every answer has data.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createHash } from 'node:crypto';
import { documentsOfFile } from '@civic/gateway/persisted/documents';
import { openPersistedStore } from '@civic/gateway/persisted/store';
import { createGatewayService } from '@civic/gateway/server';
import { startSystem } from '../support/system';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '300' } } });
const RUNS = Number(values.runs);

const QUERY = /* GraphQL */ `
  query CommitmentsByCountry {
    commitmentStats(groupBy: [COUNTRY]) {
      keys {
        dimension
        value
      }
      count
    }
  }
`;

async function main(): Promise<void> {
  const system = await startSystem('sqlite');
  const dir = mkdtempSync(join(tmpdir(), 'civic-persisted-bench-'));
  const [doc] = documentsOfFile(QUERY, 'bench.graphql');
  const open = async (only: boolean) => {
    const store = await openPersistedStore({ type: 'sqlite', path: join(dir, 'gateway.sqlite') });
    await store.add('bench', [doc], new Date().toISOString());
    const gateway = await createGatewayService({
      subgraphUrls: system.subgraphUrls,
      rateLimit: { costPerMinute: 0 },
      persisted: { store, only },
    });
    return { gateway, origin: new URL((await gateway.listen(0, '127.0.0.1')).url).origin };
  };
  const open1 = await open(false);
  const open2 = await open(true);
  const json = { 'content-type': 'application/json' };
  const hash = createHash('sha256').update(doc.body).digest('hex');
  const forms: { name: string; send: () => Promise<Response>; bytes: number }[] = [
    body('query text, POST', open1.origin, { query: doc.body }),
    {
      name: 'id, GET ?id=',
      bytes: 0,
      send: () =>
        fetch(`${open1.origin}/graphql?id=${doc.id}`, { headers: { 'apollo-require-preflight': 'true' } }),
    },
    body('documentId, POST', open1.origin, { documentId: `sha256:${doc.id}` }),
    body('APQ hash alone, POST', open1.origin, {
      extensions: { persistedQuery: { version: 1, sha256Hash: hash } },
    }),
    body('query text, POST, PERSISTED_ONLY', open2.origin, { query: doc.body }),
  ];
  function body(name: string, origin: string, payload: unknown) {
    const text = JSON.stringify(payload);
    return {
      name,
      bytes: Buffer.byteLength(text),
      send: () => fetch(`${origin}/graphql`, { method: 'POST', headers: json, body: text }),
    };
  }
  const times = forms.map(() => [] as number[]);
  for (let round = -20; round < RUNS; round++) {
    for (const [i, form] of forms.entries()) {
      const started = performance.now();
      const res = await form.send();
      const answer = (await res.json()) as { data?: unknown };
      if (!answer.data) throw new Error(`${form.name}: ${JSON.stringify(answer)}`);
      if (round >= 0) times[i].push(performance.now() - started);
    }
  }
  const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)];
  console.log(`${RUNS} requests per form, sent in turns, one at a time (ms):`);
  console.log(`${'form'.padEnd(36)} ${'p50'.padStart(7)} ${'p95'.padStart(7)}  body bytes`);
  for (const [i, form] of forms.entries()) {
    console.log(
      `${form.name.padEnd(36)} ${pct(times[i], 0.5).toFixed(2).padStart(7)} ${pct(times[i], 0.95).toFixed(2).padStart(7)}  ${form.bytes}`,
    );
  }
  await open1.gateway.stop();
  await open2.gateway.stop();
  await system.stop();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
