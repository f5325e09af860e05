/**
 * `npm run bench -- --split`: where each gateway's requests spend their CPU. For every query of the query files,
 * our gateway then Hive Gateway (started here on the same supergraph, as peer-bench starts it) take the same load
 * for `duration` seconds, one at a time, in `rounds` alternating rounds after a 2 s warm-up each, while the CPU
 * time of every process is read from /proc (Linux): the gateway's (with its child processes, as Hive forks) and
 * each subgraph's. Printed per query and gateway, medians of the rounds: RPS, CPU ms per request in the gateway
 * and in the subgraphs behind it.
 *
 * Why: on two cores the subgraphs' CPU is spent under both gateways alike, so when the subgraphs cost as much
 * per request as the gateway does, a gateway half as costly as Hive's serves far less than twice Hive's RPS.
 * This shows which of the two a query's ratio is waiting on.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Query {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  variablesList?: Record<string, unknown>[];
}

type Autocannon = (opts: Record<string, unknown>) => Promise<{
  requests: { average: number; total: number };
  latency: { p99: number };
  non2xx: number;
  errors: number;
}>;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Clock ticks per second of /proc's utime and stime (USER_HZ, 100 on Linux). */
const CLK_TCK = 100;
const HIVE_PORT = 4400;

/** CPU milliseconds spent so far by `pid` and every process descended from it. */
function treeCpuMs(pid: number): number {
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The fields after the command's closing parenthesis: state, ppid, ... utime (14th), stime (15th).
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ');
      stats.set(Number(entry), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // gone meanwhile
    }
  }
  let ticks = 0;
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    ticks += stats.get(p)?.ticks ?? 0;
    for (const [child, s] of stats) if (s.ppid === p) todo.push(child);
  }
  return (ticks * 1000) / CLK_TCK;
}

/** Hive Gateway on `supergraph`, as peer-bench runs it: production, an empty directory, a minimal environment. */
async function startHive(peer: string, supergraph: string, fork: string) {
  const pkg = JSON.parse(
    readFileSync(join(peer, 'node_modules', '@graphql-hive', 'gateway', 'package.json'), 'utf8'),
  ) as { bin: Record<string, string> };
  const bin = join(peer, 'node_modules', '@graphql-hive', 'gateway', pkg.bin['hive-gateway']);
  const cwd = mkdtempSync(join(tmpdir(), 'civic-split-hive-'));
  const args = [bin, 'supergraph', supergraph, '--host', '127.0.0.1', '--port', String(HIVE_PORT)];
  const child = spawn(process.execPath, [...args, '--fork', fork], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production' },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${HIVE_PORT}/graphql`;
  for (const until = Date.now() + 60_000; Date.now() < until;) {
    if (child.exitCode !== null) throw new Error(`hive-gateway exited (${child.exitCode}) while starting`);
    const answered = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query":"{ __typename }"}',
    }).then(
      (r) => r.ok,
      () => false,
    );
    if (answered) {
      return {
        url,
        pid: child.pid!,
        stop: async () => {
          child.kill('SIGTERM');
          await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
          rmSync(cwd, { recursive: true, force: true });
        },
      };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill('SIGKILL');
  throw new Error('hive-gateway did not answer within 60 s');
}

export async function cpuSplit(o: {
  peer: string;
  supergraph: string;
  queryFiles: string[];
  ours: { url: string; pid: number };
  subgraphPids: Record<string, number>;
  duration: number;
  rounds: number;
  connections: number;
  hiveFork: string;
}) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const autocannon = require(join(o.peer, 'node_modules', 'autocannon')) as Autocannon;
  const hive = await startHive(o.peer, o.supergraph, o.hiveFork);
  const gateways = { ours: o.ours, hive: { url: hive.url, pid: hive.pid } };
  const names = Object.keys(o.subgraphPids);
  console.log(
    `\nbench: CPU per request, gateway and subgraphs (ms, medians of ${o.rounds} rounds of ${o.duration} s, ${o.connections} connections, one gateway at a time)`,
  );
  console.log(
    `  ${'query'.padEnd(34)} ${'gateway'.padEnd(7)} ${'req/s'.padStart(6)} ${'gw'.padStart(6)} ${'subgr'.padStart(6)}  ${names.join(' / ')}`,
  );
  try {
    for (const file of o.queryFiles) {
      const queries = JSON.parse(readFileSync(file, 'utf8')) as Query[];
      const label = file.replace(/.*\//, '').replace(/\.json$/, '');
      for (const q of queries) {
        const bodies = (q.variablesList ?? [q.variables ?? {}]).map((variables) =>
          JSON.stringify({ query: q.query, variables }),
        );
        // Rounds alternate the gateways; each figure is the median of its rounds (the first run of a query after
        // a while costs the subgraphs more: compilation, collection).
        const runs: Record<string, { rps: number; cpu: Record<string, number> }[]> = { ours: [], hive: [] };
        for (let round = 0; round < o.rounds; round++) {
          for (const [gateway, target] of Object.entries(gateways)) {
            let next = 0;
            const load = (duration: number) =>
              autocannon({
                url: target.url,
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                connections: o.connections,
                duration,
                requests: [{ setupRequest: (r: object) => ({ ...r, body: bodies[next++ % bodies.length] }) }],
              });
            if (round === 0) await load(2);
            const pids: Record<string, number> = { gateway: target.pid, ...o.subgraphPids };
            const before = Object.fromEntries(Object.entries(pids).map(([n, p]) => [n, treeCpuMs(p)]));
            const r = await load(o.duration);
            if (r.non2xx || r.errors) {
              throw new Error(`${q.name} on ${gateway}: ${r.non2xx} non-2xx answers, ${r.errors} errors`);
            }
            const cpu = Object.fromEntries(
              Object.entries(pids).map(([n, p]) => [n, (treeCpuMs(p) - before[n]) / r.requests.total]),
            );
            runs[gateway].push({ rps: r.requests.average, cpu });
          }
        }
        for (const [gateway, measured] of Object.entries(runs)) {
          const gw = median(measured.map((m) => m.cpu.gateway));
          const subgraphs = names.map((n) => median(measured.map((m) => m.cpu[n])));
          console.log(
            `  ${`${label}/${q.name}`.padEnd(34)} ${gateway.padEnd(7)} ${median(measured.map((m) => m.rps))
              .toFixed(0)
              .padStart(6)} ${gw.toFixed(2).padStart(6)} ${subgraphs
              .reduce((a, b) => a + b, 0)
              .toFixed(2)
              .padStart(6)}  ${subgraphs.map((c) => c.toFixed(2)).join(' / ')}`,
          );
        }
      }
    }
  } finally {
    await hive.stop();
  }
}
