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
import { subgraphTimeoutMs } from '@civic/common/config';
import { REQUEST_ID_HEADER, type RequestContext } from '@civic/common/context';
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
}

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
  private readonly secret: string | null;
  private readonly breaker: CircuitBreakerPolicy;
  private readonly log: typeof logger;

  constructor(opts: SubgraphSourceOptions) {
    super({ url: opts.url });
    this.name = opts.name;
    this.timeoutMs = opts.timeoutMs ?? subgraphTimeoutMs();
    this.maxResponseBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.maxObjects = opts.maxObjects ?? DEFAULT_MAX_OBJECTS;
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

  override async process(options: ProcessOptions): Promise<ProcessResult> {
    let response: ProcessResult;
    try {
      response = await super.process(options);
    } catch (err) {
      throw this.clientError(err);
    }
    if (countObjects(response.data, this.maxObjects) > this.maxObjects) {
      throw this.clientError(
        new SubgraphCallError(
          'SUBGRAPH_RESPONSE_TOO_LARGE',
          `Subgraph "${this.name}" sent more than ${this.maxObjects} objects`,
          false,
        ),
      );
    }
    return response;
  }

  /** The error the client sees, naming the subgraph and never its address; the cause goes to the log. */
  private clientError(err: unknown): GraphQLError {
    const known =
      err instanceof SubgraphCallError
        ? err
        : new SubgraphCallError(
            'SUBGRAPH_BAD_RESPONSE',
            `Subgraph "${this.name}" sent an answer the gateway could not read`,
            false,
            err,
          );
    this.log.warn({ code: known.code, cause: known.cause ? String(known.cause) : undefined }, known.message);
    return new GraphQLError(known.message, {
      extensions: { code: known.code, serviceName: this.name },
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
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    try {
      // `redirect: 'manual'`: a subgraph cannot send the gateway's request (and its signature) elsewhere.
      const res = await fetch(url, {
        method: init.method ?? 'POST',
        headers,
        body,
        signal: controller.signal,
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
      const text = await this.readBounded(res);
      const kept = new Headers();
      for (const name of ['content-type', 'cache-control']) {
        const value = res.headers.get(name);
        if (value !== null) kept.set(name, value);
      }
      return new Response(text, { status: res.status, statusText: res.statusText, headers: kept });
    } catch (err) {
      if (err instanceof SubgraphCallError) throw err;
      if (controller.signal.aborted) {
        throw this.failure('SUBGRAPH_TIMEOUT', `did not answer within ${this.timeoutMs} ms`, true, err);
      }
      throw this.failure('SUBGRAPH_UNAVAILABLE', 'is unavailable', true, errorCause(err));
    } finally {
      clearTimeout(timer);
    }
  }

  /** The whole body as text, or a refusal as soon as it passes maxResponseBytes (announced or counted). */
  private async readBounded(res: Response): Promise<string> {
    const tooLarge = () =>
      this.failure('SUBGRAPH_RESPONSE_TOO_LARGE', `sent more than ${this.maxResponseBytes} bytes`, false);
    const announced = Number(res.headers.get('content-length') ?? NaN);
    if (announced > this.maxResponseBytes) {
      await res.body?.cancel();
      throw tooLarge();
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
