import { ApolloGateway } from '@apollo/gateway';
import {
  DEFAULT_EXPORT_MAX_ROWS,
  operationLimits,
  rateLimitConfig,
  type Config,
  type ExportLimits,
  type OperationLimits,
  type TrustProxy,
} from '@civic/common/config';
import { requestContext, type RequestContext } from '@civic/common/context';
import { logger } from '@civic/common/log';
import { createService, type Service, type ServiceGraphQL } from '@civic/common/service';
import type { Logger } from 'pino';
import { exportRoutes } from './export/http';
import type { SavedQuery } from './export/saved-queries';
import { renderExplorer } from './landing-page';
import { clientOf, type Client } from './ratelimit/client';
import { CostRateLimiter } from './ratelimit/limiter';
import { LiveSupergraph } from './registry/live';
import { openRegistryStore, type RegistryStore } from './registry/store';
import { subgraphSource, type SubgraphSourceOptions } from './subgraph-source';
import { readSupergraph } from './supergraph';
import { valueCompletionPlugin } from './value-completion';

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
  /** Answer introspection (the explorer needs it); default INTROSPECTION, itself true by default. */
  introspection?: boolean;
  /** Put `extensions.cost: { requested, limit }` in every response; default REPORT_COST (false). */
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
  const limiter =
    costPerMinute > 0
      ? new CostRateLimiter({
          costPerMinute,
          redisUrl: opts.rateLimit?.redisUrl !== undefined ? opts.rateLimit.redisUrl : env.redisUrl,
          keyPrefix: opts.rateLimit?.keyPrefix,
          log: logger.child({ service: 'gateway', component: 'ratelimit' }),
        })
      : undefined;
  await limiter?.connected();
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
  const gateway = new ApolloGateway({
    supergraphSdl: live?.hook ?? opts.supergraphSdl ?? readSupergraph(),
    // Ours at their configured URLs; a partner at the URL it was published with (written into the
    // supergraph by the registry's composition), with its timeout from the registry.
    buildService: ({ name, url: published }) => {
      const route = live?.route(name);
      const url = urls[name] ?? (live ? (route?.url ?? published) : undefined);
      if (!url) throw new Error(`No URL configured for subgraph "${name}"`);
      const source: SubgraphSourceOptions & { timeoutMs?: number } = { name, url };
      if (route?.timeoutMs) source.timeoutMs = route.timeoutMs;
      return subgraphSource(source);
    },
  });
  const exports = exportRoutes({
    maxRows: opts.exportMaxRows ?? DEFAULT_EXPORT_MAX_ROWS,
    savedQueries: opts.savedQueries,
    limits: opts.exportLimits,
    // The same client as /graphql's rate limit: its slots, its row limit.
    client: clientOf,
  });
  return createService<GatewayContext>({
    name: 'gateway',
    gateway,
    context: async (req) => ({ ...requestContext(req), client: clientOf(req) }),
    landingPage: renderExplorer({ endpoint: '/graphql' }),
    plugins: [exports.plugin, valueCompletionPlugin],
    // Checked here, before the planner sees the operation, and again by each subgraph. With REPORT_COST every
    // response says what the operation cost (extensions.cost), as Shopify's API does; a refusal always does.
    limits: opts.limits,
    introspection: opts.introspection,
    reportCost: opts.reportCost ?? operationLimits().reportCost,
    // Each operation's cost, once computed and before anything runs, is spent from its client's budget: at
    // /graphql and on every page of an export alike (both run through this server's plugins).
    rateLimit: limiter && {
      consume: (context, cost) => limiter.consume(context.client.id, cost),
      peek: (context) => limiter.peek(context.client.id),
    },
    trustProxy: opts.rateLimit?.trustProxy ?? env.trustProxy,
    // The export routes run their pages with the context this service builds (graphql.context), so each page
    // carries its client; they only read the RequestContext part of it.
    routes: (app, graphql) => exports.mount(app, graphql as unknown as ServiceGraphQL<RequestContext>),
    onStop: async () => limiter?.close(),
  });
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
    rateLimit: { ...config.rateLimit },
    registry: { store: await openRegistryStore(config.registry), pollMs: config.registryPollMs },
  });
}
