/**
 * `npx tsx test/bench/response-cache.bench.ts`: requests per second and p99 latency of the five dashboard queries
 * of test/bench/gateway/dashboards.json through the gateway with RESPONSE_CACHE off, memory and redis, on the
 * same running subgraphs (embedded SQLite, the bundled datasets, started as the tests start them). Load comes
 * from autocannon in a child process (so it does not share the gateway's event loop): AUTOCANNON (the path of
 * its autocannon.js), default ../shared/tools/peer-bench's or /tmp/peer-bench's copy. BENCH_SECONDS per run
 * (default 5), BENCH_CONNECTIONS (default 20); each query is sent once before its runs so the cache is warm.
 * Besides req/s and p99: the CPU time this process spent per request (gateways and subgraphs; autocannon runs in
 * a child), steadier than req/s when the machine is shared.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { publishDataVersionsTo } from '@civic/common/data-version';
import type { Service } from '@civic/common/service';
import type { ResponseCacheOptions } from '@civic/gateway/cache/response-cache';
import { createGatewayService } from '@civic/gateway/server';
import { dropRedisKeys } from '../support/rate-limit';
import { startSystem } from '../support/system';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const QUERIES = JSON.parse(readFileSync(join(__dirname, 'gateway', 'dashboards.json'), 'utf8')) as {
  name: string;
  query: string;
}[];

function autocannonPath(): string {
  const candidates = [
    process.env.AUTOCANNON,
    join(
      __dirname,
      '..',
      '..',
      '..',
      'shared',
      'tools',
      'peer-bench',
      'node_modules',
      'autocannon',
      'autocannon.js',
    ),
    '/tmp/peer-bench/node_modules/autocannon/autocannon.js',
  ];
  const found = candidates.find((c) => c && existsSync(c));
  if (!found) throw new Error('autocannon not found: set AUTOCANNON to the path of its autocannon.js');
  return found;
}

/** One autocannon run against `url` with `body`: requests per second (mean) and p99 latency in ms. */
function load(url: string, body: string): Promise<{ rps: number; p99: number; non2xx: number }> {
  const args = [
    autocannonPath(),
    '-c',
    String(CONNECTIONS),
    '-d',
    String(SECONDS),
    '-m',
    'POST',
    '-H',
    'content-type=application/json',
    '-b',
    body,
    '-j',
    url,
  ];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => {
      if (err) return reject(err);
      const r = JSON.parse(stdout) as {
        requests: { average: number };
        latency: { p99: number };
        non2xx: number;
      };
      resolve({ rps: r.requests.average, p99: r.latency.p99, non2xx: r.non2xx });
    });
  });
}

async function main() {
  publishDataVersionsTo(null);
  const sys = await startSystem('sqlite');
  const prefix = `civic:bench:cache:${randomBytes(4).toString('hex')}`;
  const gateways: Service[] = [];
  const modes: [string, ResponseCacheOptions][] = [
    ['off', { mode: 'off' }],
    ['memory', { mode: 'memory' }],
    ['redis', { mode: 'redis', redisUrl: REDIS_URL, keyPrefix: prefix }],
  ];
  const urls: Record<string, string> = {};
  try {
    for (const [name, responseCache] of modes) {
      // As production: cost reported, rate limit off (a benchmark client would spend its budget in seconds).
      const g = await createGatewayService({
        subgraphUrls: sys.subgraphUrls,
        responseCache,
        reportCost: true,
        rateLimit: { costPerMinute: 0 },
      });
      gateways.push(g);
      urls[name] = (await g.listen(0, '127.0.0.1')).url;
    }
    await new Promise((r) => setTimeout(r, 1000)); // the first polls of the data versions
    console.log(
      `${CONNECTIONS} connections, ${SECONDS} s per run, POST, ${new Date().toISOString()}, node ${process.version}`,
    );
    console.log('query                 mode     req/s     p99 ms   x off  cpu µs/req');
    for (const q of QUERIES) {
      const body = JSON.stringify({ query: q.query });
      let off = 0;
      for (const [mode] of modes) {
        const warm = await fetch(urls[mode], {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        await warm.text();
        // The CPU this process (the gateways and the subgraphs; autocannon is a child) spent per request: less
        // noisy than req/s on a shared machine, and what a hit costs the gateway.
        const cpu = process.cpuUsage();
        const r = await load(urls[mode], body);
        const spent = process.cpuUsage(cpu);
        const perRequest = (spent.user + spent.system) / Math.max(1, r.rps * SECONDS);
        if (mode === 'off') off = r.rps;
        console.log(
          `${q.name.padEnd(22)}${mode.padEnd(9)}${r.rps.toFixed(0).padStart(7)}${r.p99.toFixed(1).padStart(10)}${(r.rps / off).toFixed(1).padStart(7)}${perRequest.toFixed(0).padStart(10)}${r.non2xx ? `  (${r.non2xx} non-2xx)` : ''}`,
        );
      }
    }
  } finally {
    for (const g of gateways) await g.stop();
    await sys.stop();
    await dropRedisKeys(REDIS_URL, prefix);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
