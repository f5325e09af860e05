import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Balancer } from './balancer';
import { Load, type MixQuery, type Sample } from './faults';
import { startServiceProcess, type ServiceProcess } from './processes';

/**
 * Rolling restarts under load (issue 12, "roll it without dropped requests"): the services as separate processes
 * on 127.0.0.1 (test/support/processes.ts), two replicas of the gateway behind one {@link Balancer} and two
 * replicas of the budgets subgraph behind another (the gateways' BUDGETS_URL), each replica replaced in turn
 * while a load of mixed queries (test/support/faults.ts) runs through the gateways' balancer.
 * test/e2e/rolling.test.ts asserts the properties; test/bench/rolling.bench.ts prints the figures.
 */

/** How long a replacement may take to be ready (tsx compiles at start; the machine is shared). */
const READY_WITHIN_MS = 120_000;
/** How long to wait for a request in flight on the replica about to be stopped. */
const IN_FLIGHT_WITHIN_MS = 30_000;

/** One replica: its process and the port it listens on. */
export interface Replica {
  readonly process: ServiceProcess;
  readonly port: number;
}

/** What a service's `drained` log line says (common/src/service.ts `stop`). */
export interface Drained {
  inFlight: number;
  ms: number;
  cut: boolean;
}

/** One replica replaced: its stop (SIGTERM to exit) and what was in flight on it at SIGTERM. */
export interface Replacement {
  readonly name: string;
  readonly oldPort: number;
  readonly newPort: number;
  /**
   * The balancer's ids of the requests in flight on it when SIGTERM was sent: GraphQL calls (POST), and for a
   * subgraph any readiness probe of a gateway (GET /ready) passing through at that moment.
   */
  readonly inFlightAtTerm: number[];
  /** performance.now() of SIGTERM and of its exit. */
  readonly termAt: number;
  readonly exitAt: number;
  readonly exit: { code: number | null; signal: NodeJS.Signals | null };
  /** Its `drained` log line, when it printed one. */
  readonly drained?: Drained;
  /** When the replacement was ready in the balancer (its first 200 on GET /ready). */
  readonly replacedAt: number;
}

/** The storage of the rolling system: seeded once, each budgets replica on its own copy. */
interface Folders {
  root: string;
  shared: string;
  budgets: [string, string];
  gateways: [string, string];
}

export interface RollingSystem {
  readonly gatewayBalancer: Balancer;
  readonly budgetsBalancer: Balancer;
  /** The gateways' balancer's GraphQL URL: where the load goes. */
  readonly url: string;
  readonly gateways: Replica[];
  readonly budgets: Replica[];
  /** Replaces each gateway replica in turn (see {@link roll}). */
  rollGateways(preStopMs: number, requireInFlight?: boolean): Promise<Replacement[]>;
  /** Replaces each budgets replica in turn (see {@link roll}). */
  rollBudgets(preStopMs: number, requireInFlight?: boolean): Promise<Replacement[]>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function ready(proc: ServiceProcess): Promise<Replica> {
  return { process: proc, port: await proc.ready };
}

/** The `drained` line a stopped service logged (JSON, pino), if any. */
export function drainedLine(output: string): Drained | undefined {
  for (const line of output.split('\n')) {
    if (!line.startsWith('{') || !line.includes('"drained"')) continue;
    try {
      const e = JSON.parse(line) as Partial<Drained> & { msg?: string };
      if (e.msg === 'drained') return { inFlight: e.inFlight ?? -1, ms: e.ms ?? -1, cut: e.cut ?? false };
    } catch {
      // Not a line of ours.
    }
  }
  return undefined;
}

/**
 * Replaces each replica of `replicas` in turn, as a rolling update does: waits until the balancer has at least
 * one request in flight on it (so that every stop is tested with work to finish); with `preStopMs` (what
 * docs/operations.md asks of an orchestrator: no new traffic before SIGTERM) takes it out of the balancer's
 * rotation and waits `preStopMs` (again until a query is still in flight then; with `requireInFlight` false, SIGTERM
 * after the wait whatever is in flight, and no wait for a query before it), without it (0) leaves it in
 * the rotation until its GET /ready says 503; then sends SIGTERM, waits for its
 * exit, removes it from the balancer, starts its replacement (`start`, on a new port), waits until the balancer
 * has it in rotation (its first 200 on GET /ready), then `pauseMs` before the next. `replicas` is updated in
 * place with the replacements.
 */
export async function roll(
  balancer: Balancer,
  replicas: Replica[],
  start: (index: number) => ServiceProcess,
  preStopMs: number,
  requireInFlight = true,
  pauseMs = 500,
): Promise<Replacement[]> {
  const done: Replacement[] = [];
  for (let i = 0; i < replicas.length; i++) {
    const old = replicas[i];
    const until = performance.now() + IN_FLIGHT_WITHIN_MS;
    const queries = () =>
      balancer.inFlight(old.port).filter((id) => balancer.forwarded.get(id)?.method === 'POST');
    for (;;) {
      if (performance.now() > until) {
        throw new Error(`no request in flight on ${old.process.name} to stop it with`);
      }
      if (requireInFlight && queries().length === 0) {
        await new Promise((r) => setImmediate(r));
        continue;
      }
      if (preStopMs === 0) break;
      // Out of the rotation first, as the docs ask (a preStop wait): SIGTERM after `preStopMs`, if a query is
      // still in flight then; if none is, back into the rotation and wait for another.
      balancer.drain(old.port);
      await sleep(preStopMs);
      if (!requireInFlight || queries().length > 0) break;
      balancer.drain(old.port, false);
    }
    const inFlightAtTerm = balancer.inFlight(old.port);
    const termAt = performance.now();
    old.process.child.kill('SIGTERM');
    const exit = await old.process.exited;
    const exitAt = performance.now();
    balancer.remove(old.port);
    const replacement = await ready(start(i));
    balancer.add(replacement.port);
    await balancer.whenReady(replacement.port, READY_WITHIN_MS);
    const replacedAt = performance.now();
    replicas[i] = replacement;
    done.push({
      name: old.process.name,
      oldPort: old.port,
      newPort: replacement.port,
      inFlightAtTerm,
      termAt,
      exitAt,
      exit,
      drained: drainedLine(old.process.output()),
      replacedAt,
    });
    await sleep(pauseMs);
  }
  return done;
}

/** Copies a SQLite database (in WAL mode, possibly open in another process) whole, with SQLite's backup. */
async function copyDatabase(from: string, to: string) {
  // better-sqlite3 ships no type declarations; this is all of it the copy needs.
  const Database = createRequire(__filename)('better-sqlite3') as new (
    path: string,
    opts: { readonly: boolean; fileMustExist: boolean },
  ) => { backup(to: string): Promise<unknown>; close(): void };
  const db = new Database(from, { readonly: true, fileMustExist: true });
  try {
    await db.backup(to);
  } finally {
    db.close();
  }
}

/**
 * Starts organizations and commitments (one process each, seeded), two budgets replicas (the first seeds its
 * file, the second runs on a copy of it: each replica its own file, as each pod its own volume, so neither
 * writes under the other) behind a balancer, and two gateway replicas (response cache and rate limit off, each
 * its own folder for its key store) with that balancer as BUDGETS_URL, behind another balancer.
 */
export async function startRollingSystem(): Promise<RollingSystem> {
  const root = mkdtempSync(join(tmpdir(), 'civic-rolling-'));
  const folders: Folders = {
    root,
    shared: join(root, 'shared'),
    budgets: [join(root, 'budgets-a'), join(root, 'budgets-b')],
    gateways: [join(root, 'gateway-a'), join(root, 'gateway-b')],
  };
  for (const d of [folders.shared, ...folders.budgets, ...folders.gateways]) mkdirSync(d);
  const all: ServiceProcess[] = [];
  const track = (p: ServiceProcess) => (all.push(p), p);
  const balancers: Balancer[] = [];
  const stop = async () => {
    await Promise.all(balancers.map((b) => b.close()));
    await stopProcesses(all);
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const subgraph = (name: string, dir: string, seed: boolean) =>
      track(
        startServiceProcess(name, `subgraphs/${name}/src/index.ts`, {
          DATA_DIR: dir,
          SEED_ON_START: String(seed),
          [`${name.toUpperCase()}_PORT`]: '0',
        }),
      );
    const [organizations, commitments, firstBudgets] = await Promise.all([
      ready(subgraph('organizations', folders.shared, true)),
      ready(subgraph('commitments', folders.shared, true)),
      ready(subgraph('budgets', folders.budgets[0], true)),
    ]);
    await copyDatabase(
      join(folders.budgets[0], 'budgets.sqlite'),
      join(folders.budgets[1], 'budgets.sqlite'),
    );
    const startBudgets = (i: number) => subgraph('budgets', folders.budgets[i], false);
    const budgetsBalancer = await Balancer.start();
    balancers.push(budgetsBalancer);
    budgetsBalancer.add(firstBudgets.port);
    const startGateway = (i: number) =>
      track(
        startServiceProcess('gateway', 'gateway/src/index.ts', {
          DATA_DIR: folders.gateways[i],
          GATEWAY_PORT: '0',
          RESPONSE_CACHE: 'off',
          RATE_LIMIT_COST_PER_MINUTE: '0',
          ORGANIZATIONS_URL: `http://127.0.0.1:${organizations.port}/graphql`,
          COMMITMENTS_URL: `http://127.0.0.1:${commitments.port}/graphql`,
          BUDGETS_URL: `${budgetsBalancer.origin}/graphql`,
        }),
      );
    // The second budgets replica and both gateways start together (the first budgets replica serves meanwhile).
    const [secondBudgets, ...gateways] = await Promise.all([
      ready(startBudgets(1)),
      ready(startGateway(0)),
      ready(startGateway(1)),
    ]);
    budgetsBalancer.add(secondBudgets.port);
    const budgets = [firstBudgets, secondBudgets];
    const gatewayBalancer = await Balancer.start();
    balancers.push(gatewayBalancer);
    for (const g of gateways) gatewayBalancer.add(g.port);
    for (const r of budgets) await budgetsBalancer.whenReady(r.port, READY_WITHIN_MS);
    for (const r of gateways) await gatewayBalancer.whenReady(r.port, READY_WITHIN_MS);
    return {
      gatewayBalancer,
      budgetsBalancer,
      url: `${gatewayBalancer.origin}/graphql`,
      gateways,
      budgets,
      rollGateways: (preStopMs, requireInFlight) =>
        roll(gatewayBalancer, gateways, startGateway, preStopMs, requireInFlight),
      rollBudgets: (preStopMs, requireInFlight) =>
        roll(budgetsBalancer, budgets, startBudgets, preStopMs, requireInFlight),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** SIGTERM to every process still running, SIGKILL to any still running 15 s later. */
async function stopProcesses(all: ServiceProcess[]) {
  for (const p of all) if (p.alive()) p.child.kill('SIGTERM');
  await Promise.all(
    all.map((p) =>
      Promise.race([
        p.exited,
        new Promise<void>((r) =>
          setTimeout(() => {
            if (p.alive()) p.child.kill('SIGKILL');
            r();
          }, 15_000).unref(),
        ),
      ]),
    ),
  );
}

/** What one roll under load recorded. */
export interface RollRun {
  readonly what: 'gateway' | 'budgets';
  readonly preStopMs: number;
  /** performance.now() when the load started: the balancer's records from then on are this run's. */
  readonly startedAt: number;
  readonly samples: Sample[];
  readonly sent: number;
  readonly replacements: Replacement[];
  /** The balancer the replaced replicas were behind: how each request in flight at a SIGTERM ended. */
  readonly balancer: Balancer;
}

/**
 * Runs a load of `concurrency` clients through the gateways' balancer, `warmMs`, then the roll of `what`, then
 * `afterMs` more, and stops the load (waiting for every request in flight).
 */
export async function rollUnderLoad(
  sys: RollingSystem,
  what: 'gateway' | 'budgets',
  expected: Map<MixQuery, unknown>,
  o: {
    concurrency: number;
    warmMs: number;
    afterMs: number;
    preStopMs: number;
    /** SIGTERM only while a query is in flight on the replica (default true). */
    requireInFlight?: boolean;
  },
): Promise<RollRun> {
  const startedAt = performance.now();
  const load = new Load(sys.url, expected, o.concurrency);
  try {
    await sleep(o.warmMs);
    const replacements =
      what === 'gateway'
        ? await sys.rollGateways(o.preStopMs, o.requireInFlight)
        : await sys.rollBudgets(o.preStopMs, o.requireInFlight);
    await sleep(o.afterMs);
    const samples = await load.stop();
    const balancer = what === 'gateway' ? sys.gatewayBalancer : sys.budgetsBalancer;
    return { what, preStopMs: o.preStopMs, startedAt, samples, sent: load.sent, replacements, balancer };
  } finally {
    await load.stop();
  }
}

/** The figures of a roll: counts, the requests in flight at each SIGTERM and how they ended, latency, drain. */
export function rollFigures(run: RollRun) {
  const count = (keys: string[]) =>
    keys.reduce<Record<string, number>>((acc, k) => ((acc[k] = (acc[k] ?? 0) + 1), acc), {});
  const first = run.replacements[0]?.termAt ?? 0;
  const last = run.replacements[run.replacements.length - 1]?.replacedAt ?? 0;
  const during = run.samples.filter((s) => s.answeredAt >= first && s.sentAt <= last);
  // This run's requests only: the balancers outlive a run.
  const forwarded = [...run.balancer.forwarded.values()].filter((f) => f.receivedAt >= run.startedAt);
  const latencies = during.map((s) => s.answeredAt - s.sentAt).sort((a, b) => a - b);
  return {
    what: run.what,
    preStopMs: run.preStopMs,
    sent: run.sent,
    answered: run.samples.filter((s) => s.outcome !== 'lost').length,
    byStatus: count(run.samples.map((s) => String(s.status))),
    byOutcome: count(run.samples.map((s) => s.outcome)),
    errorsByCode: count(run.samples.flatMap((s) => s.codes)),
    rollMs: Math.round(last - first),
    duringRoll: {
      requests: during.length,
      maxLatencyMs: Math.round(latencies[latencies.length - 1] ?? 0),
      medianLatencyMs: Math.round(latencies[Math.floor(latencies.length / 2)] ?? 0),
    },
    /** This run's requests through the balancer: sent on after a refused connection, failed (answered 502). */
    balancer: {
      forwarded: forwarded.length,
      sentOnAfterRefusal: forwarded.filter((f) => f.tried.length > 1).length,
      failed: forwarded.filter((f) => f.failure !== undefined).map((f) => f.failure!),
    },
    replicas: run.replacements.map((r) => {
      const ended = r.inFlightAtTerm.map((id) => run.balancer.forwarded.get(id)!);
      return {
        name: r.name,
        oldPort: r.oldPort,
        newPort: r.newPort,
        exit: r.exit.code ?? r.exit.signal,
        inFlightAtTerm: r.inFlightAtTerm.length,
        inFlightQueries: ended.filter((f) => f.method === 'POST').length,
        completed200: ended.filter((f) => f.status === 200).length,
        failed: ended.filter((f) => f.failure !== undefined).map((f) => f.failure!),
        /** SIGTERM to the last in-flight request's answer passed back whole. */
        lastInFlightDoneMs: Math.round(Math.max(0, ...ended.map((f) => (f.doneAt ?? Infinity) - r.termAt))),
        drainMs: Math.round(r.exitAt - r.termAt),
        drained: r.drained,
        replaceMs: Math.round(r.replacedAt - r.exitAt),
      };
    }),
  };
}
