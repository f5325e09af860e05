/**
 * `npm run bench:queries [-- --runs N]`: a fixed set of dashboard and search queries, sent through the
 * gateway to the three subgraphs over the configured databases (run `npm run generate -- --scale N` first),
 * each one warmed up and then timed N times in sequence; prints p50 and p95 per query. A benchmark, not a
 * test: it asserts only that every query answers without errors.
 */
import { parseArgs } from 'node:util';
import { prepareSubgraph } from '@civic/common/bootstrap';
import { loadConfig, SUBGRAPH_NAMES as SUBGRAPHS, type SubgraphName } from '@civic/subgraphs/catalog';
import type { Service } from '@civic/common/service';
import { createGatewayService } from '@civic/gateway/server';
import { MODULES } from '../support/system';
import { BENCH_QUERIES } from './bench-queries';

function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

async function main() {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '30' }, only: { type: 'string' } },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`--runs must be a positive integer; got "${values.runs}"`);
  const config = loadConfig();
  const services: Service[] = [];
  const urls = {} as Record<SubgraphName, string>;
  try {
    for (const name of SUBGRAPHS) {
      const ds = await prepareSubgraph(MODULES[name], config.storage[name], { seed: 'if-empty' });
      const service = await MODULES[name].createService(ds, { closeDataSource: true });
      services.push(service);
      urls[name] = (await service.listen(0, '127.0.0.1')).url;
    }
    // One client sending every query again and again is what the per-client cost limit stops: off here, it
    // is not what is measured.
    const gateway = await createGatewayService({ subgraphUrls: urls, rateLimit: { costPerMinute: 0 } });
    services.push(gateway);
    const url = (await gateway.listen(0, '127.0.0.1')).url;
    const storage = SUBGRAPHS.map((n) => `${n}=${config.storage[n].type}`).join(' ');
    console.log(
      `bench:queries — ${runs} runs each after 3 warm-up runs; ${storage}; node ${process.version}`,
    );
    console.log(
      `${'query'.padEnd(52)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'rows'.padStart(6)}`,
    );
    for (const q of BENCH_QUERIES) {
      if (values.only && !q.name.includes(values.only)) continue;
      const send = async () => {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'accept-language': q.language ?? 'fr' },
          body: JSON.stringify({ query: q.query, variables: q.variables ?? {} }),
        });
        const body = (await res.json()) as { data?: unknown; errors?: { message: string }[] };
        if (body.errors?.length)
          throw new Error(`${q.name}: ${body.errors.map((e) => e.message).join('; ')}`);
        return body.data;
      };
      const n = Math.min(runs, q.maxRuns ?? runs);
      for (let i = 0; i < Math.min(3, n); i++) await send();
      const times: number[] = [];
      let data: unknown;
      for (let i = 0; i < n; i++) {
        const t = process.hrtime.bigint();
        data = await send();
        times.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      times.sort((a, b) => a - b);
      const rows = q.count(data);
      console.log(
        `${q.name.padEnd(52)} ${percentile(times, 50).toFixed(1).padStart(8)} ${percentile(times, 95).toFixed(1).padStart(8)} ${String(rows).padStart(6)}${n < runs ? `  (${n} runs)` : ''}`,
      );
    }
  } finally {
    for (const s of services.reverse()) await s.stop();
  }
}

main().catch((err: unknown) => {
  console.error(`bench:queries failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
