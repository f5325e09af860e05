import { AsyncLocalStorage } from 'node:async_hooks';
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
import { responseBudget, subgraphTimeoutMs, type ResponseBudgetLimits } from '@civic/common/config';
import {
  CLIENT_GONE_CODE,
  REQUEST_ID_HEADER,
  clientGoneError,
  currentRequestId,
  type RequestContext,
} from '@civic/common/context';
import type { SubgraphErrorCode } from '@civic/common/errors';
import { logger } from '@civic/common/log';
import { SIGNATURE_HEADER, secretFor, sign } from '@civic/common/signing';

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
  /** How long the circuit stays open before one probe goes through, in milliseconds. Default 1000. */
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
  /**
   * What one client request may receive from all its subgraph calls together (see {@link ResponseBudget});
   * default MAX_RESPONSE_BYTES and MAX_RESPONSE_NODES from the environment (16 MiB, 200,000 objects).
   */
  budget?: ResponseBudgetLimits;
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
 * What the fetcher of one call needs of its request and cannot be handed by Apollo's `process`, which calls
 * it with only the URL and the request's init: the client's signal and the request's budget.
 */
interface CallScope {
  signal?: AbortSignal;
  budget?: ResponseBudget;
}
const calls = new AsyncLocalStorage<CallScope>();

/**
 * The only headers a subgraph receives from the gateway (besides those of the transport): the request id, the
 * client's language, the signature, and what a GraphQL POST needs. Never the client's Authorization header,
 * cookies or anything else: a partner subgraph must not see a client's credentials.
 */
export const FORWARDED_HEADERS: readonly string[] = [
  'content-type',
  'accept',
  REQUEST_ID_HEADER,
  'accept-language',
  SIGNATURE_HEADER,
];

/**
 * Why a call to a subgraph failed, in words the client may read: the subgraph is named, its address never is.
 * `cause` (which may name the address) goes to the log only. `trips` says whether the failure says something
 * about the subgraph's health and so counts towards opening its circuit: a response too large for this
 * request does not (any client could cause one), an unreachable or timed-out subgraph does.
 */
export class SubgraphCallError extends Error {
  constructor(
    readonly code: SubgraphErrorCode,
    message: string,
    readonly trips: boolean,
    readonly cause?: unknown,
    /** What the client is told besides the code and the subgraph's name (a budget's name, limit, measure). */
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

type Fetcher = RemoteGraphQLDataSource['fetcher'];
type FetcherInit = NonNullable<Parameters<Fetcher>[1]>;
type ProcessOptions = Parameters<RemoteGraphQLDataSource<RequestContext>['process']>[0];
type ProcessResult = Awaited<ReturnType<RemoteGraphQLDataSource<RequestContext>['process']>>;

/**
 * One subgraph as the gateway calls it: every subgraph, ours and partners', alike. What it sends: a POST of
 * the operation, signed when the subgraph has a secret, with only {@link FORWARDED_HEADERS}. What it bounds:
 * the time of a call, the size of the answer, the objects in it, and, with a circuit breaker, how often a
 * failing subgraph is called at all. Whatever goes wrong comes back as a GraphQL error naming the subgraph
 * (`extensions.serviceName`) with a stable `extensions.code` (SUBGRAPH_TIMEOUT, SUBGRAPH_UNAVAILABLE,
 * SUBGRAPH_CIRCUIT_OPEN, SUBGRAPH_RESPONSE_TOO_LARGE, SUBGRAPH_BAD_RESPONSE): the gateway then answers the
 * rest of the query, with this subgraph's fields null.
 *
 * The breaker lives as long as this data source: the gateway builds one per subgraph each time it loads a
 * supergraph.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<RequestContext> {
  readonly name: string;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly maxObjects: number;
  private readonly budget: ResponseBudgetLimits;
  private readonly secret: string | null;
  private readonly breaker: CircuitBreakerPolicy;
  private readonly log: typeof logger;

  constructor(opts: SubgraphSourceOptions) {
    super({ url: opts.url });
    this.name = opts.name;
    this.timeoutMs = opts.timeoutMs ?? subgraphTimeoutMs();
    this.maxResponseBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.maxObjects = opts.maxObjects ?? DEFAULT_MAX_OBJECTS;
    this.budget = opts.budget ?? responseBudget();
    this.secret = opts.secret === undefined ? secretFor(opts.name) : opts.secret;
    const b = opts.breaker ?? {};
    this.breaker = circuitBreaker(
      handleWhen((err) => err instanceof SubgraphCallError && err.trips),
      {
        halfOpenAfter: b.halfOpenAfterMs ?? 1000,
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
    this.fetcher = (url, init) => this.call(url, init ?? {});
  }

  /** The circuit's state ('closed', 'open', 'half-open'), for the gateway's metrics (issue 12). */
  get circuit(): 'closed' | 'open' | 'half-open' {
    const state = this.breaker.state;
    return state === CircuitState.Closed ? 'closed' : state === CircuitState.HalfOpen ? 'half-open' : 'open';
  }

  /**
   * Forwards what the subgraphs must know about the request (its id, the client's language) and nothing else:
   * no client credentials leak to a partner subgraph by default.
   */
  override willSendRequest({
    request,
    context,
  }: Parameters<NonNullable<RemoteGraphQLDataSource<RequestContext>['willSendRequest']>>[0]) {
    if (!context?.requestId) return;
    request.http?.headers.set(REQUEST_ID_HEADER, context.requestId);
    if (context.acceptLanguage) request.http?.headers.set('accept-language', context.acceptLanguage);
  }

  /**
   * One call of a request's plan. Not made at all when the client has gone away (its context's `signal`) or
   * the request's {@link ResponseBudget} is spent; made with the client's signal, so that the client going away
   * cancels it; its objects charged to the budget once parsed (its bytes are, as they are read).
   */
  override async process(options: ProcessOptions): Promise<ProcessResult> {
    const context = options.context as Partial<RequestContext> | undefined;
    const signal = context?.signal;
    const budget = context ? budgetOf(context, this.budget) : undefined;
    let response: ProcessResult;
    try {
      if (signal?.aborted) throw clientGoneError();
      if (budget?.spent) throw this.overBudget(budget, 'skipped');
      response = await calls.run({ signal, budget }, () => super.process(options));
    } catch (err) {
      throw this.clientError(err);
    }
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
    return response;
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
    if (err instanceof GraphQLError && err.extensions.code === CLIENT_GONE_CODE) {
      return new GraphQLError(err.message, {
        extensions: { code: CLIENT_GONE_CODE, serviceName: this.name },
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

  /** One call through the circuit: refused at once while it is open or while its one probe is under way. */
  private async call(url: string, init: FetcherInit) {
    if (this.breaker.state === CircuitState.HalfOpen) throw this.circuitOpen();
    try {
      return await this.breaker.execute(() => this.send(url, init));
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

  /**
   * The HTTP call: the body Apollo serialized, signed as it is sent; only the allowed headers; bounded in
   * time (connect, headers and body together) and in size; the answer read whole and handed back buffered.
   */
  private async send(url: string, init: FetcherInit) {
    const body = typeof init.body === 'string' ? init.body : (init.body?.toString('utf8') ?? '');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(init.headers ?? {})) {
      if (FORWARDED_HEADERS.includes(name.toLowerCase())) headers[name.toLowerCase()] = value;
    }
    if (this.secret) headers[SIGNATURE_HEADER] = sign(this.secret, body);
    const { signal: client, budget } = calls.getStore() ?? {};
    if (client?.aborted) throw clientGoneError();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    // The client going away cancels the call as its timeout does: the connection to the subgraph is closed,
    // and the subgraph stops the request's work when it sees it close.
    const signal = client ? AbortSignal.any([controller.signal, client]) : controller.signal;
    try {
      // `redirect: 'manual'`: a subgraph cannot send the gateway's request (and its signature) elsewhere.
      const res = await fetch(url, {
        method: init.method ?? 'POST',
        headers,
        body,
        signal,
        redirect: 'manual',
      });
      if (res.status >= 500) {
        await res.body?.cancel();
        throw this.failure('SUBGRAPH_UNAVAILABLE', `is unavailable (HTTP ${res.status})`, true);
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw this.failure(
          'SUBGRAPH_BAD_RESPONSE',
          `refused the gateway's request (HTTP ${res.status})`,
          false,
        );
      }
      const text = await this.readBounded(res, budget);
      const kept = new Headers();
      for (const name of ['content-type', 'cache-control']) {
        const value = res.headers.get(name);
        if (value !== null) kept.set(name, value);
      }
      return new Response(text, { status: res.status, statusText: res.statusText, headers: kept });
    } catch (err) {
      if (err instanceof SubgraphCallError) throw err;
      if (client?.aborted) throw clientGoneError();
      if (controller.signal.aborted) {
        throw this.failure('SUBGRAPH_TIMEOUT', `did not answer within ${this.timeoutMs} ms`, true, err);
      }
      throw this.failure('SUBGRAPH_UNAVAILABLE', 'is unavailable', true, errorCause(err));
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The whole body as text, or a refusal as soon as it passes maxResponseBytes or takes the request over its
   * budget (announced or counted): reading stops there.
   */
  private async readBounded(res: Response, budget?: ResponseBudget): Promise<string> {
    const tooLarge = () =>
      this.failure('SUBGRAPH_RESPONSE_TOO_LARGE', `sent more than ${this.maxResponseBytes} bytes`, false);
    const announced = Number(res.headers.get('content-length') ?? NaN);
    if (announced > this.maxResponseBytes) {
      await res.body?.cancel();
      throw tooLarge();
    }
    if (budget && (budget.spent || budget.bytes + announced > budget.limits.maxBytes)) {
      const before = budget.spent;
      if (!before) budget.bytes += announced;
      await res.body?.cancel();
      throw this.overBudget(budget, before ? 'stopped' : 'took');
    }
    if (!res.body) return '';
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > this.maxResponseBytes) {
        await reader.cancel();
        throw tooLarge();
      }
      if (budget) {
        const before = budget.spent;
        if (!before) budget.bytes += value.byteLength;
        if (budget.spent) {
          await reader.cancel();
          throw this.overBudget(budget, before ? 'stopped' : 'took');
        }
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks, total).toString('utf8');
  }

  private failure(code: SubgraphErrorCode, what: string, trips: boolean, cause?: unknown) {
    return new SubgraphCallError(code, `Subgraph "${this.name}" ${what}`, trips, cause);
  }
}

/** fetch's own error says only "fetch failed"; what happened (ECONNREFUSED ...) is its cause. */
const errorCause = (err: unknown): unknown =>
  err instanceof Error && err.cause !== undefined ? `${err.message}: ${String(err.cause)}` : err;

/** How many objects a parsed answer holds, counting no further than `limit + 1`. */
function countObjects(value: unknown, limit: number): number {
  let count = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && count <= limit) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    if (!Array.isArray(v)) count++;
    // One by one: spreading a list of 100,000 items into push() would overflow the call stack.
    for (const item of Array.isArray(v) ? v : Object.values(v)) {
      if (item !== null && typeof item === 'object') stack.push(item);
    }
  }
  return count;
}

/** The data source the gateway calls a subgraph through (every subgraph, ours and partners', alike). */
export const subgraphSource = (opts: SubgraphSourceOptions) => new SubgraphDataSource(opts);
