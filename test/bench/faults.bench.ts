/**
 * `npm run bench:faults [-- --concurrency 8 --fault-ms 5000 --timeout-ms 1000 --runs 1]`: the figures of two
 * faults of the budgets subgraph under a bounded load of mixed queries (test/support/faults.ts), on the services
 * as separate processes on 127.0.0.1 (test/support/processes.ts, embedded SQLite, gateway response cache and
 * rate limit off):
 * - killed: SIGKILL while the load runs, `fault-ms` without it, then started again on its port;
 * - stuck: SIGSTOP while the load runs, `fault-ms` stopped, then SIGCONT; the gateway's SUBGRAPH_TIMEOUT_MS is
 *   `timeout-ms`.
 * For each: requests sent and answered (by HTTP status and by outcome: full, partial, wrong, lost), errors by
 * code, the highest latency of a request sent during the fault (all of them, and of the queries that need no
 * budgets, with their median), and the time to full recovery (from the restarted process's "ready at" line, or
 * from SIGCONT, to the first full answer of a query that needs budgets). A benchmark, not a test: it prints what
 * it measured; test/e2e/faults.test.ts asserts the properties.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { baseline, figures, killedUnderLoad, stuckUnderLoad } from '../support/faults';
import { startProcessSystem } from '../support/processes';

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '8' },
    'fault-ms': { type: 'string', default: '5000' },
    'timeout-ms': { type: 'string', default: '1000' },
    runs: { type: 'string', default: '1' },
  },
});
const concurrency = Number(values.concurrency);
const faultMs = Number(values['fault-ms']);
const timeoutMs = Number(values['timeout-ms']);
const runs = Number(values.runs);

const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();

async function main() {
  console.log(`start ${new Date().toISOString()} | ${uptime()}`);
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}`);
  console.log(
    `load: ${concurrency} clients, one request at a time each; fault ${faultMs} ms; SUBGRAPH_TIMEOUT_MS=${timeoutMs}`,
  );
  const sys = await startProcessSystem({ SUBGRAPH_TIMEOUT_MS: String(timeoutMs) });
  try {
    const expected = await baseline(sys.gatewayUrl);
    const options = { concurrency, warmMs: 2000, faultMs, afterMs: 2000, recoveryWithinMs: 30_000 };
    for (let i = 1; i <= runs; i++) {
      for (const [name, fault] of [
        ['killed (SIGKILL, restart)', killedUnderLoad],
        ['stuck (SIGSTOP, SIGCONT)', stuckUnderLoad],
      ] as const) {
        const f = figures(await fault(sys, expected, options));
        console.log(`\n${name}, run ${i}: ${new Date().toISOString()} | ${uptime()}`);
        console.log(`  requests sent ${f.sent}, answered ${f.answered}`);
        console.log(`  by status    ${JSON.stringify(f.byStatus)}`);
        console.log(`  by outcome   ${JSON.stringify(f.byOutcome)}`);
        console.log(`  errors       ${JSON.stringify(f.errorsByCode)}`);
        console.log(
          `  fault ${f.faultMs} ms: ${f.duringFault.requests} requests sent, ${JSON.stringify(f.duringFault.byOutcome)}`,
        );
        console.log(
          `  max latency during the fault ${f.duringFault.maxLatencyMs} ms; queries without budgets: max ` +
            `${f.duringFault.maxLatencyWithoutBudgetsMs} ms, median ${f.duringFault.medianLatencyWithoutBudgetsMs} ms`,
        );
        if (f.startupMs !== null) console.log(`  restarted process: start-up to listening ${f.startupMs} ms`);
        console.log(`  time to full recovery ${f.recoveryMs} ms`);
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
