/**
 * `npm run bench [-- --queries dashboards|distinct|all] [-- --duration S --rounds N --hive-fork N --split
 * --operation-dedup on|off]`: our gateway
 * against Hive Gateway on the same supergraph and the same running subgraphs, with the peer-bench tool
 * (`../shared/tools/peer-bench`, copied to a temporary directory and installed there on first use; or
 * PEER_BENCH_DIR). Prints the ratios: RPS ours/hive (> 1: ours serves more), p99 ours/hive (< 1: ours has the
 * lower tail), CPU per request ours/hive.
 *
 * What runs, as in production: the compiled JavaScript (`npm run build` first, done here when build/ is older
 * than the sources), NODE_ENV=production, the three subgraphs each in its own process on the real data
 * (embedded SQLite in a fresh directory, seeded), our gateway in its own process with its defaults except the
 * rate limit (off: one client sends everything) and the response cache (off unless `--cache memory|redis`:
 * Hive runs without one). Subgraphs are unsigned, as Hive cannot sign.
 *
 * Then (unless `--skip-direct`) a one-subgraph query through the gateway and straight to the subgraph, alternating,
 * and the ratio of their RPS. Then, with the cache off, each query's verdict against issue 11's uncached goals
 * (RPS >= 1.5x Hive's and p99 <= 0.7x; gateway/direct >= 0.7). With `--split`, last, the CPU per request of each
 * gateway and of the subgraphs behind it, query by query (test/bench/cpu-split.ts).
 *
 * Query files: test/bench/gateway/dashboards.json (the five dashboard queries, identical requests: what a wall
 * of screens sends) and distinct.json (the same shapes with a different variable set per request, so no two
 * requests in flight are identical and neither gateway can share a subgraph call).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuSplit } from './cpu-split';

const ROOT = join(__dirname, '..', '..');
const BUILD = join(ROOT, 'build');
const SUBGRAPHS = ['organizations', 'commitments', 'budgets'] as const;
/** Ports away from `npm start`'s (4000-4003) and from Hive's in peer-bench (4400). */
const PORTS = { gateway: 4300, organizations: 4301, commitments: 4302, budgets: 4303 };

async function main() {
  const { values } = parseArgs({
    options: {
      queries: { type: 'string', default: 'all' },
      duration: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '3' },
      connections: { type: 'string', default: '20' },
      'hive-fork': { type: 'string', default: '1' },
      cache: { type: 'string', default: 'off' },
      'operation-dedup': { type: 'string', default: 'on' },
      out: { type: 'string' },
      'skip-direct': { type: 'boolean', default: false },
      split: { type: 'boolean', default: false },
    },
  });
  const files =
    values.queries === 'all' ? ['dashboards', 'distinct'] : values.queries.split(',').map((q) => q.trim());
  const peer = peerBench();
  if (stale()) {
    console.log('bench: build/ is older than the sources; npm run build');
    run(process.execPath, [require.resolve('tsx/cli'), join(ROOT, 'scripts', 'build.ts')]);
  }
  const dir = mkdtempSync(join(tmpdir(), 'civic-bench-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATA_DIR: join(dir, 'db'),
    RATE_LIMIT_COST_PER_MINUTE: '0',
    RESPONSE_CACHE: values.cache,
    // Identical queries in flight executed once (on, as in production); off: every request executes, the
    // like-for-like measure of execution against Hive, which executes each.
    OPERATION_DEDUPLICATE: values['operation-dedup'] === 'off' ? 'false' : 'true',
    ...(values.cache === 'redis' ? { REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' } : {}),
    GATEWAY_PORT: String(PORTS.gateway),
  };
  for (const name of SUBGRAPHS) {
    env[`${name.toUpperCase()}_PORT`] = String(PORTS[name]);
    env[`${name.toUpperCase()}_URL`] = `http://127.0.0.1:${PORTS[name]}/graphql`;
  }
  const children: ChildProcess[] = [];
  const stopAll = () => children.forEach((c) => c.kill('SIGTERM'));
  process.once('SIGINT', () => {
    stopAll();
    process.exit(130);
  });
  try {
    console.log(`bench: seeding the real data into ${env.DATA_DIR}`);
    run(process.execPath, [join(BUILD, 'scripts', 'seed.js')], env);
    for (const name of SUBGRAPHS) {
      children.push(start([join(BUILD, 'subgraphs', name, 'src', 'index.js')], env, name));
    }
    for (const name of SUBGRAPHS) await healthy(`http://127.0.0.1:${PORTS[name]}/health`);
    const gateway = start([join(BUILD, 'gateway', 'src', 'index.js')], env, 'gateway');
    children.push(gateway);
    await healthy(`http://127.0.0.1:${PORTS.gateway}/health`);
    // Hive plans against the same supergraph, with the subgraphs at this run's ports.
    const supergraph = join(dir, 'supergraph.graphql');
    writeFileSync(
      supergraph,
      readFileSync(join(ROOT, 'schema', 'supergraph.graphql'), 'utf8').replace(
        /url: "http:\/\/localhost:400(\d)\/graphql"/g,
        (_m, n: string) => `url: "http://127.0.0.1:430${n}/graphql"`,
      ),
    );
    let failed = 0;
    const verdicts: string[] = [];
    for (const file of files) {
      const queries = join(__dirname, 'gateway', `${file}.json`);
      if (!existsSync(queries)) throw new Error(`--queries: no file test/bench/gateway/${file}.json`);
      console.log(`\nbench: ${file}.json (ours pid ${gateway.pid}, hive --fork ${values['hive-fork']})`);
      const args = [
        join(peer, 'bench.mjs'),
        '--supergraph',
        supergraph,
        '--ours',
        `http://127.0.0.1:${PORTS.gateway}/graphql`,
        '--queries',
        queries,
        '--ours-pid',
        String(gateway.pid),
        '--duration',
        values.duration,
        '--rounds',
        values.rounds,
        '--warmup',
        values.warmup,
        '--connections',
        values.connections,
        '--hive-fork',
        values['hive-fork'],
        '--out',
        values.out ? `${values.out}.${file}.json` : join(dir, `${file}.result.json`),
      ];
      const result = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: peer });
      if (result.status !== 0) failed = result.status ?? 1;
      verdicts.push(
        ...goalVerdicts(values.out ? `${values.out}.${file}.json` : join(dir, `${file}.result.json`), file),
      );
    }
    if (!values['skip-direct']) {
      const direct = await directRatio(
        peer,
        Number(values.duration),
        Number(values.rounds),
        values.connections,
      );
      verdicts.push(
        `  ${'one subgraph: gateway/direct RPS'.padEnd(44)} ${direct.toFixed(2).padStart(5)}  ` +
          `${direct >= GOALS.directRps ? 'met' : 'NOT MET'} (>= ${GOALS.directRps})`,
      );
    }
    if (values.cache === 'off') {
      console.log(
        `\nbench: issue 11's uncached goals (RPS >= ${GOALS.rps}x Hive's, p99 <= ${GOALS.p99}x; operation ` +
          `deduplication ${values['operation-dedup']}; medians of the rounds' ratios)`,
      );
      for (const v of verdicts) console.log(v);
    }
    if (values.split) {
      await cpuSplit({
        peer,
        supergraph,
        queryFiles: files.map((file) => join(__dirname, 'gateway', `${file}.json`)),
        ours: { url: `http://127.0.0.1:${PORTS.gateway}/graphql`, pid: gateway.pid! },
        subgraphPids: Object.fromEntries(SUBGRAPHS.map((name, i) => [name, children[i].pid!])),
        duration: Number(values.duration),
        rounds: Number(values.rounds),
        connections: Number(values.connections),
        hiveFork: values['hive-fork'],
      });
    }
    process.exitCode = failed;
  } finally {
    stopAll();
    await new Promise((r) => setTimeout(r, 500));
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The same one-subgraph query sent through the gateway and straight to its subgraph, alternating, with the
 * autocannon of peer-bench: what the gateway costs a query that needs no planning across subgraphs.
 */
async function directRatio(peer: string, duration: number, rounds: number, connections: string) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const autocannon = require(join(peer, 'node_modules', 'autocannon')) as (
    opts: Record<string, unknown>,
  ) => Promise<{ requests: { average: number }; latency: { p99: number }; non2xx: number; errors: number }>;
  const body = JSON.stringify({ query: DIRECT_QUERY });
  const targets = {
    gateway: `http://127.0.0.1:${PORTS.gateway}/graphql`,
    organizations: `http://127.0.0.1:${PORTS.organizations}/graphql`,
  };
  console.log(`\nbench: one subgraph, through the gateway and direct (${DIRECT_QUERY})`);
  const ratios: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    const rps: Record<string, number> = {};
    for (const [name, url] of Object.entries(targets)) {
      const r = await autocannon({
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'accept-language': 'fr' },
        body,
        connections: Number(connections),
        duration,
      });
      if (r.non2xx || r.errors) throw new Error(`${name}: ${r.non2xx} non-2xx answers, ${r.errors} errors`);
      rps[name] = r.requests.average;
      console.log(
        `  round ${round} ${name.padEnd(13)} ${r.requests.average.toFixed(0).padStart(6)} req/s  p99 ${r.latency.p99} ms`,
      );
    }
    ratios.push(rps.gateway / rps.organizations);
  }
  ratios.sort((a, b) => a - b);
  const median = ratios[Math.floor(ratios.length / 2)];
  console.log(`  gateway/direct RPS, median of ${rounds}: ${median.toFixed(2)}`);
  return median;
}

/** Issue 11's goals for the gateway, caching off: against Hive per dashboard query, and against the subgraph. */
const GOALS = { rps: 1.5, p99: 0.7, directRps: 0.7 };

/** One line per query of a peer-bench result file: its ratios and whether they meet {@link GOALS}. */
function goalVerdicts(resultFile: string, file: string): string[] {
  if (!existsSync(resultFile)) return [`  ${file}: no result (peer-bench failed before writing one)`];
  const report = JSON.parse(readFileSync(resultFile, 'utf8')) as {
    results: { name: string; summary: { rpsRatio: number; p99Ratio: number } }[];
  };
  return report.results.map(({ name, summary: { rpsRatio, p99Ratio } }) => {
    const met = rpsRatio >= GOALS.rps && p99Ratio <= GOALS.p99;
    return (
      `  ${`${file}: ${name}`.padEnd(44)} RPS ${rpsRatio.toFixed(2).padStart(5)}  p99 ${p99Ratio.toFixed(2).padStart(5)}  ` +
      (met ? 'met' : 'NOT MET')
    );
  });
}

/** A page of organizations: one subgraph, no entity fetches. */
const DIRECT_QUERY = '{ organizations(first: 20) { nodes { id name country } } }';

/** The peer-bench tool, installed: PEER_BENCH_DIR, or a copy of ../shared/tools/peer-bench made once. */
function peerBench(): string {
  const given = process.env.PEER_BENCH_DIR;
  if (given) return given;
  const source = join(ROOT, '..', 'shared', 'tools', 'peer-bench');
  const copy = join(tmpdir(), 'civic-peer-bench');
  if (!existsSync(join(copy, 'node_modules', '.bin', 'hive-gateway'))) {
    if (!existsSync(source)) {
      throw new Error(`peer-bench not found at ${source}; set PEER_BENCH_DIR to an installed copy`);
    }
    console.log(`bench: installing peer-bench (Hive Gateway) into ${copy}, once (~60 s)`);
    cpSync(source, copy, { recursive: true });
    run('npm', ['ci', '--no-audit', '--no-fund'], process.env, copy);
  }
  return copy;
}

/** Whether build/ is missing or older than the newest TypeScript source of the services. */
function stale(): boolean {
  const marker = join(BUILD, 'gateway', 'src', 'index.js');
  if (!existsSync(marker)) return true;
  const built = statSync(marker).mtimeMs;
  const newest = spawnSync('git', ['log', '-1', '--format=%ct'], { cwd: ROOT, encoding: 'utf8' });
  const committed = Number(newest.stdout.trim()) * 1000;
  const changed = spawnSync(
    'git',
    ['status', '--porcelain', '--', 'common', 'gateway', 'subgraphs', 'formats'],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  return committed > built || changed.stdout.trim() !== '';
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd = ROOT) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env, cwd });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal})`);
}

function start(args: string[], env: NodeJS.ProcessEnv, name: string): ChildProcess {
  const child = spawn(process.execPath, args, { env, cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  child.once('exit', (code, signal) => {
    if (code && code !== 0) console.error(`bench: ${name} exited (${code ?? signal}); logs above`);
  });
  return child;
}

async function healthy(url: string, withinMs = 120_000) {
  const until = Date.now() + withinMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`${url} did not answer within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

main().catch((err) => {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
