import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import Negotiator from 'negotiator';
import type { GraphQLSchema } from 'graphql';
import {
  metricsPort as configuredMetricsPort,
  operationLimits,
  serverSettings,
  shutdownTimeoutMs,
  type OperationLimits,
  type TrustProxy,
} from './config';
import {
  currentRequestId,
  REQUEST_ID_HEADER,
  requestContext,
  requestIdOf,
  requestScope,
  type RequestContext,
} from './context';
import { maskInternalErrors } from './errors';
import { apiSecurityHeaders, boundServer, corsFor, keepVary, landingPageHeaders } from './http-security';
import { operationLimitsFor, type RateLimitHook } from './limits';
import { logger } from './log';
import { markReachedGraphQL, metricsRoute, serveMetrics, ServiceMetrics } from './metrics';
import { readyRoute, type ReadyChecks } from './ready';
import { SIGNATURE_HEADER, verify } from './signing';
import { startTracing } from './tracing';
import {
  ABORTED,
  frontGraphQL,
  type ExpressFront,
  type FrontGraphQL,
  type FrontHandler,
} from './front-graphql';

// Apollo's anonymous usage telemetry stays off everywhere.
process.env.APOLLO_TELEMETRY_DISABLED ??= '1';

/** How long a stopping service waits for its last spans to reach the collector before it gives up on them. */
const TRACES_FLUSH_MS = 3000;

/** How to build one GraphQL HTTP service (a subgraph or the gateway). */
export interface ServiceOptions<C extends RequestContext> {
  name: string;
  schema?: GraphQLSchema;
  gateway?: GatewayInterface;
  /** Builds the per-request context: loaders and anything else that must not outlive the request. */
  context: (req: Request) => Promise<C>;
  /** HTML served at GET / to browsers; without it there is no landing page. */
  landingPage?: string;
  plugins?: ApolloServerPlugin<C>[];
  /**
   * Extra routes (exports...) mounted after `GET /health` and before the GraphQL handler. `graphql` gives
   * this service's own Apollo server and context builder, so a route that runs operations (with
   * `apollo.executeOperation`) goes through the same plugins, limits and error masking as `/graphql`.
   */
  routes?: (app: express.Express, graphql: ServiceGraphQL<C>) => void;
  /**
   * What `GET /ready` checks (common/src/ready.ts): a subgraph its database, the gateway its supergraph and its
   * subgraphs. Without it the service is ready once it has started. `GET /health` only says it is alive.
   */
  ready?: () => Promise<ReadyChecks>;
  /** Called when the service stops, after the HTTP server has drained or cut its requests (close pools here). */
  onStop?: () => Promise<void>;
  /**
   * A subgraph's signing secret (SUBGRAPH_SECRET_<NAME>). When set, every GraphQL request must carry a
   * valid `x-civic-signature` over its raw body (common/src/signing.ts), or gets 401 saying what was wrong;
   * `GET /health` stays open. The gateway signs all its calls, so only direct callers are refused.
   */
  signatureSecret?: string | null;
  /**
   * What one request may ask (docs/protection.md); default the environment's (MAX_BODY_BYTES, MAX_TOKENS,
   * MAX_DEPTH, MAX_ALIASES, MAX_DIRECTIVES, MAX_ROOT_FIELDS, MAX_FIELDS, MAX_COST).
   */
  limits?: OperationLimits;
  /**
   * Whether introspection is answered. Default: a gateway reads INTROSPECTION (default on); a subgraph
   * answers it only when it has a `signatureSecret`, that is only to the gateway's signed calls.
   */
  introspection?: boolean;
  /**
   * Add `extensions.cost: { requested, limit, remaining }` to every response; default false: only a refusal
   * carries it. The gateway reads REPORT_COST (default true); subgraphs leave it off (the gateway drops a
   * subgraph's extensions).
   */
  reportCost?: boolean;
  /**
   * Spend each operation's cost from its client's budget before it runs (429 RATE_LIMITED when too little is
   * left) and put the RateLimit headers on every response; default none. Only the gateway rate-limits.
   */
  rateLimit?: RateLimitHook<C>;
  /** Express's `trust proxy` (TRUST_PROXY): whether `req.ip` is read from X-Forwarded-For; default false. */
  trustProxy?: TrustProxy;
  /**
   * Runs on every GraphQL request at `/graphql` and `/` once its body is read, before Apollo reads it: it may put
   * another operation in the request (`req.body`, or a GET's `req.url`), answer the request itself (a refusal),
   * or call `next()` to leave it as it is. The gateway resolves persisted documents here (gateway/src/persisted).
   * Several run in order.
   */
  beforeGraphQL?: RequestHandler | readonly RequestHandler[];
  /**
   * Apollo's automatic persisted queries, in this cache (Apollo prefixes its keys with `apq:`), each document
   * kept `ttlSeconds`; default off. Apollo stores a document only once it has parsed, validated and passed
   * didResolveOperation (the limits); a malformed request must be refused before Apollo sees it
   * (`beforeGraphQL`), since Apollo answers a bad hash or version without an error code.
   */
  persistedQueries?: { cache: KeyValueCache<string>; ttlSeconds: number };
  /**
   * Its Prometheus metrics (common/src/metrics.ts): default a new registry with the request metrics; the gateway
   * and the subgraphs pass theirs to add their own metrics to it.
   */
  metrics?: ServiceMetrics;
  /**
   * Where `GET /metrics` is served: default METRICS_PORT; null (or METRICS_PORT unset): on this service's own
   * port; a number: on that port (0: any free one), shared by the services of the process that name the same,
   * and this service's own port answers 404 there, so the metrics need not be public.
   */
  metricsPort?: number | null;
  /**
   * Answers some requests in the HTTP server's own 'request' handler, before Express sees them (the gateway's
   * cached answers: gateway/src/cache/early.ts); built once the Express app is, with what it needs to answer as
   * Express would. Each request either is answered by it, or is handed to Express untouched with `pass()`.
   */
  beforeExpress?: (front: ExpressFront) => FrontHandler;
  /**
   * GraphQL POSTs run without Express (common/src/front-graphql.ts), with the context this builds; default none:
   * every request through Express. Off with GRAPHQL_FRONT=false and whenever tracing is on. Runs after
   * `beforeExpress` (a cached answer first).
   */
  front?: FrontGraphQL<C>;
}

/** What {@link ServiceOptions.routes} gets to run GraphQL operations the way `/graphql` does. */
export interface ServiceGraphQL<C extends RequestContext> {
  apollo: ApolloServer<C>;
  /** The service's per-request context builder (the `context` option). */
  context: (req: Request) => Promise<C>;
}

/** A built service: not yet listening. */
export interface Service {
  name: string;
  /** Binds the port (0: any free one) and resolves with the URL of the GraphQL endpoint. */
  listen(port: number, host?: string): Promise<{ url: string; port: number; metricsPort?: number }>;
  /**
   * True once the service is stopping (or told to drain): `GET /ready` then answers 503 with the check
   * `shutdown: { ok: false, reason: "shutting down" }`, so a load balancer stops sending it anything new.
   */
  readonly draining: boolean;
  /**
   * Turns the service not-ready without closing anything. A process running several services (`npm start`)
   * drains them all at once when told to stop, then stops them one by one.
   */
  drain(): void;
  /**
   * Drains, then stops: no new connection is accepted, idle keep-alive connections are closed, requests in
   * flight may finish within SHUTDOWN_TIMEOUT_MS (default 10 s) and are cut after it; then `onStop` closes the
   * pools. Resolves once all of that is done; a second call waits for the same stop.
   */
  stop(): Promise<void>;
}

/**
 * Builds a GraphQL service on Express and Apollo Server, the one bootstrap shared by the gateway and the
 * subgraphs: GraphQL at `/` and `/graphql`, `GET /health`, internal errors masked, a clean drain on stop.
 */
export async function createService<C extends RequestContext>(opts: ServiceOptions<C>): Promise<Service> {
  const app = express();
  // Which framework answers is nobody's business (and a hint for an attacker).
  app.disable('x-powered-by');
  // Requests not yet answered, for the line a stop logs (how many it waited for): counted as the HTTP server
  // receives them, whether Express answers them or `beforeExpress` does.
  let inFlight = 0;
  if (opts.trustProxy !== undefined) app.set('trust proxy', opts.trustProxy);
  const log = logger.child({ service: opts.name });
  const metrics = opts.metrics ?? new ServiceMetrics(opts.name);
  // GraphQL requests refused before Apollo (a bad body or signature, an unknown API key, a persisted-query
  // refusal, a connection limit) are counted too.
  app.use(metrics.refusedBefore());
  const metricsPort = opts.metricsPort === undefined ? configuredMetricsPort() : opts.metricsPort;
  const landing = opts.landingPage;
  // Connections, header and body read times are bounded (HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS,
  // KEEP_ALIVE_TIMEOUT_MS, MAX_CONNECTIONS, MAX_HEADER_BYTES); the timeouts are checked every second.
  const server = serverSettings();
  const shutdownMs = shutdownTimeoutMs();
  // Spans only when OTEL_EXPORTER_OTLP_ENDPOINT is set (common/src/tracing.ts); otherwise nothing is set up. Apollo
  // gateway's own spans (plan, fetches) go to the gateway's provider.
  const tracing = startTracing(opts.name, { global: Boolean(opts.gateway) });
  // Security headers on every answer (nosniff...); the explorer page gets its own Content-Security-Policy. Only
  // the gateway answers browsers' pages (CORS_ORIGINS): the subgraphs are called by the gateway alone.
  const security = apiSecurityHeaders();
  const cors = opts.gateway ? corsFor(server.corsOrigins) : undefined;
  app.use(security);
  if (cors) app.use(cors);
  const fronted = expressFront(app, [security, ...(cors ? [cors] : [])], log);
  const early = opts.beforeExpress?.(fronted);
  // Set once Apollo has started (below): GraphQL POSTs that need nothing of Express, run without it.
  let direct: FrontHandler | undefined;
  const toExpress = (req: IncomingMessage, res: ServerResponse) => () => void app(req, res);
  const afterEarly = (req: IncomingMessage, res: ServerResponse) =>
    direct ? direct(req, res, toExpress(req, res)) : app(req, res);
  const http: Server = createServer(
    { maxHeaderSize: server.bounds.maxHeaderBytes, connectionsCheckingInterval: 1000 },
    (req, res) => {
      inFlight++;
      res.once('close', () => void inFlight--);
      if (early) early(req, res, () => afterEarly(req, res));
      else afterEarly(req, res);
    },
  );
  boundServer(http, server.bounds, log);
  if (landing) app.use(['/graphql', '/'], landingPageHeaders(landing));
  const env = opts.limits && opts.introspection !== undefined ? undefined : operationLimits();
  const limits = opts.limits ?? env!.limits;
  const introspection =
    opts.introspection ?? (opts.gateway ? env!.introspection : Boolean(opts.signatureSecret));
  const guard = operationLimitsFor<C>(limits, { reportCost: opts.reportCost, rateLimit: opts.rateLimit });
  const apollo = new ApolloServer<C>({
    ...(opts.gateway ? { gateway: opts.gateway } : { schema: opts.schema! }),
    introspection,
    // The limits act before anything is planned or executed: tokens while parsing, the shape of the
    // document while validating, the cost once the operation and its variables are known.
    parseOptions: guard.parseOptions,
    validationRules: guard.validationRules,
    includeStacktraceInErrorResponses: false,
    // Signals belong to the process (common/src/bootstrap.ts runUntilSignal stops every service in order, then
    // exits). Apollo's own handlers would stop each server on its own and re-raise the signal, racing ours: on
    // MySQL, `npm start` then never exited after SIGTERM.
    stopOnTerminationSignals: false,
    // Apollo's automatic persisted queries are off unless the service brings its own bounded store (the gateway's
    // shared store: an LRU bounded in bytes, or Redis with a TTL) and a `beforeGraphQL` that refuses malformed
    // ones with a code (Apollo answers a bad hash or version without one, masked as an internal error). Off, a
    // persisted-query request gets PERSISTED_QUERY_NOT_SUPPORTED.
    persistedQueries: opts.persistedQueries
      ? { cache: opts.persistedQueries.cache, ttl: opts.persistedQueries.ttlSeconds }
      : false,
    formatError: maskInternalErrors((err) =>
      log.error({ requestId: currentRequestId(), err: String(err) }, 'internal error'),
    ),
    plugins: [
      // First: it times the whole request, whatever a later plugin refuses.
      metrics.plugin() as ApolloServerPlugin<C>,
      // Every response names its request, so a client's report can be matched with the logs of each service.
      {
        async requestDidStart({ contextValue }) {
          return {
            // A document that does not parse is the client's error: one JSON line, with no stack.
            async parsingDidStart() {
              return async (err?: Error) => {
                if (err) {
                  log.info({ requestId: contextValue.requestId, err: err.message }, 'unparsable operation');
                }
              };
            },
            async willSendResponse({ response }) {
              response.http.headers.set(REQUEST_ID_HEADER, contextValue.requestId);
            },
          };
        },
      },
      guard.plugin,
      ...(tracing ? [tracing.plugin as ApolloServerPlugin<C>] : []),
      legacyJsonStatus,
      // On stop: the listener closes, idle keep-alive connections are closed, requests in flight have
      // SHUTDOWN_TIMEOUT_MS to finish (each connection is closed after its last answer), then are cut.
      ApolloServerPluginDrainHttpServer({ httpServer: http, stopGracePeriodMillis: shutdownMs }),
      landing
        ? {
            async serverWillStart() {
              return {
                async renderLandingPage() {
                  return { html: landing };
                },
              };
            },
          }
        : ApolloServerPluginLandingPageDisabled(),
      // Federated traces are only useful with Apollo's hosted reporting, which this project does not use.
      ...(opts.gateway ? [] : [ApolloServerPluginInlineTraceDisabled()]),
      ...(opts.plugins ?? []),
    ],
  });
  await apollo.start();
  if (opts.front && server.graphqlFront && !tracing) {
    direct = frontGraphQL({
      apollo,
      front: fronted,
      service: opts.front,
      maxBodyBytes: limits.maxBodyBytes,
      signatureSecret: opts.signatureSecret,
      log,
      counted: () => metrics.front.inc(),
    });
  }
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', service: opts.name });
  });
  // Like /health: before the API-key check, the signature check and the request scope, never rate-limited. With a
  // METRICS_PORT it is served there only, and this port answers 404.
  app.get(
    '/metrics',
    metricsPort == null
      ? metricsRoute(metrics)
      : (_req, res) => refuse(res, 404, 'Metrics are not served on this port', { code: 'NOT_FOUND' }),
  );
  let draining = false;
  app.get(
    '/ready',
    readyRoute(opts.name, opts.ready ?? (async () => ({})), () => draining),
  );
  opts.routes?.(app, { apollo, context: opts.context });
  // Each GraphQL request runs in its own scope: when its client goes away, its remaining work stops (its
  // subgraph calls, its SQL) and one line says so (common/src/context.ts).
  app.use(requestScope(opts.name));
  // Its span, inside its scope (the span names the request), child of the caller's `traceparent`.
  if (tracing) app.use(tracing.middleware);
  const handler = expressMiddleware(apollo, {
    context: async ({ req }) => {
      markReachedGraphQL(req);
      return opts.context(req);
    },
  });
  const before = [opts.beforeGraphQL ?? []].flat();
  const secret = opts.signatureSecret;
  if (secret) {
    const signed = signatureGuard(secret);
    // The raw bytes are kept for the signature check: it covers what was sent, not a re-serialization.
    const json = express.json({
      limit: limits.maxBodyBytes,
      verify: (req, _res, buf) => void ((req as SignedRequest).rawBody = buf),
    });
    app.use(['/graphql', '/'], signed.present, json, signed.valid, ...before, keepVary, handler);
  } else
    app.use(['/graphql', '/'], express.json({ limit: limits.maxBodyBytes }), ...before, keepVary, handler);
  app.use(bodyErrors(log));
  let stopped: Promise<void> | undefined;
  let closeMetrics: (() => Promise<void>) | undefined;
  const stop = async () => {
    draining = true;
    const started = Date.now();
    const waitedFor = inFlight;
    await apollo.stop();
    if (http.listening) await new Promise<void>((r) => http.close(() => r()));
    const ms = Date.now() - started;
    // `cut`: the grace period ran out, and the requests still running were closed unanswered.
    log.info({ inFlight: waitedFor, ms, cut: ms >= shutdownMs }, 'drained');
    await closeMetrics?.();
    await opts.onStop?.();
    // Last, so that the spans of the requests it waited for are sent; bounded, so that the process's stop is too
    // (common/src/bootstrap.ts allows SHUTDOWN_TIMEOUT_MS and 5 s more in all).
    await tracing?.stop(TRACES_FLUSH_MS);
  };
  return {
    name: opts.name,
    get draining() {
      return draining;
    },
    drain: () => void (draining = true),
    listen: async (port, host) => {
      const bound = await new Promise<number>((resolve, reject) => {
        http.once('error', reject);
        http.listen(port, host, () => resolve((http.address() as AddressInfo).port));
      });
      const shown = !host || host === '0.0.0.0' || host === '::' ? 'localhost' : host;
      const url = `http://${shown}:${bound}/graphql`;
      if (metricsPort == null) return { url, port: bound };
      const served = await serveMetrics(metrics, metricsPort, host);
      closeMetrics = served.close;
      return { url, port: bound, metricsPort: served.port };
    },
    stop: () => (stopped ??= stop()),
  };
}

/** The most Origins whose CORS headers {@link ExpressFront.headersFor} remembers. */
const FRONT_ORIGINS = 256;

/**
 * What a {@link FrontHandler} needs from the Express app: `middleware` are the app's first middleware (security
 * headers, CORS), which set headers only and call `next()` at once for a GET or a POST; they are run against a
 * recording response, once per Origin.
 */
function expressFront(
  app: express.Express,
  middleware: readonly RequestHandler[],
  log: typeof logger,
): ExpressFront {
  const byOrigin = new Map<string, readonly (readonly [string, string])[]>();
  const record = (origin: string | undefined) => {
    // Node's own bookkeeping of a response's headers: by lowercase name, in the order first set, with the name as
    // last written.
    const headers = new Map<string, [string, string]>();
    const res = {
      getHeader: (name: string) => headers.get(name.toLowerCase())?.[1],
      setHeader(name: string, value: unknown) {
        const v = Array.isArray(value) ? value.join(', ') : String(value);
        const key = name.toLowerCase();
        const had = headers.get(key);
        if (had) had.splice(0, 2, name, v);
        else headers.set(key, [name, v]);
        return res;
      },
      removeHeader: (name: string) => void headers.delete(name.toLowerCase()),
    };
    const req = { method: 'POST', headers: origin === undefined ? {} : { origin } };
    for (const m of middleware) {
      let next = false;
      void m(req as unknown as Request, res as unknown as Response, () => void (next = true));
      if (!next) return undefined;
    }
    return Object.freeze([...headers.values()].map(([n, v]) => Object.freeze([n, v] as const)));
  };
  // Express's own `req.ip` (the app's `trust proxy fn` over X-Forwarded-For and the socket's address), read off a
  // stand-in holding what it reads: never an object whose prototype is the request (V8 would then treat every
  // request as a prototype, and slow down every access to it). With no proxy trusted (Express's default), it is
  // the socket's address.
  const ip = Object.getOwnPropertyDescriptor(express.request, 'ip')!.get!;
  const trusting = Boolean(app.get('trust proxy'));
  const etagFn = app.get('etag fn') as ((body: string, encoding: string) => string) | undefined;
  return {
    headersFor(origin) {
      // An Origin header of its own, or none (not the same thing to CORS with a list of origins).
      const key = origin === undefined ? '\u0000none' : `=${origin}`;
      let found = byOrigin.get(key);
      if (found === undefined) {
        if (byOrigin.size >= FRONT_ORIGINS) return undefined;
        found = record(origin);
        if (!found) return undefined;
        byOrigin.set(key, found);
      }
      return found;
    },
    ipOf: (req) =>
      trusting
        ? (ip.call({ app, headers: req.headers, socket: req.socket, connection: req.socket }) as
            string | undefined)
        : req.socket.remoteAddress,
    etag: (body) => etagFn?.(body, 'utf8'),
    aborted: (req) =>
      log.info(
        {
          requestId: requestIdOf(req),
          method: req.method,
          path: req.url?.split('?')[0],
          type: 'request.aborted',
          status: 400,
        },
        ABORTED,
      ),
  };
}

/**
 * GraphQL over HTTP's "legacy watershed": a client that asks for `application/json` (not
 * `application/graphql-response+json`) reads errors from the body, and some treat a 4xx as a transport
 * failure; so an operation refused before execution (parse, validation, variables, limits) gets 200 with its
 * errors, as the spec says it SHOULD. Only for a client that names `application/json` in its Accept header; one
 * that names nothing or `*\/*` keeps the 400 (graphql-http's audit: SHOULD 23/23).
 */
const legacyJsonStatus: ApolloServerPlugin<RequestContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ request, response }) {
        if (response.http.status !== 400 || response.body.kind !== 'single') return;
        if (response.body.singleResult.data !== undefined) return;
        const accept = request.http?.headers.get('accept');
        if (!accept || !/application\/json/i.test(accept)) return;
        const preferred = new Negotiator({ headers: { accept } }).mediaType([
          'application/json',
          'application/graphql-response+json',
        ]);
        if (preferred === 'application/json') response.http.status = 200;
      },
    };
  },
};

/** An error of Express's body parser (body-parser and raw-body set these fields). */
interface BodyError {
  type?: string;
  status?: number;
  statusCode?: number;
  limit?: number;
  length?: number;
  expose?: boolean;
}

/**
 * Express's last error handler, for what fails before Apollo sees the request: a body over the limit gets a
 * JSON 413 PAYLOAD_TOO_LARGE (with the limit and the length declared), other unreadable bodies (bad JSON, an
 * unknown charset, a client that went away mid-body) a JSON 4xx BAD_REQUEST, anything else a bare JSON 500.
 * Each is logged as one JSON line, never Express's multi-line stack trace on stderr.
 */
function bodyErrors(log: typeof logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = (typeof err === 'object' && err !== null ? err : {}) as BodyError;
    const status = e.status ?? e.statusCode ?? 500;
    // The id the request's other lines and its answer carry: the client's X-Request-Id, or one made for it.
    const requestId = requestContext(req).requestId;
    if (res.headersSent) {
      // Too late for an answer: close the connection as Express would, without its stack trace on stderr.
      log.warn({ requestId, err: String(err) }, 'request failed after its answer began');
      return void req.socket.destroy();
    }
    res.setHeader(REQUEST_ID_HEADER, requestId);
    if (e.type === 'entity.too.large') {
      log.info({ requestId, type: e.type, limit: e.limit, length: e.length }, 'body too large');
      return void res.status(413).json({
        errors: [
          {
            message: `The request body is larger than the ${e.limit} bytes allowed`,
            extensions: { code: 'PAYLOAD_TOO_LARGE', limit: e.limit, measured: e.length },
          },
        ],
      });
    }
    if (status >= 400 && status < 500) {
      const what = e.type === 'request.aborted' ? ABORTED : 'unreadable request body';
      log.info({ requestId, method: req.method, path: req.path, type: e.type, status }, what);
      const message =
        e.type === 'entity.parse.failed'
          ? 'The request body is not valid JSON'
          : e.type === 'request.aborted'
            ? 'The request was aborted before its body was read'
            : e.expose && err instanceof Error
              ? err.message
              : 'The request body could not be read';
      return refuse(res, status, message, { code: 'BAD_REQUEST' });
    }
    log.error({ requestId, err: String(err) }, 'request failed before GraphQL');
    refuse(res, 500, 'Internal server error', { code: 'INTERNAL_SERVER_ERROR' });
  };
}

/** A request whose raw body express.json kept. */
type SignedRequest = Request & { rawBody?: Buffer };

const refuse = (res: Response, status: number, message: string, extensions: Record<string, string>) =>
  void res.status(status).json({ errors: [{ message, extensions }] });

/**
 * The two halves of a subgraph's signature check, around body parsing: a request without the header is
 * refused before its body is read; the others are checked over the raw bytes once read. A GET is refused
 * even when validly signed: its operation is in the query string, which the signature (over the empty body)
 * does not cover, so a captured header could carry any other operation; the gateway always POSTs.
 */
function signatureGuard(secret: string) {
  const check = (req: Request, res: Response, body: Buffer | undefined): boolean => {
    const verdict = verify(secret, req.get(SIGNATURE_HEADER), body ?? '');
    if (verdict.ok) return true;
    refuse(res, 401, verdict.message, { code: 'UNAUTHENTICATED', reason: verdict.reason });
    return false;
  };
  return {
    present: (req: Request, res: Response, next: NextFunction) => {
      if (req.get(SIGNATURE_HEADER) || check(req, res, undefined)) next();
    },
    valid: (req: Request, res: Response, next: NextFunction) => {
      if (!check(req, res, (req as SignedRequest).rawBody)) return;
      if (req.method === 'POST') return next();
      res.setHeader('allow', 'POST');
      refuse(res, 405, 'This subgraph takes signed operations by POST only', { code: 'BAD_REQUEST' });
    },
  };
}
