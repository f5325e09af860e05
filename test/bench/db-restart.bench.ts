/**
 * `npm run bench:db-restart [-- --rounds N --clients C --down-ms D]`: the fault "MariaDB restarted under load"
 * (test/support/restart-load.ts), measured. A private MariaDB (test/support/private-mariadb.ts: its own data
 * directory under /tmp, a spare port) holds the three subgraphs' databases, seeded; the gateway in front
 * (REQUEST_DEADLINE_MS 4000). Each round: C clients loop a query of two subgraphs, the database is stopped
 * (rounds alternate a clean shutdown and a SIGKILL), kept down D ms and started again, and the load runs 3 s more.
 * Printed per round: requests, errors by code while it was away and after, the slowest answer, and the time to
 * full service (every request answered in full), from the database's start command and from its first answer.
 * Nothing but the database is restarted. A benchmark: it asserts nothing.
 */
import { execSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { startPrivateMariadb } from '../support/private-mariadb';
import { errorsByCode, restartUnderLoad, startSystemOn, timeToFullService } from '../support/restart-load';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '4' },
    clients: { type: 'string', default: '4' },
    'down-ms': { type: 'string', default: '3000' },
  },
});
const rounds = Number(values.rounds);
const clients = Number(values.clients);
const downMs = Number(values['down-ms']);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  console.log(`${new Date().toISOString()}  load: ${execSync('uptime').toString().trim()}`);
  const server = await startPrivateMariadb();
  process.env.LOG_LEVEL ??= 'silent';
  const sys = await startSystemOn(server, { REQUEST_DEADLINE_MS: '4000' });
  const fromStart: number[] = [];
  const fromUp: number[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      const kill = i % 2 === 1;
      const run = await restartUnderLoad(sys, server, { clients, warmMs: 1000, downMs, afterMs: 3000, kill });
      const full = timeToFullService(run);
      const restartMs = run.upAt - run.startAt;
      const slowest = Math.max(...run.records.map((r) => r.end - r.start));
      if (full !== undefined) {
        fromStart.push(restartMs + full);
        fromUp.push(full);
      }
      console.log(
        [
          `round ${i + 1} (${kill ? 'SIGKILL' : 'clean stop'}): ${run.records.length} requests`,
          `down ${Math.round(run.startAt - run.downAt)} ms, mariadbd answered ${Math.round(restartMs)} ms after its start`,
          `full service ${full === undefined ? 'NOT REACHED' : `${Math.round(restartMs + full)} ms after the start command (${Math.round(full)} ms after its first answer)`}`,
          `errors while away ${JSON.stringify(errorsByCode(run, run.stopAt, run.upAt))}, after ${JSON.stringify(errorsByCode(run, run.upAt))}`,
          `slowest answer ${Math.round(slowest)} ms`,
        ].join('; '),
      );
    }
    if (fromStart.length) {
      console.log(
        `median time to full service: ${Math.round(median(fromStart))} ms after the start command, ` +
          `${Math.round(median(fromUp))} ms after mariadbd's first answer (${fromStart.length} of ${rounds} rounds reached it)`,
      );
    }
  } finally {
    await sys.stop();
    await server.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
