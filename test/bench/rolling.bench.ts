/**
 * `npm run bench:rolling [-- --concurrency 8 --runs 1 --pre-stop-ms 0,20]`: the figures of rolling restarts under a load of mixed
 * queries (test/support/faults.ts), on the services as separate processes on 127.0.0.1 (test/support/rolling.ts:
 * two gateway replicas behind a round-robin balancer, test/support/balancer.ts; two budgets replicas behind
 * another, the gateways' BUDGETS_URL; embedded SQLite; response cache and rate limit off):
 * - the gateway rolled: each gateway replica in turn gets SIGTERM (while a request is in flight on it), exits,
 *   and a new one is started on a new port and added once ready;
 * - the budgets subgraph rolled the same way, under the same load through the gateways;
 * each with every `pre-stop-ms`: 0, SIGTERM while the replica is still in the balancer's rotation (it leaves it
 * at its first 503 on GET /ready); more, out of the rotation that long before SIGTERM (a preStop wait).
 * For each roll: requests sent, answered by HTTP status and by outcome (full, partial, wrong, lost), errors by
 * code, the requests in flight on each replica at its SIGTERM and how many got their 200, the longest and median
 * latency of the requests answered during the roll (first SIGTERM to the last replacement in rotation), each
 * replica's drain (SIGTERM to exit, and its own `drained` line), and the balancer's figures. A benchmark, not a
 * test: it prints what it measured; test/e2e/rolling.test.ts asserts the properties.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { baseline } from '../support/faults';
import { rollFigures, rollUnderLoad, startRollingSystem } from '../support/rolling';

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '8' },
    runs: { type: 'string', default: '1' },
    'pre-stop-ms': { type: 'string', default: '0,20' },
  },
});
const concurrency = Number(values.concurrency);
const runs = Number(values.runs);
const preStops = values['pre-stop-ms'].split(',').map(Number);

const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();

async function main() {
  console.log(`start ${new Date().toISOString()} | ${uptime()}`);
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}`);
  console.log(`load: ${concurrency} clients, one request at a time each, through the gateways' balancer`);
  const sys = await startRollingSystem();
  try {
    const expected = await baseline(sys.url);
    for (let i = 1; i <= runs; i++) {
      for (const preStopMs of preStops)
        for (const what of ['gateway', 'budgets'] as const) {
          const options = { concurrency, warmMs: 2000, afterMs: 2000, preStopMs };
          const f = rollFigures(await rollUnderLoad(sys, what, expected, options));
          console.log(
            `\n${what} rolled, pre-stop ${preStopMs} ms, run ${i}: ${new Date().toISOString()} | ${uptime()}`,
          );
          console.log(`  requests sent ${f.sent}, answered ${f.answered}`);
          console.log(`  by status    ${JSON.stringify(f.byStatus)}`);
          console.log(`  by outcome   ${JSON.stringify(f.byOutcome)}`);
          console.log(`  errors       ${JSON.stringify(f.errorsByCode)}`);
          console.log(
            `  roll ${f.rollMs} ms (first SIGTERM to the last replacement in rotation): ` +
              `${f.duringRoll.requests} requests answered, latency max ${f.duringRoll.maxLatencyMs} ms, ` +
              `median ${f.duringRoll.medianLatencyMs} ms`,
          );
          console.log(
            `  balancer: ${f.balancer.forwarded} forwarded, ${f.balancer.sentOnAfterRefusal} sent on after a ` +
              `refused connection, failed ${JSON.stringify(f.balancer.failed)}`,
          );
          for (const r of f.replicas) {
            console.log(
              `  ${r.name} :${r.oldPort} -> :${r.newPort}: in flight at SIGTERM ${r.inFlightAtTerm} (${r.inFlightQueries} queries), answered 200 ` +
                `${r.completed200} (the last ${r.lastInFlightDoneMs} ms after SIGTERM), failed ${JSON.stringify(r.failed)}; ` +
                `exit ${r.exit}, drain (SIGTERM to exit) ${r.drainMs} ms, its log ${JSON.stringify(r.drained)}; ` +
                `replacement in rotation ${r.replaceMs} ms after the exit`,
            );
          }
        }
    }
  } finally {
    await sys.stop();
  }
  console.log(`\nend ${new Date().toISOString()} | ${uptime()}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
