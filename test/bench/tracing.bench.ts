/**
 * `npx tsx test/bench/tracing.bench.ts [-- --rounds N --duration S --connections C --base DIR]`: what traces cost.
 *
 * 1. The hooks left in the hot path when OTEL_EXPORTER_OTLP_ENDPOINT is unset (the SQL statement's and the
 *    subgraph call's, a log line's fields), in nanoseconds per call, against the bare call, in this process.
 * 2. `npm start`'s script (node with tsx's loader) on fresh embedded databases, one process per variant, all
 *    running at once: traces `off` (no endpoint), `on` (every span exported to a receiver in this process that
 *    reads and drops them), and `base` when `--base DIR` names a checkout of the code before traces (its
 *    node_modules linked). Rounds alternate the variants; each round sends the one query of the tracing test
 *    (two subgraphs) for `duration` seconds from `connections` clients. Prints the median requests per second of
 *    each variant and the ratios.
 *
 * Rate limits and the response cache are off (one client sends everything; a cached answer would skip the work).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { logMixin } from '../../common/src/log';
import { clientSpan, sqlSpan } from '../../common/src/tracing';
import { npmStartCommand, npmStartEnvironment } from '../support/start-env';

const ROOT = join(__dirname, '..', '..');
const QUERY = JSON.stringify({
  query: 'query MunicipalityBudgets { organization(id: "tn-municipality-34012") { name budgets { id } } }',
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Nanoseconds per call of `f`, `n` calls, each awaited. */
async function nsPerCall(n: number, f: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await f();
  return Number(process.hrtime.bigint() - started) / n;
}

let sunk: unknown;
/** Nanoseconds per call of a synchronous `f`, `n` calls. */
function nsPerSyncCall(n: number, f: () => unknown): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sunk = f();
  return Number(process.hrtime.bigint() - started) / n;
}

async function hooks(rounds: number) {
  const n = 50_000;
  const run = () => Promise.resolve(1);
  const db = { system: 'sqlite' };
  const bare: number[] = [];
  const sql: number[] = [];
  const added: number[] = [];
  const call: number[] = [];
  const fields: number[] = [];
  // Pairs measured back to back (the same load on this shared machine), in alternating order; the median of the
  // pairs' differences is what the wrapper adds.
  for (let r = 0; r < rounds * 4; r++) {
    const a = r % 2 === 0 ? await nsPerCall(n, run) : 0;
    const b = await nsPerCall(n, () => sqlSpan(db, 'SELECT 1', run));
    const c = r % 2 === 0 ? a : await nsPerCall(n, run);
    bare.push(c);
    sql.push(b);
    added.push(b - c);
    call.push(nsPerSyncCall(n, () => clientSpan('subgraph x', {})));
    fields.push(nsPerSyncCall(n, () => logMixin()));
  }
  void sunk;
  console.log(`hooks with traces off (${rounds * 4} pairs of ${n} calls, medians):`);
  console.log(`  a statement's run, bare:             ${median(bare).toFixed(0)} ns`);
  console.log(`  the same through sqlSpan:            ${median(sql).toFixed(0)} ns`);
  console.log(`  added by sqlSpan (median of pairs):  ${median(added).toFixed(0)} ns`);
  console.log(`  clientSpan (returns undefined):      ${median(call).toFixed(0)} ns`);
  console.log(`  a log line's fields (logMixin):      ${median(fields).toFixed(0)} ns`);
}

/** A receiver that takes every POST and drops it, as a fast collector would. */
async function receiver(): Promise<{ url: string; posts: () => number; close(): void }> {
  let posts = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      posts++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    posts: () => posts,
    close: () => server.close(),
  };
}

/** One variant's process, started from `root`, resolved with its GraphQL URL once ready. */
function startVariant(root: string, env: NodeJS.ProcessEnv): { child: ChildProcess; url: Promise<string> } {
  const dir = mkdtempSync(join(tmpdir(), 'civic-trace-bench-'));
  const childEnv = npmStartEnvironment(dir, {
    ...env,
    NODE_ENV: 'production',
    LOG_FORMAT: 'json',
    RATE_LIMIT_COST_PER_MINUTE: '0',
    RESPONSE_CACHE: 'off',
    DATABASE_URL: undefined,
  });
  const { command, args } = npmStartCommand();
  const child = spawn(command, args, {
    cwd: root,
    env: childEnv,
  });
  child.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  let output = '';
  const url = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
      const m = /Civic Graph is ready: open http:\/\/localhost:(\d+)\//.exec(output);
      if (m) resolve(`http://127.0.0.1:${m[1]}/graphql`);
    });
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) => reject(new Error(`${root} exited with ${code}:\n${output.slice(-2000)}`)));
  });
  return { child, url };
}

/** Requests per second answered without errors, `connections` clients sending the query for `seconds`. */
async function load(url: string, seconds: number, connections: number): Promise<number> {
  const until = Date.now() + seconds * 1000;
  let ok = 0;
  const client = async () => {
    while (Date.now() < until) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: QUERY,
      });
      const body = (await res.json()) as { errors?: unknown };
      if (res.status === 200 && !body.errors) ok++;
      else throw new Error(`answer with errors: ${JSON.stringify(body).slice(0, 500)}`);
    }
  };
  await Promise.all(Array.from({ length: connections }, client));
  return ok / seconds;
}

async function main() {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '5' },
      duration: { type: 'string', default: '5' },
      connections: { type: 'string', default: '8' },
      base: { type: 'string' },
      'hooks-only': { type: 'boolean', default: false },
    },
  });
  const rounds = Number(values.rounds);
  await hooks(rounds);
  if (values['hooks-only']) return;
  const sink = await receiver();
  const variants: { name: string; child: ChildProcess; url: string; rps: number[] }[] = [];
  const planned: [string, string, NodeJS.ProcessEnv][] = [
    ...(values.base ? ([['base', values.base, {}]] as [string, string, NodeJS.ProcessEnv][]) : []),
    ['off', ROOT, {}],
    ['on', ROOT, { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url }],
  ];
  try {
    for (const [name, root, env] of planned) {
      const started = startVariant(root, env);
      variants.push({ name, child: started.child, url: await started.url, rps: [] });
    }
    // Warm-up: JIT, connections, statement caches.
    for (const v of variants) await load(v.url, 2, Number(values.connections));
    for (let r = 0; r < rounds; r++) {
      // Alternate the order, so that no variant always follows the same one.
      const order = r % 2 === 0 ? variants : [...variants].reverse();
      for (const v of order)
        v.rps.push(await load(v.url, Number(values.duration), Number(values.connections)));
    }
  } finally {
    for (const v of variants) v.child.kill('SIGTERM');
    sink.close();
  }
  console.log(
    `end to end: ${rounds} rounds of ${values.duration} s, ${values.connections} clients, one query over two subgraphs`,
  );
  for (const v of variants)
    console.log(
      `  ${v.name.padEnd(4)} median ${median(v.rps).toFixed(1)} req/s  (${v.rps.map((x) => x.toFixed(1)).join(', ')})`,
    );
  // Ratios within each round (its variants ran back to back, under the same load), then their median.
  const rps = Object.fromEntries(variants.map((v) => [v.name, v.rps]));
  const paired = (a: string, b: string) => median(rps[a].map((x, i) => x / rps[b][i])).toFixed(3);
  if (rps.base) console.log(`  off/base, median of the rounds' ratios: ${paired('off', 'base')}`);
  console.log(
    `  on/off, median of the rounds' ratios:   ${paired('on', 'off')}  (${sink.posts()} OTLP posts received)`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
