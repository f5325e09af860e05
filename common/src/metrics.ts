import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestHandler } from 'express';
import { Kind, type DocumentNode } from 'graphql';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestContext } from './context';

/*
 * Prometheus metrics (issue 12). Each service (createService) has its own registry, every metric of it labelled
 * `service`, so that tests building many services in one process never meet prom-client's "already registered"
 * error, and `npm start`'s four services in one process stay apart. The process's own metrics (CPU, memory, event
 * loop, GC) are collected once per process, on a registry of their own, and served beside each service's.
 */

/** The most distinct operation names one process keeps as label values; any later name is counted as `other`. */
export const MAX_OPERATION_NAMES = 500;
/** Operation names are cut to this many characters. */
export const MAX_OPERATION_NAME_LENGTH = 64;

let processRegistry: Registry | undefined;
/** The process's metrics (process_*, nodejs_*), collected once whatever the number of services. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

// Per process, not per service: a client sending a new name with every request cannot grow any label set (the
// gateway passes the names on to the subgraphs of the same process) beyond MAX_OPERATION_NAMES.
const operationNames = new Set<string>();

/**
 * The `operation` label of a request: its operation's name, `anonymous` without one, cut to 64 characters, and
 * `other` once the process has seen MAX_OPERATION_NAMES names.
 */
export function operationLabel(name: string | null | undefined): string {
  if (!name) return 'anonymous';
  const cut = name.slice(0, MAX_OPERATION_NAME_LENGTH);
  if (operationNames.has(cut)) return cut;
  if (operationNames.size >= MAX_OPERATION_NAMES) return 'other';
  operationNames.add(cut);
  return cut;
}

/** The import runs of one importer with one status, added up (common/src/import/runs.ts importRunTotals). */
export interface ImportRunTotals {
  importer: string;
  status: string;
  runs: number;
  committedRows: number;
  refusedRows: number;
  /** The latest `finished_at` (ISO 8601), null when none has finished. */
  lastFinishedAt: string | null;
}

const REACHED = Symbol('civic.reachedGraphQL');
type Marked = { [REACHED]?: true };

/** Marks a request as handed to Apollo (its plugin counts it): call it where the request's context is built. */
export function markReachedGraphQL(req: object): void {
  (req as Marked)[REACHED] = true;
}

/** What a GraphQL request came to: answered, answered with errors, or refused before it ran (client errors). */
export type Outcome = 'ok' | 'error' | 'refused';

/**
 * What a response says of its request (`executed`: whether execution started). Refused: a client error before
 * anything ran (unparsable, invalid, over a limit, rate-limited). Also the `civic.outcome` of its span.
 */
export function outcomeOf(
  response: { http: { status?: number }; body: { kind: string; singleResult?: { errors?: unknown } } },
  executed: boolean,
): Outcome {
  const status = response.http.status ?? 200;
  const errors = response.body.kind === 'single' && !!response.body.singleResult?.errors;
  const failed = errors || status >= 400;
  return !failed ? 'ok' : !executed && status < 500 ? 'refused' : 'error';
}

/** One service's metrics: its registry and the request metrics every service has. */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'operation' | 'outcome'>;
  readonly duration: Histogram<'operation' | 'outcome'>;
  /** GraphQL POSTs run without Express (common/src/front-graphql.ts). */
  readonly front: Counter;
  private sql?: Histogram<'outcome'>;
  /** Called as a scrape starts (see {@link scrape}): what a metric read once per scrape forgets. */
  readonly beforeScrape: (() => void)[] = [];

  constructor(readonly service: string) {
    this.registry.setDefaultLabels({ service });
    this.requests = new Counter({
      name: 'graphql_requests_total',
      help: 'GraphQL operations answered, by operation name and outcome (ok, error, refused before execution)',
      labelNames: ['operation', 'outcome'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'graphql_request_duration_seconds',
      help: 'Time from receiving a GraphQL operation to sending its answer, by operation name and outcome',
      labelNames: ['operation', 'outcome'],
      registers: [this.registry],
    });
    this.front = new Counter({
      name: 'graphql_requests_front_total',
      help: 'GraphQL POSTs handed to Apollo without Express (GRAPHQL_FRONT); the others went through Express',
      registers: [this.registry],
    });
  }

  /** Records one SQL statement (a subgraph's data source calls it; the histogram exists once one is timed). */
  statement(seconds: number, failed: boolean): void {
    this.sql ??= new Histogram({
      name: 'sql_statement_duration_seconds',
      help: 'Time of each SQL statement a subgraph sends to its database, by outcome (ok, error)',
      labelNames: ['outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    this.sql.observe({ outcome: failed ? 'error' : 'ok' }, seconds);
  }

  /**
   * Gauges of a MySQL connection pool's use, read at each scrape: connections open, idle, callers waiting for one,
   * and the pool's size. `read` gives undefined when there is no pool to read (SQLite): no samples then.
   */
  pool(read: () => { open: number; idle: number; waiting: number; max: number } | undefined): void {
    const gauge = (name: string, help: string, pick: (u: NonNullable<ReturnType<typeof read>>) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.reset();
          const use = read();
          if (use) this.set(pick(use));
        },
      });
    gauge(
      'sql_pool_connections_open',
      'Connections the MySQL pool holds open (busy and idle)',
      (u) => u.open,
    );
    gauge('sql_pool_connections_idle', 'Open connections of the MySQL pool not in use', (u) => u.idle);
    gauge('sql_pool_waiting', 'Statements waiting for a connection of the MySQL pool', (u) => u.waiting);
    gauge('sql_pool_connections_max', 'The most connections the MySQL pool may open', (u) => u.max);
  }

  /**
   * Counts and times the GraphQL requests refused before Apollo saw them (createService's `refusedBefore`
   * middleware): a body that is not JSON or too large, a bad signature, an unknown API key, a persisted-query
   * refusal. Outcome `refused` below 500, `error` from 500; the operation is the name the client gave, if any.
   */
  refusedBeforeGraphQL(operationName: unknown, status: number, seconds: number): void {
    const labels = {
      operation: operationLabel(typeof operationName === 'string' ? operationName : undefined),
      outcome: (status >= 500 ? 'error' : 'refused') as Outcome,
    };
    this.requests.inc(labels);
    this.duration.observe(labels, seconds);
  }

  /**
   * Express middleware, mounted ahead of everything: a request to the GraphQL path that ends with a status of
   * 400 or more without reaching Apollo (see {@link markReachedGraphQL}) is counted by
   * {@link refusedBeforeGraphQL}, so a refusal at the door shows in `graphql_requests_total` as one in Apollo does.
   */
  refusedBefore(): RequestHandler {
    return (req, res, next) => {
      if (req.path !== '/graphql' && req.path !== '/') return next();
      const started = process.hrtime.bigint();
      res.once('finish', () => {
        if (res.statusCode < 400 || (req as Marked)[REACHED]) return;
        const body = req.body as { operationName?: unknown } | undefined;
        const name = body && typeof body === 'object' ? body.operationName : req.query?.operationName;
        this.refusedBeforeGraphQL(name, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9);
      });
      next();
    };
  }

  /**
   * The imports into this subgraph's tables, read at each scrape from its `import_runs` table (common/src/import/
   * runs.ts): imports run as one-shot commands (`npm run import`, the seed), so what they did is kept where they
   * wrote, not in a process that is gone. `read` gives one row per importer and status; a failed read (the
   * database away) gives no samples rather than zeros.
   */
  imports(read: () => Promise<ImportRunTotals[]>): void {
    // One read per scrape, whichever of the three gauges asks first (prom-client collects them together).
    let last: Promise<ImportRunTotals[] | undefined> | undefined;
    this.beforeScrape.push(() => (last = undefined));
    const rows = () => (last ??= read().catch(() => undefined));
    const gauge = (
      name: string,
      help: string,
      labelNames: string[],
      fill: (g: Gauge<string>, r: ImportRunTotals) => void,
    ) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [this.registry],
        async collect() {
          this.reset();
          const all = await rows();
          for (const r of all ?? []) fill(this, r);
        },
      });
    gauge(
      'import_runs',
      'Import runs into this subgraph, by importer and status (running, completed, failed, refused, abandoned)',
      ['importer', 'status'],
      (g, r) => g.set({ importer: r.importer, status: r.status }, r.runs),
    );
    gauge(
      'import_rows',
      'Rows the import runs committed (written or found unchanged) and refused, by importer and outcome',
      ['importer', 'outcome'],
      (g, r) => {
        g.inc({ importer: r.importer, outcome: 'committed' }, r.committedRows);
        g.inc({ importer: r.importer, outcome: 'refused' }, r.refusedRows);
      },
    );
    gauge(
      'import_last_completed_timestamp_seconds',
      'When the last completed import run of each importer finished (Unix time)',
      ['importer'],
      (g, r) => {
        if (r.status !== 'completed' || r.lastFinishedAt === null) return;
        g.set({ importer: r.importer }, Date.parse(r.lastFinishedAt) / 1000);
      },
    );
  }

  /** The Apollo plugin that counts and times every operation (mounted first by createService). */
  plugin(): ApolloServerPlugin<RequestContext> {
    return {
      requestDidStart: async () => {
        const started = process.hrtime.bigint();
        let executed = false;
        return {
          executionDidStart: async () => {
            executed = true;
          },
          willSendResponse: async (ctx) => {
            const labels = {
              operation: operationLabel(nameOf(ctx)),
              outcome: outcomeOf(ctx.response, executed),
            };
            this.requests.inc(labels);
            this.duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
          },
        };
      },
    };
  }
}

/**
 * The operation's name: the one resolved, else the one the client asked for, else (refused before it was
 * resolved: invalid) the name of the document's only operation.
 */
function nameOf(ctx: {
  operationName?: string | null;
  request: { operationName?: string | null };
  document?: DocumentNode;
}): string | null | undefined {
  const named = ctx.operationName ?? ctx.request.operationName;
  if (named) return named;
  const operations = ctx.document?.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION) ?? [];
  return operations.length === 1 ? operations[0].name?.value : undefined;
}

/** The Prometheus text of these services' registries and of the process's metrics. */
export async function scrape(
  services: Iterable<ServiceMetrics>,
): Promise<{ contentType: string; text: string }> {
  for (const s of services) for (const forget of s.beforeScrape) forget();
  const registries = [processMetrics(), ...[...services].map((s) => s.registry)];
  const texts = await Promise.all(registries.map((r) => r.metrics()));
  return { contentType: processMetrics().contentType, text: mergeExpositions(texts) };
}

/**
 * Joins Prometheus texts into one: several services in one process (npm start on one METRICS_PORT) have metrics
 * of the same name, apart by their `service` label, and the format wants one HELP and TYPE per name, its samples
 * together. (prom-client's Registry.merge refuses the same name twice, and drops each registry's default labels.)
 */
function mergeExpositions(texts: string[]): string {
  const byName = new Map<string, { header: string[]; samples: string[] }>();
  for (const text of texts) {
    let current: { header: string[]; samples: string[] } | undefined;
    for (const line of text.split('\n')) {
      if (!line) continue;
      const comment = /^# (HELP|TYPE) (\S+)/.exec(line);
      if (comment) {
        const name = comment[2];
        current = byName.get(name);
        const fresh = !current;
        if (!current) byName.set(name, (current = { header: [], samples: [] }));
        if (fresh || current.header.length < 2) {
          if (!current.header.some((h) => h.startsWith(`# ${comment[1]} `))) current.header.push(line);
        }
        continue;
      }
      current?.samples.push(line);
    }
  }
  let out = '';
  for (const { header, samples } of byName.values()) out += [...header, ...samples].join('\n') + '\n';
  return out;
}

/** `GET /metrics` for one service's port. */
export function metricsRoute(metrics: ServiceMetrics): RequestHandler {
  return (_req, res, next) => {
    scrape([metrics]).then(({ contentType, text }) => {
      res.setHeader('content-type', contentType);
      res.setHeader('cache-control', 'no-store');
      res.end(text);
    }, next);
  };
}

/**
 * The metrics port of the process (METRICS_PORT): one HTTP server per port number serving the metrics of every
 * service of the process that asked for it (`npm start`'s four on one port). Port 0 (any free port, for tests)
 * gives each service a server of its own.
 */
interface MetricsServer {
  http: Server;
  services: Set<ServiceMetrics>;
  port: number;
}
const metricsServers = new Map<number, MetricsServer>();

/** Starts serving a service's metrics on `port` (joining the process's server there); resolves with its port. */
export async function serveMetrics(
  metrics: ServiceMetrics,
  port: number,
  host?: string,
): Promise<{ port: number; close: () => Promise<void> }> {
  let server = port === 0 ? undefined : metricsServers.get(port);
  if (!server) {
    const services = new Set<ServiceMetrics>();
    const http = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (req.method !== 'GET' || path !== '/metrics') {
        res.statusCode = 404;
        res.setHeader('content-type', 'application/json');
        return void res.end(
          JSON.stringify({
            errors: [{ message: 'Only GET /metrics is served here', extensions: { code: 'NOT_FOUND' } }],
          }),
        );
      }
      scrape(services).then(
        ({ contentType, text }) => {
          res.setHeader('content-type', contentType);
          res.setHeader('cache-control', 'no-store');
          res.end(text);
        },
        () => {
          res.statusCode = 500;
          res.end();
        },
      );
    });
    const s: MetricsServer = { http, services, port };
    if (port !== 0) metricsServers.set(port, s);
    await new Promise<void>((resolve, reject) => {
      http.once('error', (err) => {
        if (metricsServers.get(port) === s) metricsServers.delete(port);
        reject(err);
      });
      http.listen(port, host, () => resolve());
    });
    s.port = (http.address() as AddressInfo).port;
    server = s;
  }
  const s = server;
  s.services.add(metrics);
  return {
    port: s.port,
    // The last service of the port to stop closes it.
    close: async () => {
      s.services.delete(metrics);
      if (s.services.size > 0) return;
      if (metricsServers.get(port) === s) metricsServers.delete(port);
      s.http.closeAllConnections();
      if (s.http.listening) await new Promise<void>((r) => s.http.close(() => r()));
    },
  };
}

// ---- The gateway's own metrics: its calls to the subgraphs, their circuits, its response cache ----

/** What the gateway's metrics read at scrape time from a live data source (gateway/src/subgraph-source.ts). */
export interface ObservedSubgraph {
  readonly circuit: 'closed' | 'open' | 'half-open';
  readonly counts: { readonly shared: number };
  /** Calls of a plan merged with others into one request (SUBGRAPH_BATCH). */
  readonly batches: { readonly calls: number };
}

/** The observations a subgraph data source reports (SubgraphDataSource's `metrics` option). */
export interface SubgraphCallMetrics {
  /** One call of a query plan: its time and outcome (`ok`, or the error's code). */
  fetched(subgraph: string, seconds: number, code: string | null): void;
}

const CIRCUIT = { closed: 0, 'half-open': 1, open: 2 } as const;

/**
 * Registers the gateway's metrics on its registry: subgraph fetch latency and errors, circuit states and shared
 * calls of `sources` (the data sources of the supergraph loaded now, read at each scrape), and the response
 * cache's counters from `cacheStats` (read at each scrape).
 */
export function gatewayMetrics(
  metrics: ServiceMetrics,
  live: {
    sources: () => Iterable<[string, ObservedSubgraph]>;
    cacheStats?: () => Record<string, number>;
    /** Answers shared from an identical query's execution in flight (OPERATION_DEDUPLICATE). */
    operationsShared?: () => number;
  },
): SubgraphCallMetrics {
  const registers = [metrics.registry];
  const fetches = new Histogram({
    name: 'subgraph_fetch_duration_seconds',
    help: 'Time of each call the gateway makes to a subgraph, by subgraph and outcome (ok, error)',
    labelNames: ['subgraph', 'outcome'],
    registers,
  });
  const errors = new Counter({
    name: 'subgraph_fetch_errors_total',
    help: 'Calls to a subgraph that failed, by subgraph and error code (SUBGRAPH_TIMEOUT, SUBGRAPH_UNAVAILABLE...)',
    labelNames: ['subgraph', 'code'],
    registers,
  });
  new Gauge({
    name: 'subgraph_circuit_state',
    help: "Each subgraph's circuit breaker: 0 closed, 1 half-open, 2 open",
    labelNames: ['subgraph'],
    registers,
    collect() {
      this.reset();
      for (const [name, source] of live.sources()) this.set({ subgraph: name }, CIRCUIT[source.circuit]);
    },
  });
  // A counter read from the data sources: a source rebuilt with a new supergraph starts again from 0, which
  // Prometheus' rate() reads as a counter reset.
  new Counter({
    name: 'subgraph_calls_shared_total',
    help: 'Requests answered by a call already in flight for an identical query (deduplication), by subgraph',
    labelNames: ['subgraph'],
    registers,
    collect() {
      this.reset();
      for (const [name, source] of live.sources()) this.inc({ subgraph: name }, source.counts.shared);
    },
  });
  new Counter({
    name: 'subgraph_calls_batched_total',
    help: "Calls of a query plan sent merged with the plan's other parallel calls to the same subgraph, by subgraph",
    labelNames: ['subgraph'],
    registers,
    collect() {
      this.reset();
      for (const [name, source] of live.sources()) this.inc({ subgraph: name }, source.batches.calls);
    },
  });
  const operationsShared = live.operationsShared;
  if (operationsShared) {
    new Counter({
      name: 'graphql_operations_shared_total',
      help: "Queries answered from an identical query's execution in flight at the same moment (OPERATION_DEDUPLICATE)",
      registers,
      collect() {
        this.reset();
        this.inc(operationsShared());
      },
    });
  }
  const cacheStats = live.cacheStats;
  if (cacheStats) {
    // Each operation once: hit, miss or bypass (never looked up); `stale` and `writes` are counted apart, since
    // a stale entry is also a miss and a write follows a miss.
    const counted = (name: string, help: string, read: (s: Record<string, number>) => [string, number][]) =>
      new Counter({
        name,
        help,
        labelNames: name === 'response_cache_requests_total' ? ['result'] : [],
        registers,
        collect() {
          this.reset();
          for (const [result, n] of read(cacheStats())) this.inc(result ? { result } : {}, n);
        },
      });
    counted(
      'response_cache_requests_total',
      'Operations the response cache answered (hit), looked up in vain (miss) or never looked up (bypass)',
      (s) => [
        ['hit', s.hits ?? 0],
        ['miss', s.misses ?? 0],
        ['bypass', s.bypasses ?? 0],
      ],
    );
    counted('response_cache_stale_total', 'Misses that found an entry of data changed since', (s) => [
      ['', s.stale ?? 0],
    ]);
    counted('response_cache_writes_total', 'Answers written to the response cache', (s) => [
      ['', s.writes ?? 0],
    ]);
    counted(
      'response_cache_early_hits_total',
      'Of the hits: those answered before Express and Apollo, as the request arrived',
      (s) => [['', s.early ?? 0]],
    );
  }
  return {
    fetched(subgraph, seconds, code) {
      fetches.observe({ subgraph, outcome: code ? 'error' : 'ok' }, seconds);
      if (code) errors.inc({ subgraph, code });
    },
  };
}
