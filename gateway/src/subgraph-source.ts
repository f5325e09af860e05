import { RemoteGraphQLDataSource } from '@apollo/gateway';
import {
  BrokenCircuitError,
  CircuitState,
  CountBreaker,
  circuitBreaker,
  handleWhen,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { GraphQLError } from 'graphql';
import {
  responseBudget,
  subgraphTimeoutMs,
  subgraphTransport,
  type ResponseBudgetLimits,
} from '@civic/common/config';
import {
  CLIENT_GONE_CODE,
  REQUEST_ID_HEADER,
  REQUEST_TIMEOUT_CODE,
  abortError,
  clientGoneError,
  currentRequestId,
  type RequestContext,
} from '@civic/common/context';
import { logger } from '@civic/common/log';
import type { SubgraphCallMetrics } from '@civic/common/metrics';
import { SIGNATURE_HEADER, secretFor, sign } from '@civic/common/signing';
import { clientSpan, linkSpan, type ClientSpan } from '@civic/common/tracing';
import type { SpanContext } from '@opentelemetry/api';
import { mergeCalls, type MergedCall } from './batching';
import { spreadEntities, uniqueRepresentations, type UniqueRepresentations } from './representations';
import { SubgraphCallError, SubgraphHttp, type SubgraphAnswer } from './subgraph-http';

export { SubgraphCallError } from './subgraph-http';

/**
 * Apollo's `GraphQLDataSourceRequestKind.INCOMING_OPERATION`: the enum is declared in its types but not exported
 * from the package's entry point at run time.
 */
const INCOMING_OPERATION = 'incoming operation';

/** The default {@link SubgraphSourceOptions.maxResponseBytes}: 10 MiB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
/** The default {@link SubgraphSourceOptions.maxObjects}. */
export const DEFAULT_MAX_OBJECTS = 100_000;

/**
 * When a subgraph's circuit opens and how soon it is tried again. The defaults: open when at least half of
 * the last 10 calls failed (counted from the 5th call on, so 5 failures in a row open it), then let one probe
 * through after 1 s; the probe's success closes it, its failure opens it for another second.
 */
export interface BreakerOptions {
  /** The share of failed calls (0 to 1) in the window that opens the circuit. Default 0.5. */
  failureRatio?: number;
  /** How many of the last calls are counted. Default 10. */
  window?: number;
  /** The fewest calls counted before the circuit may open. Default 5. */
  minimumCalls?: number;
  /** How long the circuit stays open before one probe goes through, in milliseconds. Default 500. */
  halfOpenAfterMs?: number;
}

/** How the gateway reaches one subgraph, and how much it lets that subgraph cost a request. */
export interface SubgraphSourceOptions {
  /** The subgraph's name in the supergraph. */
  name: string;
  /** Its routing URL. */
  url: string;
  /**
   * How long one call may take, from sending to the last byte of the answer, in milliseconds. Default
   * SUBGRAPH_TIMEOUT_MS (5000). A call that takes longer is abandoned: its fields are null, with an error.
   */
  timeoutMs?: number;
  /** The most bytes one answer may have (after decompression); reading stops beyond it. Default 10 MiB. */
  maxResponseBytes?: number;
  /**
   * The most objects (entities and the objects inside them) one answer's `data` may hold. Default 100,000.
   * The gateway itself already refuses an `_entities` list longer than the representations it sent.
   */
  maxObjects?: number;
  /** Its signing secret; default SUBGRAPH_SECRET_<NAME> from the environment; null: calls are not signed. */
  secret?: string | null;
  breaker?: BreakerOptions;
  /** The most connections open to this subgraph at once; default SUBGRAPH_MAX_SOCKETS (64). */
  maxSockets?: number;
  /** Share identical queries in flight at once; default SUBGRAPH_DEDUPLICATE (true). Never mutations. */
  deduplicate?: boolean;
  /** Merge a plan's parallel calls to this subgraph into one request; default SUBGRAPH_BATCH (true). Never mutations. */
  batch?: boolean;
  /**
   * What one client request may receive from all its subgraph calls together (see {@link ResponseBudget});
   * default MAX_RESPONSE_BYTES and MAX_RESPONSE_NODES from the environment (16 MiB, 200,000 objects).
   */
  budget?: ResponseBudgetLimits;
  /** Where each call's time and outcome are told (the gateway's subgraph_fetch_* metrics); default nowhere. */
  metrics?: SubgraphCallMetrics;
}

/**
 * What one client request (one GraphQL operation: a page of an export is one) may receive from the subgraphs,
 * all its calls together: a query plan may make many calls, each under the per-call caps, and so receive far
 * more in all. Every call's reader charges the bytes as they arrive and the objects once parsed; once either
 * is spent the call under way is stopped and no later call of the request is made. Each is refused with
 * SUBGRAPH_RESPONSE_TOO_LARGE naming the budget (`extensions.budget`), its `limit` and what was `measured`.
 */
export class ResponseBudget {
  bytes = 0;
  nodes = 0;
  constructor(readonly limits: ResponseBudgetLimits) {}

  /** The budget that is spent, if one is. */
  get spent(): 'MAX_RESPONSE_BYTES' | 'MAX_RESPONSE_NODES' | null {
    if (this.bytes > this.limits.maxBytes) return 'MAX_RESPONSE_BYTES';
    if (this.nodes > this.limits.maxNodes) return 'MAX_RESPONSE_NODES';
    return null;
  }

  /** How many more objects fit. */
  get nodesLeft(): number {
    return Math.max(0, this.limits.maxNodes - this.nodes);
  }
}

/**
 * Each operation's budget, by its context value: Apollo Server gives every operation a shallow copy of the
 * request's context (`cloneObject` in its `internalExecuteOperation`), and the gateway hands that same copy to
 * every fetch of the operation's plan. So a budget is per operation: the pages of an export (many operations
 * on one HTTP request, bounded by EXPORT_MAX_BYTES and EXPORT_MAX_ROWS) each have their own.
 */
const budgets = new WeakMap<object, ResponseBudget>();

function budgetOf(context: object, limits: ResponseBudgetLimits): ResponseBudget {
  let budget = budgets.get(context);
  if (!budget) budgets.set(context, (budget = new ResponseBudget(limits)));
  return budget;
}

/**
 * The only headers a subgraph receives from the gateway (besides those of the transport, and `traceparent` and
 * `tracestate` of this call's span while traces are on): the request id, the client's language, the signature,
 * and what a GraphQL POST needs. Never the client's Authorization header,
 * cookies or anything else: a partner subgraph must not see a client's credentials.
 */
export const FORWARDED_HEADERS: readonly string[] = [
  'content-type',
  'accept',
  REQUEST_ID_HEADER,
  'accept-language',
  SIGNATURE_HEADER,
];

type ProcessOptions = Parameters<RemoteGraphQLDataSource<RequestContext>['process']>[0];
type ProcessResult = Awaited<ReturnType<RemoteGraphQLDataSource<RequestContext>['process']>>;

/** A call of a plan waiting, for the rest of the current tick, for other calls of the same plan to merge with. */
interface Queued {
  options: ProcessOptions;
  resolve(result: ProcessResult): void;
  reject(err: unknown): void;
}

const isQuery = (query: string | undefined) =>
  query !== undefined && !/^\s*(mutation|subscription)\b/.test(query);

/**
 * One call in flight to a subgraph and the client requests waiting for its answer: one, or several when
 * identical queries were asked at the same moment (deduplication). Each waiter charges the bytes to its own
 * request's budget as they arrive and leaves (refused) when its budget is spent or its client goes away; the
 * call itself is abandoned only when nobody waits for it any more.
 */
interface Flight {
  waiters: Set<Waiter>;
  /** Bytes announced or read so far, charged to a waiter that joins late. */
  bytes: number;
  /** Aborted with reason `unwanted` once the last waiter has left. */
  controller: AbortController;
  /** The span of the request that made the call (traces on): a request sharing it links to it. */
  origin?: SpanContext;
}

interface Waiter {
  budget?: ResponseBudget;
  /** Leaves the flight with this refusal (its budget spent), if it has not settled yet. */
  refuse(err: unknown): void;
  settle(result: { ok: true; answer: SubgraphAnswer } | { ok: false; err: unknown }): void;
}

/**
 * One subgraph as the gateway calls it: every subgraph, ours and partners', alike. What it sends: a POST of
 * the operation, signed when the subgraph has a secret, with only {@link FORWARDED_HEADERS}. What it bounds:
 * the time of a call, the size of the answer, the objects in it, and, with a circuit breaker, how often a
 * failing subgraph is called at all. Whatever goes wrong comes back as a GraphQL error naming the subgraph
 * (`extensions.serviceName`) with a stable `extensions.code` (SUBGRAPH_TIMEOUT, SUBGRAPH_UNAVAILABLE,
 * SUBGRAPH_CIRCUIT_OPEN, SUBGRAPH_RESPONSE_TOO_LARGE, SUBGRAPH_BAD_RESPONSE): the gateway then answers the
 * rest of the query, with this subgraph's fields null.
 *
 * Identical queries (same document, variables and language) to this subgraph in flight at the same moment are
 * sent once and the answer shared (SUBGRAPH_DEDUPLICATE; Apollo Router's `deduplicate_query`, Hive Gateway's
 * default): a dashboard shown on many screens costs the subgraph one call per refresh, not one per screen.
 * Mutations are never shared. Each request still parses its own copy (the gateway writes into what it
 * receives) and is bounded by its own budget. Within one call, repeated entity representations are sent once
 * and the answer spread back to each (gateway/src/representations.ts).
 *
 * The breaker and the connections live as long as this data source: the gateway builds one per subgraph each
 * time it loads a supergraph.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<RequestContext> {
  readonly name: string;
  private readonly timeoutMs: number;
  private readonly maxObjects: number;
  private readonly budget: ResponseBudgetLimits;
  private readonly secret: string | null;
  private readonly breaker: CircuitBreakerPolicy;
  private readonly log: typeof logger;
  private readonly http: SubgraphHttp;
  private readonly deduplicate: boolean;
  private readonly batch: boolean;
  private readonly flights = new Map<string, Flight>();
  /** Calls of a plan queued in the current tick, by the operation's context (one per client operation). */
  private readonly queued = new Map<object, Queued[]>();
  /** Merged operations this subgraph refused (its own limits), by {@link MergedCall.key}: sent apart from then on. */
  private readonly unmergeable = new Set<string>();
  private readonly metrics?: SubgraphCallMetrics;
  /** Calls answered to more than one request at once, and the requests that had a call of their own. */
  readonly counts = { shared: 0, sent: 0 };
  /** Entity representations not sent because the same call already held an identical one. */
  readonly representations = { repeated: 0 };
  /** Requests that carried several calls of one plan (`requests`), and the calls they carried (`calls`). */
  readonly batches = { requests: 0, calls: 0 };

  constructor(opts: SubgraphSourceOptions) {
    super({ url: opts.url });
    this.name = opts.name;
    this.metrics = opts.metrics;
    this.timeoutMs = opts.timeoutMs ?? subgraphTimeoutMs();
    this.maxObjects = opts.maxObjects ?? DEFAULT_MAX_OBJECTS;
    this.budget = opts.budget ?? responseBudget();
    this.secret = opts.secret === undefined ? secretFor(opts.name) : opts.secret;
    const transport = subgraphTransport();
    this.deduplicate = opts.deduplicate ?? transport.deduplicate;
    this.batch = opts.batch ?? transport.batch;
    this.http = new SubgraphHttp({
      name: opts.name,
      url: opts.url,
      timeoutMs: this.timeoutMs,
      maxResponseBytes: opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      maxSockets: opts.maxSockets ?? transport.maxSockets,
    });
    const b = opts.breaker ?? {};
    this.breaker = circuitBreaker(
      handleWhen((err) => err instanceof SubgraphCallError && err.trips),
      {
        halfOpenAfter: b.halfOpenAfterMs ?? 500,
        breaker: new CountBreaker({
          threshold: b.failureRatio ?? 0.5,
          size: b.window ?? 10,
          minimumNumberOfCalls: b.minimumCalls ?? 5,
        }),
      },
    );
    this.log = logger.child({ service: 'gateway', subgraph: opts.name });
    this.breaker.onBreak(() => this.log.warn('circuit open: calls to this subgraph are paused'));
    this.breaker.onReset(() => this.log.info('circuit closed: the subgraph answers again'));
  }

  /** The circuit's state ('closed', 'open', 'half-open'), for the gateway's metrics (issue 12). */
  get circuit(): 'closed' | 'open' | 'half-open' {
    const state = this.breaker.state;
    return state === CircuitState.Closed ? 'closed' : state === CircuitState.HalfOpen ? 'half-open' : 'open';
  }

  /**
   * The headers of a call: what the subgraphs must know about the request (its id, the client's language) and
   * what a GraphQL POST needs, and nothing else: no client credentials leak to a partner subgraph, whatever a
   * plugin put on the request before.
   */
  headersFor(
    request: { http?: { headers?: Iterable<[string, string]> } },
    context: Partial<RequestContext> | undefined,
  ): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const [name, value] of request.http?.headers ?? []) {
      const lower = name.toLowerCase();
      if (FORWARDED_HEADERS.includes(lower)) headers[lower] = value;
    }
    headers['content-type'] = 'application/json';
    headers.accept ??= 'application/json';
    if (context?.requestId) headers[REQUEST_ID_HEADER] = context.requestId;
    if (context?.acceptLanguage) headers['accept-language'] = context.acceptLanguage;
    return headers;
  }

  /** Closes the connections kept open to the subgraph (the gateway stopping, or replacing this data source). */
  close() {
    this.http.close();
  }

  /**
   * One call of a request's plan. Not made at all when the client has gone away (its context's `signal`) or
   * the request's {@link ResponseBudget} is spent; shared with identical queries in flight; abandoned for this
   * request when its client goes away (and for good when nobody else waits for it); its bytes charged to the
   * budget as they arrive and its objects once parsed.
   */
  override process(options: ProcessOptions): Promise<ProcessResult> {
    const context = options.context as object | undefined;
    if (
      !this.batch ||
      !context ||
      (options.kind as string) !== INCOMING_OPERATION ||
      !isQuery(options.request.query)
    ) {
      return this.processOne(options);
    }
    // A plan's parallel fetches call process() one after another in the same tick (Apollo's executor starts
    // every branch of a Parallel node before awaiting any): those of one operation wait for the end of the
    // tick and go out together. A call alone goes out as it is, a microtask later.
    return new Promise<ProcessResult>((resolve, reject) => {
      let queue = this.queued.get(context);
      if (!queue) {
        this.queued.set(context, (queue = []));
        queueMicrotask(() => this.flush(context));
      }
      queue.push({ options, resolve, reject });
    });
  }

  /** Sends the calls queued for one operation: together when there are several and they merge, else each alone. */
  private flush(context: object) {
    const queue = this.queued.get(context) ?? [];
    this.queued.delete(context);
    const alone = (q: Queued) => this.processOne(q.options).then(q.resolve, q.reject);
    if (queue.length < 2) return queue.forEach(alone);
    // Repeated representations are sent once within each call (as alone), then the calls merged.
    const uniques = queue.map((q) => uniqueRepresentations(q.options.request.variables));
    const merged = mergeCalls(
      queue.map((q, i) => ({
        query: q.options.request.query!,
        variables: uniques[i]?.variables ?? q.options.request.variables,
      })),
      this.name,
    );
    if (!merged || this.unmergeable.has(merged.key)) return queue.forEach(alone);
    this.batches.requests++;
    this.batches.calls += queue.length;
    for (const unique of uniques) if (unique) this.representations.repeated += unique.repeated;
    const first = queue[0]!.options;
    const request = {
      ...first.request,
      query: merged.query,
      operationName: merged.operationName,
      variables: merged.variables,
    };
    this.processOne({ ...first, request } as ProcessOptions).then(
      (answer) => {
        // No data at all. Refused before it ran (`data` absent: the subgraph's limits count the merged
        // operation's aliases, root fields or tokens, where each call alone was within them): each call is sent
        // alone, now and from now on. Or a non-null root field failed (`data: null`): which call it was is in
        // the errors, but the others' answers went with it; each is sent again alone, to get what it would have.
        if (answer.data === undefined) this.refused(merged);
        if (answer.data === undefined || answer.data === null) return queue.forEach(alone);
        merged.split(answer).forEach((part, i) => {
          const unique = uniques[i];
          queue[i]!.resolve(unique ? spreadEntities(part, unique) : part);
        });
      },
      (err: unknown) => {
        // Refused with a 4xx or answered unreadably (a partner's body limit, say): the same, alone. A timeout, an
        // unavailable subgraph or an open circuit fails every call it carried, as it would have each alone.
        const code = err instanceof GraphQLError ? err.extensions.code : undefined;
        if (code === 'SUBGRAPH_BAD_RESPONSE') {
          this.refused(merged);
          return queue.forEach(alone);
        }
        // Over the per-call caps (bytes, objects) that each call alone has to itself: alone, this time. Over the
        // request's own budget (`extensions.budget`): no; the request has spent it whichever way it asked.
        if (code === 'SUBGRAPH_RESPONSE_TOO_LARGE' && !(err as GraphQLError).extensions.budget) {
          return queue.forEach(alone);
        }
        queue.forEach((q) => q.reject(err));
      },
    );
  }

  /** Remembers that the subgraph refused `merged` (bounded: a plan's operations are few, but partners change). */
  private refused(merged: MergedCall) {
    if (this.unmergeable.size >= 1_000) this.unmergeable.clear();
    this.unmergeable.add(merged.key);
    this.log.info(
      { operation: merged.operationName },
      'the subgraph refused a merged request: its calls go apart',
    );
  }

  /** One request to the subgraph, timed and traced: a call of a plan, or several merged. */
  private async processOne(options: ProcessOptions): Promise<ProcessResult> {
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    // Traces on: a span under Apollo's `gateway.fetch` of this plan node, whose traceparent the call carries.
    const span = clientSpan(`subgraph ${this.name}`, {
      'civic.subgraph': this.name,
      'server.address': this.http.url.hostname,
    });
    try {
      const result = await this.processTimed(options, span);
      this.metrics?.fetched(this.name, seconds(), null);
      span?.end();
      return result;
    } catch (err) {
      const code = err instanceof GraphQLError ? err.extensions.code : undefined;
      const known = typeof code === 'string' ? code : 'SUBGRAPH_BAD_RESPONSE';
      this.metrics?.fetched(this.name, seconds(), known);
      span?.end(known);
      throw err;
    }
  }

  /** {@link process}, timed (and traced) by it. */
  private async processTimed(options: ProcessOptions, span?: ClientSpan): Promise<ProcessResult> {
    const context = options.context as Partial<RequestContext> | undefined;
    const signal = context?.signal;
    const budget = context ? budgetOf(context, this.budget) : undefined;
    const request = options.request;
    let unique: UniqueRepresentations | undefined;
    let answer: SubgraphAnswer;
    try {
      // The client gone, or the request's deadline passed: no new call.
      if (signal?.aborted) throw abortError(signal);
      if (budget?.spent) throw this.overBudget(budget, 'skipped');
      if (!request.query) throw new Error('the gateway built a call with no operation');
      const query = isQuery(request.query);
      unique = query ? uniqueRepresentations(request.variables) : undefined;
      if (unique) this.representations.repeated += unique.repeated;
      const body = JSON.stringify({
        query: request.query,
        variables: unique?.variables ?? request.variables,
        operationName: request.operationName,
        extensions: request.extensions,
      });
      const headers = this.headersFor(request as never, context);
      span?.inject(headers);
      // Same operation, variables and language: the same answer (the signature and request id are per call).
      const key = this.deduplicate && query ? `${headers['accept-language'] ?? ''}\n${body}` : null;
      answer = await this.join(
        key,
        budget,
        signal,
        (flight) => this.call(body, headers, query, flight),
        span,
      );
    } catch (err) {
      throw this.clientError(err);
    }
    let response: ProcessResult;
    try {
      response = JSON.parse(answer.text) as ProcessResult;
      if (response === null || typeof response !== 'object') throw new Error('not a JSON object');
    } catch (err) {
      throw this.clientError(
        new SubgraphCallError(
          'SUBGRAPH_BAD_RESPONSE',
          `Subgraph "${this.name}" sent an answer the gateway could not read`,
          false,
          err,
        ),
      );
    }
    restrictCachePolicy(options, answer.cacheControl);
    // Counted no further than either bound allows: the per-call cap, or what is left of the request's budget.
    const bound = Math.min(this.maxObjects, budget?.nodesLeft ?? Infinity);
    const count = countObjects(response.data, bound);
    if (count > bound && bound === this.maxObjects) {
      throw this.clientError(
        new SubgraphCallError(
          'SUBGRAPH_RESPONSE_TOO_LARGE',
          `Subgraph "${this.name}" sent more than ${this.maxObjects} objects`,
          false,
        ),
      );
    }
    if (budget) {
      const before = budget.spent;
      budget.nodes += count;
      if (budget.spent) throw this.clientError(this.overBudget(budget, before ? 'stopped' : 'took'));
    }
    // Counted above as the subgraph sent it; spread here to every position of the plan that asked.
    return unique ? spreadEntities(response, unique) : response;
  }

  /**
   * Waits for the answer of the call in flight under `key` (starting it with `start` when there is none, or when
   * `key` is null: a call of its own). Leaves it, refused, when this request's budget is spent by the bytes read
   * or its client goes away; the call is abandoned once nobody waits. Its `span` (traces on) says whether the call
   * was shared (`civic.subgraph.shared`), and one that joins a call links to the span of the request that made it.
   */
  private join(
    key: string | null,
    budget: ResponseBudget | undefined,
    signal: AbortSignal | undefined,
    start: (flight: Flight) => Promise<SubgraphAnswer>,
    span?: ClientSpan,
  ): Promise<SubgraphAnswer> {
    let flight = key === null ? undefined : this.flights.get(key);
    const joined = flight !== undefined;
    if (span) {
      span.span.setAttribute('civic.subgraph.shared', joined);
      if (flight?.origin) linkSpan(span.span, flight.origin);
    }
    if (!flight) {
      const f: Flight = {
        waiters: new Set(),
        bytes: 0,
        controller: new AbortController(),
        origin: span?.span.spanContext(),
      };
      flight = f;
      if (key !== null) this.flights.set(key, f);
      // Started on the next tick of the promise queue, once this request has joined it as its first waiter.
      void Promise.resolve()
        .then(() => start(f))
        .then(
          (answer) => ({ ok: true as const, answer }),
          (err: unknown) => ({ ok: false as const, err }),
        )
        .then((result) => {
          if (key !== null && this.flights.get(key) === f) this.flights.delete(key);
          for (const w of [...f.waiters]) w.settle(result);
        });
    }
    if (joined) this.counts.shared++;
    else this.counts.sent++;
    const f = flight;
    return new Promise<SubgraphAnswer>((resolve, reject) => {
      let settled = false;
      const leave = () => {
        settled = true;
        f.waiters.delete(waiter);
        signal?.removeEventListener('abort', onAbort);
        // Nobody waits any more: the call is abandoned, and no later request may join it.
        if (f.waiters.size === 0 && !f.controller.signal.aborted) {
          if (key !== null && this.flights.get(key) === f) this.flights.delete(key);
          f.controller.abort('unwanted');
        }
      };
      const waiter: Waiter = {
        budget,
        refuse: (err) => {
          if (settled) return;
          leave();
          reject(err);
        },
        settle: (result) => {
          if (settled) return;
          settled = true;
          f.waiters.delete(waiter);
          signal?.removeEventListener('abort', onAbort);
          if (result.ok) resolve(result.answer);
          else reject(result.err === 'unwanted' ? clientGoneError() : result.err);
        },
      };
      const onAbort = () => waiter.refuse(abortError(signal));
      signal?.addEventListener('abort', onAbort, { once: true });
      f.waiters.add(waiter);
      if (f.bytes > 0) this.charge(waiter, f.bytes);
    });
  }

  /** Charges `bytes` of a flight's answer to one waiter's budget; refuses the waiter once the budget is spent. */
  private charge(waiter: Waiter, bytes: number, announced = false) {
    const budget = waiter.budget;
    if (!budget) return;
    const before = budget.spent;
    if (announced) {
      if (before || budget.bytes + bytes > budget.limits.maxBytes) {
        if (!before) budget.bytes += bytes;
        waiter.refuse(this.overBudget(budget, before ? 'stopped' : 'took'));
      }
      return;
    }
    if (!before) budget.bytes += bytes;
    if (budget.spent) waiter.refuse(this.overBudget(budget, before ? 'stopped' : 'took'));
  }

  /**
   * The refusal of a call for the request's budget: `took` the call whose answer spent it (dropped), `stopped` a
   * call under way when another spent it (dropped too), `skipped` a later call (not made).
   */
  private overBudget(budget: ResponseBudget, how: 'took' | 'stopped' | 'skipped'): SubgraphCallError {
    const name = budget.spent ?? 'MAX_RESPONSE_BYTES';
    const bytes = name === 'MAX_RESPONSE_BYTES';
    const limit = bytes ? budget.limits.maxBytes : budget.limits.maxNodes;
    const measured = bytes ? budget.bytes : budget.nodes;
    const total = `${measured} ${bytes ? 'sent' : 'counted'}`;
    const of = `budget of ${limit} ${bytes ? 'bytes' : 'objects'} from all subgraphs together (${name})`;
    const message =
      how === 'took'
        ? `Subgraph "${this.name}" took this request over its ${of}: ${total}; its answer was dropped`
        : how === 'stopped'
          ? `Subgraph "${this.name}" was stopped: this request's ${of} is spent (${total}); its answer was dropped`
          : `Subgraph "${this.name}" was not called: this request's ${of} is spent (${total})`;
    return new SubgraphCallError('SUBGRAPH_RESPONSE_TOO_LARGE', message, false, undefined, {
      budget: name,
      limit,
      measured,
    });
  }

  /** The error the client sees, naming the subgraph and never its address; the cause goes to the log. */
  private clientError(err: unknown): GraphQLError {
    // The client went away: nobody reads the answer, and the request's scope has logged it once already.
    // The request's deadline passed (REQUEST_DEADLINE_MS): the gateway answers with that error alone.
    if (
      err instanceof GraphQLError &&
      (err.extensions.code === CLIENT_GONE_CODE || err.extensions.code === REQUEST_TIMEOUT_CODE)
    ) {
      return new GraphQLError(err.message, {
        extensions: { ...err.extensions, serviceName: this.name },
      });
    }
    const known =
      err instanceof SubgraphCallError
        ? err
        : new SubgraphCallError(
            'SUBGRAPH_BAD_RESPONSE',
            `Subgraph "${this.name}" sent an answer the gateway could not read`,
            false,
            err,
          );
    this.log.warn(
      {
        requestId: currentRequestId(),
        code: known.code,
        cause: known.cause ? String(known.cause) : undefined,
      },
      known.message,
    );
    return new GraphQLError(known.message, {
      extensions: { code: known.code, serviceName: this.name, ...known.extensions },
    });
  }

  /**
   * One call through the circuit: refused at once while it is open or while its one probe is under way. The
   * body is signed as it is sent; the bytes of the answer are charged to every request waiting for it.
   */
  private async call(body: string, headers: Record<string, string>, retryable: boolean, flight: Flight) {
    if (this.breaker.state === CircuitState.HalfOpen) throw this.circuitOpen();
    try {
      return await this.breaker.execute(() => {
        const signed = this.secret ? { ...headers, [SIGNATURE_HEADER]: sign(this.secret, body) } : headers;
        return this.http.post(body, signed, {
          signal: flight.controller.signal,
          retryable,
          watch: {
            // Announced: a request it would take over its budget is refused before anything is read.
            announced: (bytes) => {
              for (const w of [...flight.waiters]) this.charge(w, bytes, true);
            },
            read: (bytes) => {
              flight.bytes += bytes;
              for (const w of [...flight.waiters]) this.charge(w, bytes);
            },
          },
        });
      });
    } catch (err) {
      if (err instanceof BrokenCircuitError) throw this.circuitOpen();
      throw err;
    }
  }

  private circuitOpen() {
    return new SubgraphCallError(
      'SUBGRAPH_CIRCUIT_OPEN',
      `Subgraph "${this.name}" is failing: the gateway is not calling it for a moment`,
      false,
    );
  }
}

/**
 * Apollo's own data source lowers the operation's cache policy by each subgraph's `Cache-Control` (the lowest
 * max-age wins; `private` and `public` set the scope): the same here, since this data source does its own HTTP.
 */
function restrictCachePolicy(options: ProcessOptions, header: string | undefined) {
  if ((options.kind as string) !== INCOMING_OPERATION || !('incomingRequestContext' in options)) return;
  const policy = options.incomingRequestContext.overallCachePolicy;
  if (!policy || !('restrict' in policy)) return;
  const hint: { maxAge: number; scope?: 'PUBLIC' | 'PRIVATE' } = { maxAge: 0 };
  for (const part of (header ?? '').split(',')) {
    const [name, value] = part.trim().toLowerCase().split('=');
    if (name === 'max-age' && /^[0-9]+$/.test(value ?? '')) hint.maxAge = Number(value);
    else if (name === 'private') hint.scope = 'PRIVATE';
    else if (name === 'public') hint.scope = 'PUBLIC';
  }
  policy.restrict(hint);
}

/** How many objects a parsed answer holds, counting no further than `limit + 1`. */
function countObjects(value: unknown, limit: number): number {
  let count = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && count <= limit) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    // Item by item (spreading a list of 100,000 items into push() would overflow the call stack), and without
    // making an array of each object's values.
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const item: unknown = v[i];
        if (item !== null && typeof item === 'object') stack.push(item);
      }
    } else {
      count++;
      for (const key in v) {
        const item = (v as Record<string, unknown>)[key];
        if (item !== null && typeof item === 'object') stack.push(item);
      }
    }
  }
  return count;
}

/** The data source the gateway calls a subgraph through (every subgraph, ours and partners', alike). */
export const subgraphSource = (opts: SubgraphSourceOptions) => new SubgraphDataSource(opts);
