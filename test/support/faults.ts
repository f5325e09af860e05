import { isDeepStrictEqual } from 'node:util';
import type { ProcessSystem } from './processes';

/**
 * A bounded load of mixed queries on the gateway, and the two faults of the budgets subgraph it runs through
 * (issue 12, "Faults, tested with numbers"): killed (SIGKILL, then started again on its port) and stuck
 * (SIGSTOP, then SIGCONT). test/e2e/faults.test.ts asserts the properties on what this records;
 * test/bench/faults.bench.ts prints the figures.
 */

/** The codes a gateway error may carry for a subgraph that is down, stuck or paused by its circuit. */
export const OUTAGE_CODES = ['SUBGRAPH_UNAVAILABLE', 'SUBGRAPH_TIMEOUT', 'SUBGRAPH_CIRCUIT_OPEN'];

/** What an error sent to a client must never hold: an address, a port, a socket error. */
export const INTERNAL_DETAIL =
  /127\.0\.0\.1|localhost|::1|ECONN|EPIPE|ETIMEDOUT|socket|:\d{2,5}\b|https?:\/\//i;

/** One query of the mix: the paths of the fields the budgets subgraph answers (none: it never calls budgets). */
export interface MixQuery {
  readonly name: string;
  readonly query: string;
  readonly budgetFields: readonly (readonly string[])[];
}

export const MIX: readonly MixQuery[] = [
  {
    name: 'organization (organizations, commitments)',
    query: `{ organization(id: "gov-ma") { id name kind commitments(first: 3) { totalCount nodes { id title } } actionPlans { id } } }`,
    budgetFields: [],
  },
  {
    name: 'commitment (commitments, organizations)',
    query: `{ commitment(id: "MO0012") { id title leadOrganization { id name } actionPlan { id member { name } } } }`,
    budgetFields: [],
  },
  {
    name: 'organization with budgets',
    query: `{ organization(id: "tn-municipality-34012") { id name budgets { id fiscalYear } budgetSummary(groupBy: []) { currency lineCount } commitments { totalCount } } }`,
    budgetFields: [
      ['organization', 'budgets'],
      ['organization', 'budgetSummary'],
    ],
  },
  {
    name: 'commitment with funding',
    query: `{ commitment(id: "MO0012") { id title funding { phase } budgetLines { id } budgetLinks { share } } }`,
    budgetFields: [
      ['commitment', 'funding'],
      ['commitment', 'budgetLines'],
      ['commitment', 'budgetLinks'],
    ],
  },
  {
    name: 'budget (budgets, organizations)',
    query: `{ budget(id: "tn-34012-2018") { id fiscalYear organization { name } } }`,
    budgetFields: [['budget']],
  },
];

interface GraphQLError {
  message?: string;
  extensions?: { code?: string; serviceName?: string };
}

/**
 * How an answer compares with the query's answer before the fault: `full` (the same data, no error),
 * `partial` (the budgets fields null, everything else the same, every error naming the budgets subgraph with
 * an outage code and no internal detail), `wrong` (anything else), `lost` (no HTTP answer at all).
 */
export type Outcome = 'full' | 'partial' | 'wrong' | 'lost';

export interface Sample {
  readonly query: MixQuery;
  /** performance.now() when sent and when its answer was read whole. */
  readonly sentAt: number;
  readonly answeredAt: number;
  /** HTTP status; 0 when no answer came (`lost`). */
  readonly status: number;
  readonly outcome: Outcome;
  /** `extensions.code` of each error (`NONE` for an error without one). */
  readonly codes: readonly string[];
  /** Why it is `wrong` or `lost`. */
  readonly problem?: string;
}

async function post(url: string, query: string, timeoutMs: number) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  return { status: res.status, text };
}

/** The answers of the mix with every subgraph up: what full answers must equal. */
export async function baseline(url: string): Promise<Map<MixQuery, unknown>> {
  const answers = new Map<MixQuery, unknown>();
  for (const q of MIX) {
    const { status, text } = await post(url, q.query, 30_000);
    const body = JSON.parse(text) as { data?: unknown; errors?: unknown };
    if (status !== 200 || body.errors || !body.data) {
      throw new Error(`the baseline of "${q.name}" is not a full answer: ${status} ${text}`);
    }
    answers.set(q, body.data);
  }
  return answers;
}

/** `data` with the value at each of `paths` replaced by null (a copy). */
function nulled(data: unknown, paths: readonly (readonly string[])[]): unknown {
  // A JSON copy, not structuredClone: under jest that makes objects of another realm, never deeply equal.
  const copy = JSON.parse(JSON.stringify(data)) as Record<string, unknown>;
  for (const path of paths) {
    let at: Record<string, unknown> | null = copy;
    for (const key of path.slice(0, -1)) at = (at?.[key] as Record<string, unknown> | null) ?? null;
    if (at) at[path[path.length - 1]] = null;
  }
  return copy;
}

/** Classifies one answer (see {@link Outcome}). */
export function classify(
  q: MixQuery,
  expected: unknown,
  status: number,
  text: string,
): { outcome: Outcome; codes: string[]; problem?: string } {
  let body: { data?: unknown; errors?: GraphQLError[] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return { outcome: 'wrong', codes: [], problem: `HTTP ${status}, not JSON: ${text.slice(0, 200)}` };
  }
  const errors = body.errors ?? [];
  const codes = errors.map((e) => e.extensions?.code ?? 'NONE');
  const wrong = (problem: string) => ({ outcome: 'wrong' as const, codes, problem });
  if (status !== 200) return wrong(`HTTP ${status}: ${text.slice(0, 300)}`);
  if (errors.length === 0) {
    return isDeepStrictEqual(body.data, expected)
      ? { outcome: 'full', codes }
      : wrong(`data differs without an error: ${text.slice(0, 300)}`);
  }
  for (const e of errors) {
    if (e.extensions?.serviceName !== 'budgets' || !OUTAGE_CODES.includes(e.extensions.code ?? '')) {
      return wrong(`an error that does not name the budgets outage: ${JSON.stringify(e)}`);
    }
    if (INTERNAL_DETAIL.test(JSON.stringify(e)))
      return wrong(`an error with internal detail: ${JSON.stringify(e)}`);
  }
  if (q.budgetFields.length === 0)
    return wrong(`an error on a query that needs no budgets: ${text.slice(0, 300)}`);
  return isDeepStrictEqual(body.data, nulled(expected, q.budgetFields))
    ? { outcome: 'partial', codes }
    : wrong(`partial data is not the full data with the budgets fields null: ${text.slice(0, 300)}`);
}

/** A running load: `concurrency` clients, each sending the mix in turn, one request at a time, until stopped. */
export class Load {
  readonly samples: Sample[] = [];
  sent = 0;
  private running = true;
  private readonly workers: Promise<void>[];
  private readonly watchers = new Set<() => void>();

  constructor(
    private readonly url: string,
    private readonly expected: Map<MixQuery, unknown>,
    concurrency: number,
    /** How long a client waits for one answer before counting it lost. */
    private readonly requestTimeoutMs = 30_000,
  ) {
    this.workers = Array.from({ length: concurrency }, (_, i) => this.worker(i));
  }

  private async worker(offset: number) {
    for (let i = offset; this.running; i++) {
      const q = MIX[i % MIX.length];
      const sentAt = performance.now();
      this.sent++;
      let sample: Sample;
      try {
        const { status, text } = await post(this.url, q.query, this.requestTimeoutMs);
        sample = {
          query: q,
          sentAt,
          answeredAt: performance.now(),
          status,
          ...classify(q, this.expected.get(q), status, text),
        };
      } catch (err) {
        sample = {
          query: q,
          sentAt,
          answeredAt: performance.now(),
          status: 0,
          outcome: 'lost',
          codes: [],
          problem: String(err),
        };
      }
      this.samples.push(sample);
      for (const w of [...this.watchers]) w();
    }
  }

  /**
   * Resolves with the first sample recorded from index `from` on (default: from now on) that satisfies `test`;
   * rejects after `withinMs`.
   */
  next(test: (s: Sample) => boolean, withinMs: number, from = this.samples.length): Promise<Sample> {
    return new Promise((resolve, reject) => {
      let seen = from;
      const watch = () => {
        for (; seen < this.samples.length; seen++) {
          if (test(this.samples[seen])) {
            done();
            resolve(this.samples[seen]);
            return;
          }
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no such answer within ${withinMs} ms`));
      }, withinMs);
      const done = () => {
        clearTimeout(timer);
        this.watchers.delete(watch);
      };
      this.watchers.add(watch);
      watch();
    });
  }

  /** Stops sending and waits for every request in flight to be answered (or counted lost). */
  async stop(): Promise<Sample[]> {
    this.running = false;
    await Promise.all(this.workers);
    return this.samples;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What one fault run recorded: the samples and the moments (performance.now()) of the fault. */
export interface FaultRun {
  readonly kind: 'killed' | 'stuck';
  readonly samples: Sample[];
  readonly sent: number;
  /** SIGKILL or SIGSTOP sent. */
  readonly faultAt: number;
  /** Killed: the restarted process's "ready at" line read (it listens). Stuck: SIGCONT sent. */
  readonly backAt: number;
  /** The first full answer of a query that needs budgets, answered after `backAt`. */
  readonly recoveredAt: number;
  /** Killed: when the new process was started (`backAt` minus this is its start-up time). */
  readonly restartAt?: number;
}

export interface FaultOptions {
  concurrency: number;
  /** Load before the fault, during it (killed: before the restart starts), and after recovery. */
  warmMs: number;
  faultMs: number;
  afterMs: number;
  /** How long recovery may take at most before the run fails. */
  recoveryWithinMs: number;
}

/**
 * Kills the budgets subgraph (SIGKILL) under load, lets the load run `faultMs` without it, starts it again on
 * its port and storage, and waits for the first full answer of a query that needs it.
 */
export async function killedUnderLoad(sys: ProcessSystem, expected: Map<MixQuery, unknown>, o: FaultOptions) {
  const load = new Load(sys.gatewayUrl, expected, o.concurrency);
  try {
    await sleep(o.warmMs);
    const faultAt = performance.now();
    sys.services.budgets.child.kill('SIGKILL');
    await sys.services.budgets.exited;
    await sleep(o.faultMs);
    const from = load.samples.length;
    const restartAt = performance.now();
    const restarted = await sys.restart('budgets');
    const backAt = restarted.readyAt()!;
    // From the samples of the restart on: the process listens a moment before its "ready at" line is read.
    const first = await load.next(
      (s) => s.query.budgetFields.length > 0 && s.outcome === 'full',
      o.recoveryWithinMs,
      from,
    );
    await sleep(o.afterMs);
    const samples = await load.stop();
    const run: FaultRun = {
      kind: 'killed',
      samples,
      sent: load.sent,
      faultAt,
      backAt,
      recoveredAt: first.answeredAt,
      restartAt,
    };
    return run;
  } finally {
    await load.stop();
  }
}

/** Stops the budgets subgraph (SIGSTOP) under load for `faultMs`, continues it, and waits for a full answer. */
export async function stuckUnderLoad(sys: ProcessSystem, expected: Map<MixQuery, unknown>, o: FaultOptions) {
  const load = new Load(sys.gatewayUrl, expected, o.concurrency);
  const budgets = sys.services.budgets;
  try {
    await sleep(o.warmMs);
    const faultAt = performance.now();
    budgets.child.kill('SIGSTOP');
    await sleep(o.faultMs);
    const backAt = performance.now();
    budgets.child.kill('SIGCONT');
    const first = await load.next(
      (s) => s.query.budgetFields.length > 0 && s.outcome === 'full' && s.sentAt >= backAt,
      o.recoveryWithinMs,
    );
    await sleep(o.afterMs);
    const samples = await load.stop();
    const run: FaultRun = {
      kind: 'stuck',
      samples,
      sent: load.sent,
      faultAt,
      backAt,
      recoveredAt: first.answeredAt,
    };
    return run;
  } finally {
    budgets.child.kill('SIGCONT');
    await load.stop();
  }
}

/** The figures of a run: counts by status, outcome and error code, latencies during the fault, recovery time. */
export function figures(run: FaultRun) {
  const count = (keys: string[]) =>
    keys.reduce<Record<string, number>>((acc, k) => ((acc[k] = (acc[k] ?? 0) + 1), acc), {});
  const during = run.samples.filter((s) => s.sentAt >= run.faultAt && s.sentAt < run.backAt);
  const latency = (ss: Sample[]) => ss.reduce((max, s) => Math.max(max, s.answeredAt - s.sentAt), 0);
  const median = (ss: Sample[]) => {
    const l = ss.map((s) => s.answeredAt - s.sentAt).sort((a, b) => a - b);
    return l.length ? l[Math.floor(l.length / 2)] : 0;
  };
  const needs = (s: Sample) => s.query.budgetFields.length > 0;
  return {
    kind: run.kind,
    sent: run.sent,
    answered: run.samples.filter((s) => s.outcome !== 'lost').length,
    byStatus: count(run.samples.map((s) => String(s.status))),
    byOutcome: count(run.samples.map((s) => s.outcome)),
    errorsByCode: count(run.samples.flatMap((s) => s.codes)),
    duringFault: {
      requests: during.length,
      byOutcome: count(during.map((s) => s.outcome)),
      maxLatencyMs: Math.round(latency(during)),
      maxLatencyWithoutBudgetsMs: Math.round(latency(during.filter((s) => !needs(s)))),
      medianLatencyWithoutBudgetsMs: Math.round(median(during.filter((s) => !needs(s)))),
    },
    faultMs: Math.round(run.backAt - run.faultAt),
    /** Killed: from starting the new process to its "ready at" line (null when stuck). */
    startupMs: run.restartAt === undefined ? null : Math.round(run.backAt - run.restartAt),
    // Never below 0: a full answer read in the moment between listening and the "ready at" line counts as 0.
    recoveryMs: Math.max(0, Math.round(run.recoveredAt - run.backAt)),
  };
}
