// First: before @apollo/gateway loads @apollo/federation-internals (see apollo-exports.ts).
import './apollo-exports';
import { ApolloGateway } from '@apollo/gateway';
import {
  DEFAULT_EXPORT_MAX_ROWS,
  exportLimits,
  operationDeduplicate,
  operationLimits,
  rateLimitConfig,
  requestDeadlineMs,
  resultShaping,
  type Config,
  type ExportLimits,
  type OperationLimits,
  type TrustProxy,
} from '@civic/common/config';
import {
  pastDeadline,
  requestContext,
  startDeadline,
  type RequestContext,
  type ServedRequest,
} from '@civic/common/context';
import type { ApolloServerPlugin } from '@apollo/server';
import type { Request, RequestHandler } from 'express';
import type { GraphQLError } from 'graphql';
import type { RateLimitHook, RateVerdict } from '@civic/common/limits';
import { logger } from '@civic/common/log';
import { gatewayMetrics, ServiceMetrics } from '@civic/common/metrics';
import type { FrontRun } from '@civic/common/front-graphql';
import { createService, type Service, type ServiceGraphQL } from '@civic/common/service';
import type { Logger } from 'pino';
import { earlyHits } from './cache/early';
import { coalescingExecutor, type CoalesceStats } from './coalesce';
import { createResponseCache, DEFAULT_HTTP_MAX_AGE, type ResponseCacheOptions } from './cache/response-cache';
import { openSharedStore } from './cache/store';
import { mountDashboard } from './dashboard/page';
import { exportRoutes } from './export/http';
import type { SavedQuery } from './export/saved-queries';
import { renderExplorer } from './landing-page';
import { installResultShaping } from './result-shaping';
import { ApiKeys } from './keys/api-keys';
import { DEFAULT_APQ_MEMORY_BYTES, persistedQueries, type PersistedOptions } from './persisted/http';
import { openPersistedStore } from './persisted/store';
import { openKeyStore, type KeyStore } from './keys/store';
import { clientResolver, earlyClient, requireValidKey, type Client } from './ratelimit/client';
import { PerMinuteLimiter, RateLimitStore } from './ratelimit/limiter';
import { gatewayReadiness } from './readiness';
import { LiveSupergraph } from './registry/live';
import { openRegistryStore, type RegistryStore } from './registry/store';
import { subgraphSource, type SubgraphDataSource, type SubgraphSourceOptions } from './subgraph-source';
import { readSupergraph } from './supergraph';
import { valueCompletionPlugin } from './value-completion';

// Who shapes answers out of the subgraphs' data (RESULT_SHAPING; gateway/src/result-shaping.ts): set as the
// gateway module loads, for every gateway of this process.
installResultShaping(resultShaping());

/** What the gateway needs: where each subgraph is, and (optionally) a supergraph other than the checked-in one. */
export interface GatewayOptions {
  subgraphUrls: Readonly<Record<string, string>>;
  supergraphSdl?: string;
  /** The most rows one export may have (config.exportMaxRows, from EXPORT_MAX_ROWS); default 1,000,000. */
  exportMaxRows?: number;
  /** The saved queries of `/export.csv?name=...`; default the files of `gateway/src/saved-queries`. */
  savedQueries?: ReadonlyMap<string, SavedQuery>;
  /** How exports are bounded and guarded (config.exportLimits); default the environment's (EXPORT_MAX_COLUMNS...). */
  exportLimits?: ExportLimits;
  /**
   * What one request may ask: body size, tokens, depth, aliases, directives, root fields, expanded fields and
   * cost (docs/protection.md); default the environment's (MAX_BODY_BYTES, MAX_TOKENS, ...).
   */
  limits?: OperationLimits;
  /**
   * How long one GraphQL request at /graphql may run, its subgraph calls included; past it the request is
   * answered 504 REQUEST_TIMEOUT, its calls in flight abandoned and no other made. Default REQUEST_DEADLINE_MS
   * (15,000). Exports are not held to it: their pages' calls are held to SUBGRAPH_TIMEOUT_MS and the export to
   * its rows and bytes.
   */
  requestDeadlineMs?: number;
  /** Answer introspection (the explorer needs it); default INTROSPECTION, itself true by default. */
  introspection?: boolean;
  /** Put `extensions.cost: { requested, limit, remaining }` in every response; default REPORT_COST (true). */
  reportCost?: boolean;
  /**
   * Each client's cost per minute (docs/protection.md); each field defaults to the environment's
   * (RATE_LIMIT_COST_PER_MINUTE, REDIS_URL, TRUST_PROXY). `costPerMinute: 0` turns the limit off; `keyPrefix`
   * names the Redis keys (default `civic:ratelimit`), so that tests or deployments sharing a Redis stay apart.
   */
  rateLimit?: {
    costPerMinute?: number;
    redisUrl?: string | null;
    keyPrefix?: string;
    trustProxy?: TrustProxy;
  };
  /**
   * API keys (`npm run keys`): a request with `Authorization: Bearer <key>` or `x-api-key: <key>` is that key's
   * holder, with its own cost and export rows per minute; a malformed, unknown or revoked key gets 401
   * INVALID_API_KEY. Keys are read through a cache (`cacheTtlMs`, default 30,000: how long a revoked key may
   * still work). The gateway owns the store: it closes it when it stops. Without it every client is anonymous,
   * by IP, and key headers are ignored.
   */
  keys?: { store: KeyStore; cacheTtlMs?: number };
  /**
   * Persisted queries (gateway/src/persisted): requests by id (`GET /graphql?id=<sha256>`, `documentId`), the
   * built-in manifests and `npm run persisted:add`'s documents, automatic persisted queries in the shared store,
   * and the safelist mode (`only`, PERSISTED_ONLY). Without it, a persisted-query request gets
   * PERSISTED_QUERY_NOT_SUPPORTED.
   */
  persisted?: PersistedOptions;
  /**
   * The response cache (gateway/src/cache/response-cache.ts): whole answers of queries kept in memory or Redis,
   * dropped when the data of a subgraph they read changes; Cache-Control and ETag on GET answers. Default `off`
   * (nothing kept; the HTTP headers are still set); `createConfiguredGateway` passes RESPONSE_CACHE (default
   * `memory`, `redis` with REDIS_URL).
   */
  responseCache?: ResponseCacheOptions;
  /**
   * Identical queries in flight at the same moment executed once, each request getting its own copy of the
   * answer (gateway/src/coalesce.ts); default OPERATION_DEDUPLICATE (true).
   */
  deduplicateOperations?: boolean;
  /**
   * GraphQL POSTs run without Express's middleware chain (common/src/front-graphql.ts), the same answers for less
   * CPU; `false` turns it off for this gateway, otherwise GRAPHQL_FRONT (default true) decides.
   */
  graphqlFront?: boolean;
  /**
   * Serve the partner subgraphs published in this schema registry too, live (see {@link LiveSupergraph}).
   * The gateway owns the store: it closes it when it stops. Ignored when `supergraphSdl` is given.
   */
  registry?: {
    store: RegistryStore;
    /** How often to look for a publication (config.registryPollMs); default 2000. */
    pollMs?: number;
    /** Where the registry's news go (a new supergraph, one refused); default the process logger. */
    log?: Logger;
  };
}

/**
 * Builds the gateway (without listening): the checked-in supergraph, composed at build time by
 * `npm run compose`, served with subgraph URLs from config, an offline GraphiQL explorer at GET /, and
 * exports of a query's first connection as CSV or JSON at GET /export.csv and /export.json. With a
 * `registry`, the partners published in it are composed onto ours and followed live.
 */
export async function createGatewayService(opts: GatewayOptions): Promise<Service> {
  const urls = opts.subgraphUrls;
  const env = rateLimitConfig();
  const costPerMinute = opts.rateLimit?.costPerMinute ?? env.costPerMinute;
  const exportLimitsUsed = opts.exportLimits ?? exportLimits();
  // One store (memory, or one Redis connection) for every per-minute count: cost, and export rows.
  const counts = new RateLimitStore({
    redisUrl: opts.rateLimit?.redisUrl !== undefined ? opts.rateLimit.redisUrl : env.redisUrl,
    log: logger.child({ service: 'gateway', component: 'ratelimit' }),
  });
  const keyPrefix = opts.rateLimit?.keyPrefix ?? 'civic:ratelimit';
  const limiter =
    costPerMinute > 0 ? new PerMinuteLimiter({ store: counts, points: costPerMinute, keyPrefix }) : undefined;
  const exportRows = new PerMinuteLimiter({
    store: counts,
    points: exportLimitsUsed.rowsPerMinute,
    keyPrefix: `${keyPrefix}:export-rows`,
  });
  await counts.connected();
  const keyLog = logger.child({ service: 'gateway', component: 'keys' });
  const apiKeys = opts.keys && new ApiKeys(opts.keys.store, { ttlMs: opts.keys.cacheTtlMs, log: keyLog });
  // Who each request is: its API key's holder, else its IP; once per request, for /graphql and the exports.
  const clientOf = clientResolver(apiKeys);
  const live =
    opts.registry && !opts.supergraphSdl
      ? new LiveSupergraph({
          store: opts.registry.store,
          coreUrls: urls,
          coreSupergraph: readSupergraph(),
          pollMs: opts.registry.pollMs ?? 2000,
          log: opts.registry.log ?? logger.child({ service: 'gateway' }),
        })
      : undefined;
  const responseCache = createResponseCache({
    options: opts.responseCache ?? { mode: 'off' },
    subgraphUrls: urls,
    log: logger.child({ service: 'gateway', component: 'cache' }),
  });
  // The metrics (GET /metrics): the data sources of the supergraph loaded now, by subgraph name; a new supergraph
  // builds them all again, each replacing the one of its name (a subgraph gone from it keeps its last state).
  const metrics = new ServiceMetrics('gateway');
  const sources = new Map<string, SubgraphDataSource>();
  const calls = gatewayMetrics(metrics, {
    sources: () => sources.entries(),
    cacheStats: () => ({ ...responseCache.stats }),
    operationsShared: () => coalesced.shared,
  });
  const reportCost = opts.reportCost ?? operationLimits().reportCost;
  const { maxCost, maxBodyBytes } = opts.limits ?? operationLimits().limits;
  const gateway = new ApolloGateway({
    supergraphSdl: live?.hook ?? opts.supergraphSdl ?? readSupergraph(),
    // Which subgraphs each operation's plan calls: a cached answer depends on their data versions only.
    experimental_didResolveQueryPlan: responseCache.didResolveQueryPlan,
    // Ours at their configured URLs; a partner at the URL it was published with (written into the
    // supergraph by the registry's composition), with its timeout from the registry.
    buildService: ({ name, url: published }) => {
      const route = live?.route(name);
      const url = urls[name] ?? (live ? (route?.url ?? published) : undefined);
      if (!url) throw new Error(`No URL configured for subgraph "${name}"`);
      const source: SubgraphSourceOptions & { timeoutMs?: number } = { name, url, metrics: calls };
      if (route?.timeoutMs) source.timeoutMs = route.timeoutMs;
      const built = subgraphSource(source);
      sources.set(name, built);
      return built;
    },
  });
  // Apollo Server takes the executor when it loads the gateway, at start: replaced before that.
  const coalesced: CoalesceStats = { executed: 0, shared: 0 };
  if (opts.deduplicateOperations ?? operationDeduplicate()) {
    gateway.executor = coalescingExecutor(gateway.executor, coalesced);
  }
  // The supergraph early cache lookups key on: the one Apollo serves (a partner's publication replaces it).
  gateway.onSchemaLoadOrUpdate(({ apiSchema }) => responseCache.schemaLoaded(apiSchema));
  const persisted = opts.persisted && (await persistedQueries(opts.persisted));
  const exports = exportRoutes({
    maxRows: opts.exportMaxRows ?? DEFAULT_EXPORT_MAX_ROWS,
    savedQueries: opts.savedQueries,
    limits: exportLimitsUsed,
    // The same client as /graphql's rate limit: its slots, its row limits. Asked first, before the export reads
    // its parameters: in safelist mode (PERSISTED_ONLY) an export's own `query` is refused there.
    client: persisted
      ? async (req) => {
          await persisted.checkExport(req);
          return clientOf(req);
        }
      : clientOf,
    rowsPerMinute: exportRows,
  });
  const context = async (req: Request): Promise<GatewayContext> => ({
    ...requestContext(req),
    client: await clientOf(req),
  });
  const deadlineMs = opts.requestDeadlineMs ?? requestDeadlineMs();
  // A GraphQL POST run without Express (common/src/front-graphql.ts) gets what Express's path gives it before
  // Apollo: its client (a key that is not valid goes to Express, which refuses it), its persisted document (a
  // refusal goes to Express), then its deadline. Everything else of the routes below concerns other paths.
  const frontClient = earlyClient(apiKeys);
  const frontAdmit = async (
    req: ServedRequest,
    body: Record<string, unknown>,
    ip: string | undefined,
  ): Promise<FrontRun<GatewayContext> | undefined> => {
    const client = await frontClient(req, ip);
    const run = client && (persisted ? await persisted.admits(body) : body);
    if (!run) return undefined;
    startDeadline(req, deadlineMs);
    return { context: { ...requestContext(req), client }, body: run };
  };
  // Each operation's cost, once computed and before anything runs, is spent from its client's budget: at
  // /graphql and on every page of an export alike (both run through this server's plugins), and by an answer
  // served from the cache. A key's holder spends from its key's own budget, and is told so.
  const rateLimit: RateLimitHook<GatewayContext> | undefined = limiter && {
    consume: async (context, cost) =>
      named(context.client, await limiter.consume(context.client.id, cost, context.client.costPerMinute)),
    peek: async (context) =>
      named(context.client, await limiter.peek(context.client.id, context.client.costPerMinute)),
  };
  // Current cached answers, as requests arrive, before Express and Apollo; everything else goes on to them.
  const early =
    responseCache.mode === 'off' || opts.responseCache?.early === false
      ? undefined
      : earlyHits({
          cache: responseCache,
          client: earlyClient(apiKeys),
          consume:
            limiter &&
            (async (client, cost) =>
              named(client, await limiter.consume(client.id, cost, client.costPerMinute))),
          reportCost,
          maxCost,
          metrics,
          httpMaxAge: opts.responseCache?.httpMaxAge ?? DEFAULT_HTTP_MAX_AGE,
          maxBodyBytes,
          persisted: persisted && { documents: persisted.documents, only: opts.persisted?.only ?? false },
        });
  return createService<GatewayContext>({
    name: 'gateway',
    gateway,
    metrics,
    context,
    landingPage: renderExplorer({ endpoint: '/graphql' }),
    // The cache after value completion: it sees the errors that plugin moves out of the extensions. The deadline's
    // answer first: neither of them sees the partial answer it replaces.
    plugins: [deadlineAnswer, exports.plugin, valueCompletionPlugin, responseCache.plugin],
    ready: gatewayReadiness(gateway, urls),
    // Checked here, before the planner sees the operation, and again by each subgraph. Every response says what
    // the operation cost and what is left of the client's budget (extensions.cost), as GitHub's and Shopify's
    // APIs do, unless REPORT_COST=false; a refusal always does.
    limits: opts.limits,
    introspection: opts.introspection,
    reportCost,
    rateLimit,
    trustProxy: opts.rateLimit?.trustProxy ?? env.trustProxy,
    // A request by id (or APQ hash) gets its document here, before Apollo reads it; refusals carry their code.
    beforeGraphQL: persisted ? [persisted.middleware] : [],
    beforeExpress: early,
    front: opts.graphqlFront === false ? undefined : { admit: frontAdmit },
    persistedQueries: persisted?.apollo,
    // The export routes run their pages with the context this service builds (graphql.context), so each page
    // carries its client; they only read the RequestContext part of it.
    routes: (app, graphql) => {
      // Before any route: a request with a bad API key is refused (401) before anything else runs.
      if (apiKeys) app.use(requireValidKey(clientOf, keyLog));
      exports.mount(app, graphql as unknown as ServiceGraphQL<RequestContext>);
      // The reference dashboard page and its files (GET /dashboard), built on the persisted queries alone.
      mountDashboard(app);
      // Last: only what reaches the GraphQL handler gets a deadline (not the exports, nor the dashboard).
      app.use(deadline(deadlineMs));
    },
    onStop: async () => {
      await counts.close();
      await responseCache.close();
      await opts.keys?.store.close();
      await persisted?.close();
    },
  });
}

/**
 * Starts the deadline of each GraphQL request (common/src/context.ts `startDeadline`): once it passes, the
 * request's signal is aborted with REQUEST_TIMEOUT, which the subgraph calls already obey (gateway/src/
 * subgraph-source.ts): those in flight are abandoned (their connections closed, so each subgraph stops the
 * request's SQL) and no other is made. A call's own SUBGRAPH_TIMEOUT_MS still holds within it.
 */
function deadline(ms: number): RequestHandler {
  return (req, _res, next) => {
    if (req.path === '/graphql' || req.path === '/') startDeadline(req, ms);
    next();
  };
}

/**
 * A request past its deadline is answered with that error alone, 504 (the gateway's upstream did not answer
 * in time), whatever part of the data had arrived: the client is told plainly that it was stopped, and nothing
 * partial is cached. The cost report (extensions) is kept.
 */
const deadlineAnswer: ApolloServerPlugin<RequestContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ contextValue, response }) {
        if (!pastDeadline(contextValue.signal) || response.body.kind !== 'single') return;
        const err = contextValue.signal.reason as GraphQLError;
        response.http.status = 504;
        response.body.singleResult = {
          errors: [{ message: err.message, extensions: { ...err.extensions } }],
          ...(response.body.singleResult.extensions
            ? { extensions: response.body.singleResult.extensions }
            : {}),
        };
      },
    };
  },
};

/** A key holder's verdict names its key's quota, so that a refusal says whose budget was spent. */
function named(client: Client, verdict: RateVerdict): RateVerdict {
  return client.anonymous
    ? verdict
    : { ...verdict, who: 'your API key', setting: "the key's --cost-per-minute" };
}

/** The gateway's per-request context: the client it is spending for, besides what every service has. */
interface GatewayContext extends RequestContext {
  client: Client;
}

/**
 * The gateway as `npm start` and `npm run start:gateway` build it: every setting from the configuration
 * (limits, exports, rate limits, the schema registry followed live), the subgraphs at `subgraphUrls`.
 */
export async function createConfiguredGateway(
  config: Config,
  subgraphUrls: Readonly<Record<string, string>>,
): Promise<Service> {
  return createGatewayService({
    subgraphUrls,
    exportMaxRows: config.exportMaxRows,
    exportLimits: config.exportLimits,
    limits: config.limits,
    introspection: config.introspection,
    reportCost: config.reportCost,
    requestDeadlineMs: config.requestDeadlineMs,
    rateLimit: { ...config.rateLimit },
    responseCache: { ...config.responseCache },
    keys: { store: await openKeyStore(config.gatewayDatabase) },
    persisted: {
      store: await openPersistedStore(config.gatewayDatabase),
      only: config.persisted.only,
      apq: {
        store: openSharedStore({
          redisUrl: config.rateLimit.redisUrl,
          maxBytes: DEFAULT_APQ_MEMORY_BYTES,
          log: logger.child({ service: 'gateway', component: 'persisted' }),
        }),
        ttlSeconds: config.persisted.apqTtlSeconds,
      },
    },
    registry: { store: await openRegistryStore(config.registry), pollMs: config.registryPollMs },
  });
}
