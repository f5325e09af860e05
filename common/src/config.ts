import { join } from 'node:path';
import { z } from 'zod';
import { parseFallback } from './language';
import type { Language } from './localized';
import { secretVariable } from './signing';

/**
 * One subgraph of the project, as the platform needs to know it: its name (also its SDL file
 * `schema/<name>.graphql`, its database suffix and its environment prefix `<NAME>_`) and default port. The
 * project's list is subgraphs/catalog.ts; the platform names none.
 */
export interface SubgraphEntry {
  readonly name: string;
  readonly port: number;
}

/** Where one subgraph keeps its tables. */
export type StorageConfig =
  | {
      type: 'mysql';
      url: string;
      database: string;
      /**
       * Read replicas of the same database (`<SUBGRAPH>_DATABASE_REPLICA_URLS`): a request's reads go to one of
       * them, writes, imports and migrations to `url` (common/src/db.ts). Absent: everything goes to `url`.
       */
      replicas?: readonly string[];
    }
  | { type: 'sqlite'; path: string };

/**
 * Where the schema registry (partner subgraphs and their versions) lives: every gateway replica and the
 * `npm run subgraph:*` commands must be given the same one. A directory of JSON documents, or two tables in a
 * MySQL database.
 */
export type RegistryConfig =
  { type: 'directory'; dir: string } | { type: 'mysql'; url: string; database: string };

/**
 * Where the gateway keeps its own tables (the API keys, gateway/src/keys): an embedded SQLite file, or a MySQL
 * database. Every gateway replica and `npm run keys` must be given the same one.
 */
export type GatewayDatabaseConfig =
  { type: 'sqlite'; path: string } | { type: 'mysql'; url: string; database: string };

/** Everything the services read from the environment, parsed once; `N` names the project's subgraphs. */
export interface Config<N extends string = string> {
  readonly host: string;
  readonly gatewayPort: number;
  readonly subgraphPorts: Readonly<Record<N, number>>;
  /** URL the gateway uses for each subgraph (defaults to localhost and the subgraph's port). */
  readonly subgraphUrls: Readonly<Record<N, string>>;
  readonly storage: Readonly<Record<N, StorageConfig>>;
  /** Seed the real datasets into an empty database when a service starts. */
  readonly seedOnStart: boolean;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** The order in which to pick a text's language when a request states no preference (LANGUAGE_FALLBACK). */
  readonly languageFallback: readonly Language[];
  /** The most rows one export (`/export.csv`, `/export.json`, `npm run export`) may have (EXPORT_MAX_ROWS). */
  readonly exportMaxRows: number;
  /** The schema registry the gateway serves partner subgraphs from (see {@link registryFor}). */
  readonly registry: RegistryConfig;
  /** How often (ms) the gateway looks for a change in the registry (REGISTRY_POLL_MS, default 2000). */
  readonly registryPollMs: number;
  /** How long the gateway waits for a subgraph's answer, in milliseconds (SUBGRAPH_TIMEOUT_MS). */
  readonly subgraphTimeoutMs: number;
  /** How long one GraphQL request at the gateway may run, all its subgraph calls included (REQUEST_DEADLINE_MS). */
  readonly requestDeadlineMs: number;
  /**
   * Each subgraph's signing secret (SUBGRAPH_SECRET_<NAME>), or null: with a secret the gateway signs its
   * calls to that subgraph and the subgraph refuses unsigned ones (common/src/signing.ts).
   */
  readonly subgraphSecrets: Readonly<Record<N, string | null>>;
  /** What one GraphQL request may ask (MAX_BODY_BYTES, MAX_TOKENS, MAX_DEPTH... see {@link OperationLimits}). */
  readonly limits: OperationLimits;
  /** Whether the gateway answers introspection (INTROSPECTION, default true: the explorer needs it). */
  readonly introspection: boolean;
  /** Whether every gateway response carries `extensions.cost` (REPORT_COST, default true, as GitHub's and Shopify's do). */
  readonly reportCost: boolean;
  /** How exports are bounded and guarded beyond EXPORT_MAX_ROWS (EXPORT_MAX_COLUMNS... see {@link ExportLimits}). */
  readonly exportLimits: ExportLimits;
  /** Each client's cost per minute, where budgets are kept, and whether X-Forwarded-For names the client (see {@link RateLimitConfig}). */
  readonly rateLimit: RateLimitConfig;
  /** The gateway's own database, where API keys are kept (see {@link gatewayDatabaseFor}). */
  readonly gatewayDatabase: GatewayDatabaseConfig;
  /** The gateway's response cache (RESPONSE_CACHE...; see {@link ResponseCacheConfig}). */
  readonly responseCache: ResponseCacheConfig;
  /** Persisted documents and automatic persisted queries at the gateway (see {@link PersistedConfig}). */
  readonly persisted: PersistedConfig;
}

/** Persisted queries at the gateway (gateway/src/persisted). */
export interface PersistedConfig {
  /**
   * Safelist mode (PERSISTED_ONLY, default false): only persisted documents run (the built-in manifests' and
   * `npm run persisted:add`'s); any other operation, an APQ registration and an export's own query are refused.
   */
  readonly only: boolean;
  /** How long a document registered by automatic persisted queries is kept (APQ_TTL_SECONDS, default a day). */
  readonly apqTtlSeconds: number;
}

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
const mysqlUrl = z
  .string()
  .regex(/^mysql:\/\//, 'must start with mysql://')
  .refine((u) => URL.canParse(u), 'must be a valid URL')
  .optional();

/** The default of EXPORT_MAX_ROWS. */
export const DEFAULT_EXPORT_MAX_ROWS = 1_000_000;

/** The default of SUBGRAPH_TIMEOUT_MS. */
export const DEFAULT_SUBGRAPH_TIMEOUT_MS = 5000;

const subgraphTimeout = z.coerce.number().int().min(1).max(600_000).default(DEFAULT_SUBGRAPH_TIMEOUT_MS);

/**
 * The default of REQUEST_DEADLINE_MS: three subgraph calls one after another, each at SUBGRAPH_TIMEOUT_MS's
 * default, fit in it (a query plan of three sequential steps is a deep one).
 */
export const DEFAULT_REQUEST_DEADLINE_MS = 15_000;
const requestDeadline = z.coerce.number().int().min(100).max(600_000).default(DEFAULT_REQUEST_DEADLINE_MS);

/** DATABASE_STATEMENT_TIMEOUT_MS: 0 turns it off; unset, SUBGRAPH_TIMEOUT_MS (see {@link statementTimeoutMs}). */
const statementTimeout = z.coerce.number().int().min(0).max(600_000).optional();

/** `<SUBGRAPH>_DATABASE_REPLICA_URLS`: mysql:// URLs separated by commas; empty means none. */
const replicaUrls = z
  .string()
  .optional()
  .superRefine((v, ctx) => {
    for (const u of splitUrls(v)) {
      if (!/^mysql:\/\//.test(u))
        ctx.addIssue({ code: 'custom', message: 'each URL must start with mysql://' });
      else if (!URL.canParse(u)) ctx.addIssue({ code: 'custom', message: 'each URL must be a valid URL' });
    }
  });

const splitUrls = (v: string | undefined): string[] =>
  (v ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');

/** The default of SHUTDOWN_TIMEOUT_MS: what docker's and Kubernetes' grace periods (10 s, 30 s) leave room for. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

/** METRICS_PORT: where GET /metrics is served instead of each service's own port (unset: on its own port). */
const metricsPortSchema = z.coerce.number().int().min(0).max(65535).optional();
const shutdownTimeout = z.coerce.number().int().min(0).max(600_000).default(DEFAULT_SHUTDOWN_TIMEOUT_MS);

/** A signing secret: unset or empty means none; a set one must be long enough not to be guessed. */
const secret = z.preprocess(
  (v) => (v === '' ? undefined : v),
  z.string().min(16, 'must be at least 16 characters (e.g. `openssl rand -hex 32`)').optional(),
);

// ---- Operation limits and introspection (issue 10; docs/protection.md says why each default) ----

/** What one GraphQL request may ask of a service (the gateway, and each subgraph as defence in depth). */
export interface OperationLimits {
  /** The largest request body, in bytes (MAX_BODY_BYTES); above it: 413 PAYLOAD_TOO_LARGE. */
  readonly maxBodyBytes: number;
  /** The most lexical tokens in a document (MAX_TOKENS): TOO_MANY_TOKENS, before it is even parsed whole. */
  readonly maxTokens: number;
  /** The deepest nesting of fields, fragments included (MAX_DEPTH): QUERY_TOO_DEEP. */
  readonly maxDepth: number;
  /** The most aliases in an operation, fragments included (MAX_ALIASES): TOO_MANY_ALIASES. */
  readonly maxAliases: number;
  /** The most directives in an operation, fragments included (MAX_DIRECTIVES): TOO_MANY_DIRECTIVES. */
  readonly maxDirectives: number;
  /** The most root fields in an operation (MAX_ROOT_FIELDS): TOO_MANY_ROOT_FIELDS. */
  readonly maxRootFields: number;
  /** The most fields once every fragment spread is expanded (MAX_FIELDS; the Router's max_height): TOO_MANY_FIELDS. */
  readonly maxFields: number;
  /** The highest cost (common/src/limits/cost.ts) an operation may have (MAX_COST): QUERY_TOO_COMPLEX. */
  readonly maxCost: number;
  /**
   * The longest string argument value, in characters, literal or from a variable, however deep in an input
   * (MAX_STRING_LENGTH): BAD_USER_INPUT naming the argument (common/src/limits/strings.ts).
   */
  readonly maxStringLength: number;
}

/** The defaults of the operation limits: far above the dashboards' queries, far below a hostile document's. */
export const DEFAULT_OPERATION_LIMITS: OperationLimits = Object.freeze({
  maxBodyBytes: 1_048_576,
  maxTokens: 2000,
  maxDepth: 10,
  maxAliases: 30,
  maxDirectives: 50,
  maxRootFields: 20,
  maxFields: 500,
  maxCost: 50_000,
  // The longest cursor the seeded data gives is 1,035 characters (commitments ordered by all seven fields, a
  // 603-byte title among them); a search is capped at 300 by its subgraph, an id is 34 at most.
  maxStringLength: 4096,
});

const limit = (fallback: number, min = 1) => z.coerce.number().int().min(min).default(fallback);
const onOff = (fallback: 'true' | 'false') => z.enum(['true', 'false', '1', '0']).default(fallback);

/** The variables of the gateway's connections to its subgraphs (see subgraphTransport). */
const SUBGRAPH_TRANSPORT_ENV = {
  SUBGRAPH_MAX_SOCKETS: z.coerce.number().int().min(1).max(10_000).default(64),
  SUBGRAPH_DEDUPLICATE: onOff('true'),
  SUBGRAPH_BATCH: onOff('true'),
  OPERATION_DEDUPLICATE: onOff('true'),
  RESULT_SHAPING: z.enum(['compiled', 'apollo']).default('compiled'),
};

/** The variables of the operation limits, as EnvSchema reads them. */
const LIMITS_ENV = {
  MAX_BODY_BYTES: limit(DEFAULT_OPERATION_LIMITS.maxBodyBytes, 1024),
  MAX_TOKENS: limit(DEFAULT_OPERATION_LIMITS.maxTokens),
  MAX_DEPTH: limit(DEFAULT_OPERATION_LIMITS.maxDepth),
  MAX_ALIASES: limit(DEFAULT_OPERATION_LIMITS.maxAliases, 0),
  MAX_DIRECTIVES: limit(DEFAULT_OPERATION_LIMITS.maxDirectives, 0),
  MAX_ROOT_FIELDS: limit(DEFAULT_OPERATION_LIMITS.maxRootFields),
  MAX_FIELDS: limit(DEFAULT_OPERATION_LIMITS.maxFields),
  MAX_COST: limit(DEFAULT_OPERATION_LIMITS.maxCost),
  MAX_STRING_LENGTH: limit(DEFAULT_OPERATION_LIMITS.maxStringLength, 16),
  /** Introspection at the gateway (the public explorer needs it); subgraphs allow it only to signed calls. */
  INTROSPECTION: onOff('true'),
  /**
   * `extensions.cost` in every gateway response (what the operation cost, the limit, and what is left of the
   * client's budget), not only in a QUERY_TOO_COMPLEX refusal: a client can pace itself, as GitHub's and
   * Shopify's APIs let it.
   */
  REPORT_COST: onOff('true'),
};
const LimitsSchema = z.object(LIMITS_ENV);

function limitsOf(e: z.infer<typeof LimitsSchema>): OperationLimits {
  return Object.freeze({
    maxBodyBytes: e.MAX_BODY_BYTES,
    maxTokens: e.MAX_TOKENS,
    maxDepth: e.MAX_DEPTH,
    maxAliases: e.MAX_ALIASES,
    maxDirectives: e.MAX_DIRECTIVES,
    maxRootFields: e.MAX_ROOT_FIELDS,
    maxFields: e.MAX_FIELDS,
    maxCost: e.MAX_COST,
    maxStringLength: e.MAX_STRING_LENGTH,
  });
}

/**
 * The operation limits and INTROSPECTION alone, validated as {@link loadConfig} does: what a service reads
 * when it is built without explicit limits (every subgraph, and the gateway unless given its own).
 */
export function operationLimits(env: NodeJS.ProcessEnv = process.env): {
  limits: OperationLimits;
  introspection: boolean;
  reportCost: boolean;
} {
  const parsed = LimitsSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  const on = (v: string) => v === 'true' || v === '1';
  return {
    limits: limitsOf(parsed.data),
    introspection: on(parsed.data.INTROSPECTION),
    reportCost: on(parsed.data.REPORT_COST),
  };
}

// ---- end of operation limits ----

// ---- Export limits and CSRF prevention (issue 10; gateway/src/export, .env.example says why each default) ----

/** How the export endpoints are bounded and guarded, beyond EXPORT_MAX_ROWS (the hard cap on rows). */
export interface ExportLimits {
  /** Rows one export may have for a caller without an API key (EXPORT_ANONYMOUS_MAX_ROWS), at most EXPORT_MAX_ROWS. */
  readonly anonymousMaxRows: number;
  /** Columns (leaf fields of a row) one export may select (EXPORT_MAX_COLUMNS), CSV and JSON alike. */
  readonly maxColumns: number;
  /** Bytes one export's body may have (EXPORT_MAX_BYTES). */
  readonly maxBytes: number;
  /** Exports one client (its IP) may run at once on one gateway process (EXPORT_MAX_CONCURRENT_PER_CLIENT). */
  readonly maxConcurrentPerClient: number;
  /**
   * EXPORT_CSRF: `fetch-metadata` refuses a query export that a browser sends from another site's page without
   * a preflight header; `require-header` refuses every query export without one, as Apollo does for /graphql.
   */
  readonly csrf: 'fetch-metadata' | 'require-header';
  /**
   * Rows one anonymous client may export per minute, all its exports together (EXPORT_ROWS_PER_MINUTE); 0: no
   * limit. Counted as pages are written, in the rate limits' store (memory, or Redis with REDIS_URL).
   */
  readonly rowsPerMinute: number;
  /** The same for an API key created without `--export-rows` (EXPORT_KEY_ROWS_PER_MINUTE). */
  readonly keyRowsPerMinute: number;
}

/** The defaults of the export limits. */
export const DEFAULT_EXPORT_LIMITS: ExportLimits = Object.freeze({
  anonymousMaxRows: 100_000,
  maxColumns: 256,
  maxBytes: 1024 * 1024 * 1024,
  maxConcurrentPerClient: 2,
  csrf: 'fetch-metadata',
  // Two anonymous exports at EXPORT_ANONYMOUS_MAX_ROWS a minute; a key: one at EXPORT_MAX_ROWS (docs/protection.md).
  rowsPerMinute: 200_000,
  keyRowsPerMinute: 1_000_000,
});

/** The variables of the export limits, as EnvSchema reads them. */
const EXPORT_LIMITS_ENV = {
  EXPORT_ANONYMOUS_MAX_ROWS: z.coerce.number().int().min(1).default(DEFAULT_EXPORT_LIMITS.anonymousMaxRows),
  EXPORT_MAX_COLUMNS: z.coerce.number().int().min(1).max(100_000).default(DEFAULT_EXPORT_LIMITS.maxColumns),
  EXPORT_MAX_BYTES: z.coerce.number().int().min(1024).default(DEFAULT_EXPORT_LIMITS.maxBytes),
  EXPORT_MAX_CONCURRENT_PER_CLIENT: z.coerce
    .number()
    .int()
    .min(1)
    .default(DEFAULT_EXPORT_LIMITS.maxConcurrentPerClient),
  EXPORT_CSRF: z.enum(['fetch-metadata', 'require-header']).default(DEFAULT_EXPORT_LIMITS.csrf),
  EXPORT_ROWS_PER_MINUTE: z.coerce.number().int().min(0).default(DEFAULT_EXPORT_LIMITS.rowsPerMinute),
  EXPORT_KEY_ROWS_PER_MINUTE: z.coerce.number().int().min(1).default(DEFAULT_EXPORT_LIMITS.keyRowsPerMinute),
};
const ExportLimitsSchema = z.object(EXPORT_LIMITS_ENV);

function exportLimitsOf(e: z.infer<typeof ExportLimitsSchema>): ExportLimits {
  return Object.freeze({
    anonymousMaxRows: e.EXPORT_ANONYMOUS_MAX_ROWS,
    maxColumns: e.EXPORT_MAX_COLUMNS,
    maxBytes: e.EXPORT_MAX_BYTES,
    maxConcurrentPerClient: e.EXPORT_MAX_CONCURRENT_PER_CLIENT,
    csrf: e.EXPORT_CSRF,
    rowsPerMinute: e.EXPORT_ROWS_PER_MINUTE,
    keyRowsPerMinute: e.EXPORT_KEY_ROWS_PER_MINUTE,
  });
}

/**
 * The export limits alone, validated as {@link loadConfig} does: what the gateway's export routes read when
 * they are built without explicit limits.
 */
export function exportLimits(env: NodeJS.ProcessEnv = process.env): ExportLimits {
  const parsed = ExportLimitsSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  return exportLimitsOf(parsed.data);
}

// ---- end of export limits ----

// ---- Rate limits (issue 10; docs/protection.md says why the default) ----

/**
 * Express's `trust proxy` (TRUST_PROXY): false, the client is the socket's address and X-Forwarded-For is
 * ignored; true, every proxy is trusted (the left-most X-Forwarded-For address is the client); a number, that
 * many proxies in front of the gateway; or addresses and subnets of the trusted proxies, comma-separated
 * (Express's names `loopback`, `linklocal`, `uniquelocal` included).
 */
export type TrustProxy = boolean | number | string;

/** How the gateway limits each client's cost per minute (gateway/src/ratelimit). */
export interface RateLimitConfig {
  /** The cost (common/src/limits/cost.ts) one client may spend per minute (RATE_LIMIT_COST_PER_MINUTE); 0: no limit. */
  readonly costPerMinute: number;
  /** The Redis the replicas share their budgets through (REDIS_URL); null: each process counts in memory. */
  readonly redisUrl: string | null;
  /** Express's `trust proxy` (TRUST_PROXY, default false): whether the client IP is read from X-Forwarded-For. */
  readonly trustProxy: TrustProxy;
}

/** The default of RATE_LIMIT_COST_PER_MINUTE: a dashboard never meets it, a scraper of full pages does. */
export const DEFAULT_RATE_LIMIT_COST_PER_MINUTE = 200_000;

/** The variables of the rate limits, as EnvSchema reads them. */
const RATE_LIMIT_ENV = {
  RATE_LIMIT_COST_PER_MINUTE: z.coerce.number().int().min(0).default(DEFAULT_RATE_LIMIT_COST_PER_MINUTE),
  REDIS_URL: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
      .refine((u) => URL.canParse(u), 'must be a valid URL')
      .optional(),
  ),
  TRUST_PROXY: z.string().trim().default('false'),
};
const RateLimitSchema = z.object(RATE_LIMIT_ENV);

function trustProxyOf(value: string): TrustProxy {
  if (value === '' || value === 'false' || value === '0') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

function rateLimitOf(e: z.infer<typeof RateLimitSchema>): RateLimitConfig {
  return Object.freeze({
    costPerMinute: e.RATE_LIMIT_COST_PER_MINUTE,
    redisUrl: e.REDIS_URL ?? null,
    trustProxy: trustProxyOf(e.TRUST_PROXY),
  });
}

/**
 * The rate limit settings alone, validated as {@link loadConfig} does: what the gateway reads when it is built
 * without explicit ones.
 */
export function rateLimitConfig(env: NodeJS.ProcessEnv = process.env): RateLimitConfig {
  const parsed = RateLimitSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  return rateLimitOf(parsed.data);
}

// ---- end of rate limits ----

// ---- Server bounds and CORS (issue 10; docs/protection.md says why each default) ----

/** How long a connection may take and how many there may be, for every service's HTTP server. */
export interface ServerBounds {
  /** Time to receive a request's headers (HEADERS_TIMEOUT_MS); then 408 and the connection is closed. */
  readonly headersTimeoutMs: number;
  /** Time to receive a whole request, body included (REQUEST_TIMEOUT_MS): a slow upload is cut off. */
  readonly requestTimeoutMs: number;
  /** How long an idle keep-alive connection is kept open between requests (KEEP_ALIVE_TIMEOUT_MS). */
  readonly keepAliveTimeoutMs: number;
  /** The most open connections one process accepts (MAX_CONNECTIONS); a new one over it is closed at once. */
  readonly maxConnections: number;
  /** The largest request head (request line and headers), in bytes (MAX_HEADER_BYTES); over it: 431. */
  readonly maxHeaderBytes: number;
}

/** The defaults of the server bounds. */
export const DEFAULT_SERVER_BOUNDS: ServerBounds = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1024,
  maxHeaderBytes: 16_384,
});

/** The variables of the server bounds and CORS, as EnvSchema reads them. */
const SERVER_ENV = {
  HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).default(DEFAULT_SERVER_BOUNDS.headersTimeoutMs),
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(DEFAULT_SERVER_BOUNDS.requestTimeoutMs),
  KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(0).default(DEFAULT_SERVER_BOUNDS.keepAliveTimeoutMs),
  MAX_CONNECTIONS: z.coerce.number().int().min(1).default(DEFAULT_SERVER_BOUNDS.maxConnections),
  MAX_HEADER_BYTES: z.coerce.number().int().min(1024).default(DEFAULT_SERVER_BOUNDS.maxHeaderBytes),
  /**
   * GraphQL POSTs handed to Apollo in the HTTP server's own handler, without Express's middleware chain
   * (common/src/front-graphql.ts; the same answers, less CPU per request); false: every request through Express.
   */
  GRAPHQL_FRONT: onOff('true'),
  /**
   * The origins whose pages may read the gateway's answers: `*` (default: any page, never with credentials) or
   * a comma-separated list of origins (`https://a.example,https://b.example`).
   */
  CORS_ORIGINS: z
    .string()
    .trim()
    .default('*')
    .refine(
      (v) => v === '*' || v.split(',').every((o) => /^https?:\/\/[^/\s,]+$/.test(o.trim())),
      'must be * or comma-separated origins such as https://news.example (scheme and host, no path)',
    ),
};
const ServerSchema = z.object(SERVER_ENV).refine((e) => e.HEADERS_TIMEOUT_MS <= e.REQUEST_TIMEOUT_MS, {
  message: 'must not be longer than REQUEST_TIMEOUT_MS (the headers are part of the request)',
  path: ['HEADERS_TIMEOUT_MS'],
});

/**
 * The server bounds and CORS_ORIGINS alone, validated as {@link loadConfig} does: what every service reads when
 * it is built. `corsOrigins` is `'*'` or the list of allowed origins.
 */
export function serverSettings(env: NodeJS.ProcessEnv = process.env): {
  bounds: ServerBounds;
  corsOrigins: '*' | readonly string[];
  /** GRAPHQL_FRONT: GraphQL POSTs run without Express where the service allows it. */
  graphqlFront: boolean;
} {
  const parsed = ServerSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  return {
    bounds: Object.freeze({
      headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_MS,
      maxConnections: e.MAX_CONNECTIONS,
      maxHeaderBytes: e.MAX_HEADER_BYTES,
    }),
    corsOrigins: e.CORS_ORIGINS === '*' ? '*' : Object.freeze(e.CORS_ORIGINS.split(',').map((o) => o.trim())),
    graphqlFront: e.GRAPHQL_FRONT === 'true' || e.GRAPHQL_FRONT === '1',
  };
}

// ---- end of server bounds and CORS ----

// ---- Response budget per request (issue 10; docs/protection.md says why the defaults) ----

/** What one client request may receive from the subgraphs, all the calls of its query plan together. */
export interface ResponseBudgetLimits {
  /** Bytes of subgraph answers (MAX_RESPONSE_BYTES). */
  readonly maxBytes: number;
  /** Objects in the subgraph answers' data (MAX_RESPONSE_NODES). */
  readonly maxNodes: number;
}

/** The defaults of the response budget: far above the largest real answer, and above one call's caps. */
export const DEFAULT_RESPONSE_BUDGET: ResponseBudgetLimits = Object.freeze({
  maxBytes: 16 * 1024 * 1024,
  maxNodes: 200_000,
});

/** The variables of the response budget, as EnvSchema reads them. */
const RESPONSE_BUDGET_ENV = {
  MAX_RESPONSE_BYTES: z.coerce.number().int().min(1024).default(DEFAULT_RESPONSE_BUDGET.maxBytes),
  MAX_RESPONSE_NODES: z.coerce.number().int().min(1).default(DEFAULT_RESPONSE_BUDGET.maxNodes),
};
const ResponseBudgetSchema = z.object(RESPONSE_BUDGET_ENV);

/**
 * The response budget alone, validated as {@link loadConfig} does: what the gateway's subgraph data sources
 * read when they are built without an explicit one.
 */
export function responseBudget(env: NodeJS.ProcessEnv = process.env): ResponseBudgetLimits {
  const parsed = ResponseBudgetSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  return Object.freeze({
    maxBytes: parsed.data.MAX_RESPONSE_BYTES,
    maxNodes: parsed.data.MAX_RESPONSE_NODES,
  });
}

// ---- end of response budget ----

// ---- Migrations at start (issue 12; common/src/migrate.ts) ----

/** The variable of migrations at start, as EnvSchema reads it. */
const MIGRATE_ENV = {
  /**
   * Whether a subgraph on MySQL runs its pending migrations when it starts (under the migration lock). Default
   * false: migrations are a step (`npm run migrate`, compose's migrate service, a Kubernetes Job), and a service
   * refuses to start on an unmigrated database. The embedded SQLite files always migrate; `npm start` sets it
   * to true unless told otherwise (the all-in-one developer command).
   */
  MIGRATE_ON_START: onOff('false'),
};

/** MIGRATE_ON_START alone, validated as {@link loadConfig} does. */
export function migrateOnStart(env: NodeJS.ProcessEnv = process.env): boolean {
  const parsed = z.object(MIGRATE_ENV).safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  return parsed.data.MIGRATE_ON_START === 'true' || parsed.data.MIGRATE_ON_START === '1';
}

// ---- end of migrations at start ----

// ---- Response cache (issue 11; gateway/src/cache) ----

/** The gateway's response cache: where answers are kept, how big it may grow, how it learns of writes. */
export interface ResponseCacheConfig {
  /**
   * RESPONSE_CACHE: `off`; `memory` (this process, an LRU bounded by `maxBytes`); `redis` (REDIS_URL, shared by
   * every replica). Default `redis` when REDIS_URL is set, else `memory`.
   */
  readonly mode: 'off' | 'memory' | 'redis';
  readonly redisUrl: string | null;
  /** The most bytes the memory LRU holds (RESPONSE_CACHE_MAX_MB, default 64). */
  readonly maxBytes: number;
  /** How often the gateway asks each subgraph for its data version, in ms (RESPONSE_CACHE_POLL_MS, default 250). */
  readonly pollMs: number;
  /**
   * The most `max-age` a cacheable GET answer tells browsers and CDNs (RESPONSE_CACHE_HTTP_MAX_AGE, seconds,
   * default 60): they cannot be told of a write, the gateway's own cache can.
   */
  readonly httpMaxAge: number;
}

const RESPONSE_CACHE_ENV = {
  RESPONSE_CACHE: z.enum(['off', 'memory', 'redis']).optional(),
  RESPONSE_CACHE_MAX_MB: z.coerce.number().int().min(1).max(65_536).default(64),
  RESPONSE_CACHE_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(250),
  RESPONSE_CACHE_HTTP_MAX_AGE: z.coerce.number().int().min(0).max(31_536_000).default(60),
};

function responseCacheOf(e: z.infer<z.ZodObject<typeof RESPONSE_CACHE_ENV>> & { REDIS_URL?: string }) {
  const redisUrl = e.REDIS_URL ?? null;
  const mode = e.RESPONSE_CACHE ?? (redisUrl ? 'redis' : 'memory');
  if (mode === 'redis' && !redisUrl) {
    throw new Error('Invalid configuration: RESPONSE_CACHE: "redis" needs REDIS_URL (the Redis to share)');
  }
  return Object.freeze({
    mode,
    redisUrl,
    maxBytes: e.RESPONSE_CACHE_MAX_MB * 1024 * 1024,
    pollMs: e.RESPONSE_CACHE_POLL_MS,
    httpMaxAge: e.RESPONSE_CACHE_HTTP_MAX_AGE,
  });
}

/** The response cache settings alone, validated as {@link loadConfig} does. */
export function responseCacheConfig(env: NodeJS.ProcessEnv = process.env): ResponseCacheConfig {
  const parsed = z.object({ ...RESPONSE_CACHE_ENV, REDIS_URL: RATE_LIMIT_ENV.REDIS_URL }).safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  return responseCacheOf(parsed.data);
}

// ---- end of response cache ----

// ---- Traces (issue 12; common/src/tracing.ts, docs/operations.md "Traces") ----

/** How the services export their spans, when they do (OTEL_EXPORTER_OTLP_ENDPOINT or ..._TRACES_ENDPOINT set). */
export interface TracingConfig {
  /** Where spans are POSTed, as OTLP/HTTP JSON: ..._TRACES_ENDPOINT as given, else ..._ENDPOINT + `/v1/traces`. */
  readonly url: string;
  /** OTEL_SERVICE_NAME: every service of the process is named so; unset, each is `civic-<service>`. */
  readonly serviceName: string | undefined;
  /** OTEL_TRACES_SAMPLER (default `parentbased_always_on`) and its ratio OTEL_TRACES_SAMPLER_ARG (default 1). */
  readonly sampler: { readonly name: TracesSampler; readonly ratio: number };
}

/** The samplers of the OpenTelemetry specification that need nothing else installed. */
export const TRACES_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type TracesSampler = (typeof TRACES_SAMPLERS)[number];

/** An unset or empty variable is absent, as the OpenTelemetry specification says. */
const unsetIfEmpty = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), schema.optional());
const httpUrl = z
  .string()
  .refine(
    (u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol),
    'must be an http:// or https:// URL',
  );

/** The standard OpenTelemetry variables this project reads (the others, headers and timeouts, the exporter reads). */
const TRACING_ENV = {
  /** The OTLP/HTTP collector's base URL (`http://jaeger:4318`): spans go to its `/v1/traces`. Unset: no traces. */
  OTEL_EXPORTER_OTLP_ENDPOINT: unsetIfEmpty(httpUrl),
  /** The full URL spans are POSTed to, when not `<OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces`. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: unsetIfEmpty(httpUrl),
  /** Only OTLP over HTTP with JSON bodies is built in (no gRPC or protobuf exporter is installed). */
  OTEL_EXPORTER_OTLP_PROTOCOL: unsetIfEmpty(
    z.enum(['http/json'], { message: 'only "http/json" is supported (OTLP over HTTP, JSON bodies)' }),
  ),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: unsetIfEmpty(
    z.enum(['http/json'], { message: 'only "http/json" is supported (OTLP over HTTP, JSON bodies)' }),
  ),
  OTEL_SERVICE_NAME: unsetIfEmpty(z.string().max(255)),
  OTEL_TRACES_SAMPLER: unsetIfEmpty(
    z.enum(TRACES_SAMPLERS, { message: `must be one of ${TRACES_SAMPLERS.join(', ')}` }),
  ),
  OTEL_TRACES_SAMPLER_ARG: unsetIfEmpty(z.coerce.number().min(0).max(1)),
  /** `true`: no traces whatever the endpoint says. */
  OTEL_SDK_DISABLED: unsetIfEmpty(z.enum(['true', 'false'])),
};
const TracingSchema = z.object(TRACING_ENV);

/**
 * The traces' configuration, validated as {@link loadConfig} does (a bad value names its variable), or null when
 * no endpoint is set (or OTEL_SDK_DISABLED=true): then nothing about tracing is set up at all.
 */
export function tracingConfig(env: NodeJS.ProcessEnv = process.env): TracingConfig | null {
  const parsed = TracingSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  const url =
    e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (e.OTEL_EXPORTER_OTLP_ENDPOINT && `${e.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`);
  if (!url || e.OTEL_SDK_DISABLED === 'true') return null;
  return Object.freeze({
    url,
    serviceName: e.OTEL_SERVICE_NAME,
    sampler: Object.freeze({
      name: e.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on',
      ratio: e.OTEL_TRACES_SAMPLER_ARG ?? 1,
    }),
  });
}

// ---- end of traces ----

const EnvSchema = z.object({
  ...MIGRATE_ENV,
  HOST: z.string().min(1).default('0.0.0.0'),
  GATEWAY_PORT: port(4000),
  DATABASE_URL: mysqlUrl,
  DATA_DIR: z.string().min(1).optional(),
  SEED_ON_START: z.enum(['true', 'false', '1', '0']).default('true'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  LANGUAGE_FALLBACK: z
    .string()
    .optional()
    .superRefine((v, ctx) => {
      try {
        parseFallback(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/^LANGUAGE_FALLBACK: /, '') });
      }
    }),
  EXPORT_MAX_ROWS: z.coerce.number().int().min(1).default(DEFAULT_EXPORT_MAX_ROWS),
  REGISTRY_DIR: z.string().min(1).optional(),
  REGISTRY_DATABASE_URL: mysqlUrl,
  REGISTRY_POLL_MS: z.coerce.number().int().min(100).max(60_000).default(2000),
  GATEWAY_DATABASE_URL: mysqlUrl,
  SUBGRAPH_TIMEOUT_MS: subgraphTimeout,
  REQUEST_DEADLINE_MS: requestDeadline,
  DATABASE_STATEMENT_TIMEOUT_MS: statementTimeout,
  ...SUBGRAPH_TRANSPORT_ENV,
  SHUTDOWN_TIMEOUT_MS: shutdownTimeout,
  METRICS_PORT: metricsPortSchema,
  // Read by common/src/log.ts before any configuration is loaded; declared here so that it is validated and
  // documented like the others.
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  ...LIMITS_ENV,
  ...EXPORT_LIMITS_ENV,
  ...RATE_LIMIT_ENV,
  ...RESPONSE_CACHE_ENV,
  ...RESPONSE_BUDGET_ENV,
  ...SERVER_ENV,
  ...TRACING_ENV,
  PERSISTED_ONLY: onOff('false'),
  APQ_TTL_SECONDS: z.coerce.number().int().min(1).max(31_536_000).default(86_400),
});

const ROOT = join(__dirname, '..', '..');

/**
 * Builds the storage of one subgraph. `<SUBGRAPH>_DATABASE_URL` wins; then `DATABASE_URL`, whose path (if any)
 * is ignored because every subgraph owns its own database `civic_<subgraph>`; with neither, an embedded
 * SQLite file per subgraph in DATA_DIR (default `data/db`).
 */
function storageFor(
  name: string,
  own: string | undefined,
  env: z.infer<typeof EnvSchema>,
  replicaList?: string,
): StorageConfig {
  const replicas = splitUrls(replicaList);
  // Only given when there are some: a storage without replicas is what it was before they existed.
  const withReplicas = replicas.length ? { replicas: Object.freeze(replicas) } : {};
  if (own) {
    const database = decodeURIComponent(new URL(own).pathname.replace(/^\//, '')) || `civic_${name}`;
    return { type: 'mysql', url: own, database, ...withReplicas };
  }
  if (env.DATABASE_URL) {
    return { type: 'mysql', url: env.DATABASE_URL, database: `civic_${name}`, ...withReplicas };
  }
  return { type: 'sqlite', path: join(env.DATA_DIR ?? join(ROOT, 'data', 'db'), `${name}.sqlite`) };
}

/**
 * Where the schema registry lives. REGISTRY_DATABASE_URL wins (its path names the database, default
 * `civic_registry`); then REGISTRY_DIR; then DATABASE_URL's server, database `civic_registry`; with none of
 * them, the directory `registry/` beside the SQLite files' folder: `<DATA_DIR>/registry`, or `data/registry`.
 */
function registryFor(env: z.infer<typeof EnvSchema>): RegistryConfig {
  if (env.REGISTRY_DATABASE_URL) {
    const path = decodeURIComponent(new URL(env.REGISTRY_DATABASE_URL).pathname.replace(/^\//, ''));
    return { type: 'mysql', url: env.REGISTRY_DATABASE_URL, database: path || 'civic_registry' };
  }
  if (env.REGISTRY_DIR) return { type: 'directory', dir: env.REGISTRY_DIR };
  if (env.DATABASE_URL) return { type: 'mysql', url: env.DATABASE_URL, database: 'civic_registry' };
  return { type: 'directory', dir: join(env.DATA_DIR ?? join(ROOT, 'data'), 'registry') };
}

/**
 * The gateway's own database (API keys). GATEWAY_DATABASE_URL wins (its path names the database, default
 * `civic_gateway`); then DATABASE_URL's server, database `civic_gateway`; with neither, the embedded SQLite file
 * `gateway.sqlite` beside the subgraphs' (DATA_DIR, default `data/db`).
 */
function gatewayDatabaseFor(env: z.infer<typeof EnvSchema>): GatewayDatabaseConfig {
  if (env.GATEWAY_DATABASE_URL) {
    const path = decodeURIComponent(new URL(env.GATEWAY_DATABASE_URL).pathname.replace(/^\//, ''));
    return { type: 'mysql', url: env.GATEWAY_DATABASE_URL, database: path || 'civic_gateway' };
  }
  if (env.DATABASE_URL) return { type: 'mysql', url: env.DATABASE_URL, database: 'civic_gateway' };
  return { type: 'sqlite', path: join(env.DATA_DIR ?? join(ROOT, 'data', 'db'), 'gateway.sqlite') };
}

/**
 * A subgraph's own variables: `<NAME>_PORT`, `<NAME>_URL`, `<NAME>_DATABASE_URL` and its signing secret
 * `SUBGRAPH_SECRET_<NAME>`.
 */
function subgraphSchema(s: SubgraphEntry) {
  const prefix = s.name.toUpperCase();
  return z.object({
    [`${prefix}_PORT`]: port(s.port),
    [`${prefix}_URL`]: z.url().optional(),
    [`${prefix}_DATABASE_URL`]: mysqlUrl,
    [`${prefix}_DATABASE_REPLICA_URLS`]: replicaUrls,
    [secretVariable(s.name)]: secret,
  });
}

/** The whole environment schema: the platform's variables and each subgraph's own. */
const environmentSchema = (subgraphs: readonly SubgraphEntry[]) =>
  subgraphs.reduce<z.ZodObject>((s, sub) => s.extend(subgraphSchema(sub).shape), EnvSchema);

/** Every variable the configuration of these subgraphs reads (what docker-compose and .env.example may set). */
export const environmentVariables = (subgraphs: readonly SubgraphEntry[]): string[] =>
  Object.keys(environmentSchema(subgraphs).shape);

/**
 * Parses the environment into a frozen, typed configuration for these subgraphs. Throws one error that lists
 * every invalid variable by name, so a misconfigured service refuses to start instead of half-starting.
 */
export function loadConfig<N extends string>(
  subgraphs: readonly (SubgraphEntry & { readonly name: N })[],
  env: NodeJS.ProcessEnv = process.env,
): Config<N> {
  const parsed = environmentSchema(subgraphs).safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  const e = parsed.data as z.infer<typeof EnvSchema>;
  // Replicas of a database that is not MySQL: the SQLite file has none, and the setting would be silently unused.
  for (const s of subgraphs) {
    const prefix = s.name.toUpperCase();
    const data = parsed.data as Record<string, unknown>;
    if (splitUrls(data[`${prefix}_DATABASE_REPLICA_URLS`] as string | undefined).length === 0) continue;
    if (!data[`${prefix}_DATABASE_URL`] && !e.DATABASE_URL) {
      throw new Error(
        `Invalid configuration: ${prefix}_DATABASE_REPLICA_URLS: needs ${prefix}_DATABASE_URL or DATABASE_URL ` +
          '(replicas are of a MySQL database; the embedded SQLite file has none)',
      );
    }
  }
  const variables = parsed.data as Record<string, unknown>;
  const own = (name: string, suffix: string) => variables[`${name.toUpperCase()}_${suffix}`];
  const each = <T>(f: (name: N) => T) =>
    Object.freeze(Object.fromEntries(subgraphs.map((s) => [s.name, f(s.name)]))) as Readonly<Record<N, T>>;
  const subgraphPorts = each((name) => own(name, 'PORT') as number);
  return Object.freeze({
    host: e.HOST,
    gatewayPort: e.GATEWAY_PORT,
    subgraphPorts,
    subgraphUrls: each(
      (name) => (own(name, 'URL') as string | undefined) ?? `http://localhost:${subgraphPorts[name]}/graphql`,
    ),
    storage: each((name) =>
      storageFor(
        name,
        own(name, 'DATABASE_URL') as string | undefined,
        e,
        own(name, 'DATABASE_REPLICA_URLS') as string | undefined,
      ),
    ),
    seedOnStart: e.SEED_ON_START === 'true' || e.SEED_ON_START === '1',
    logLevel: e.LOG_LEVEL,
    languageFallback: Object.freeze(parseFallback(e.LANGUAGE_FALLBACK)),
    exportMaxRows: e.EXPORT_MAX_ROWS,
    registry: Object.freeze(registryFor(e)),
    registryPollMs: e.REGISTRY_POLL_MS,
    subgraphTimeoutMs: e.SUBGRAPH_TIMEOUT_MS,
    requestDeadlineMs: e.REQUEST_DEADLINE_MS,
    subgraphSecrets: each((name) => (variables[secretVariable(name)] as string | undefined) ?? null),
    limits: limitsOf(e),
    introspection: e.INTROSPECTION === 'true' || e.INTROSPECTION === '1',
    reportCost: e.REPORT_COST === 'true' || e.REPORT_COST === '1',
    exportLimits: exportLimitsOf(e),
    rateLimit: rateLimitOf(e as z.infer<typeof RateLimitSchema>),
    gatewayDatabase: Object.freeze(gatewayDatabaseFor(e)),
    responseCache: responseCacheOf(e),
    persisted: Object.freeze({
      only: e.PERSISTED_ONLY === 'true' || e.PERSISTED_ONLY === '1',
      apqTtlSeconds: e.APQ_TTL_SECONDS,
    }),
  });
}

/** How the gateway's connections to one subgraph are kept and shared (see {@link subgraphTransport}). */
export interface SubgraphTransport {
  /** The most connections open to one subgraph at once (SUBGRAPH_MAX_SOCKETS); more calls wait for one. */
  readonly maxSockets: number;
  /**
   * Whether identical queries to one subgraph in flight at the same moment are sent once and their answer shared
   * (SUBGRAPH_DEDUPLICATE, default true; never mutations).
   */
  readonly deduplicate: boolean;
  /**
   * Whether the calls one query plan makes to one subgraph at the same moment (a plan's parallel fetches) are
   * merged into one request (SUBGRAPH_BATCH, default true; never mutations).
   */
  readonly batch: boolean;
}

const SubgraphTransportSchema = z.object(SUBGRAPH_TRANSPORT_ENV);

/**
 * OPERATION_DEDUPLICATE (default true), checked: whether identical queries in flight at the gateway at the same
 * moment are executed once, each request getting its own copy of the answer (gateway/src/coalesce.ts).
 */
export function operationDeduplicate(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = subgraphTransportEnv(env).OPERATION_DEDUPLICATE;
  return value === 'true' || value === '1';
}

/**
 * RESULT_SHAPING (default `compiled`), checked: who shapes the client's answer out of the subgraphs' data, ours
 * (gateway/src/result-shaping.ts: Apollo's semantics, each operation's selection sets read once) or `apollo`
 * (@apollo/gateway's own `computeResponse`, for comparisons).
 */
export function resultShaping(env: NodeJS.ProcessEnv = process.env): 'compiled' | 'apollo' {
  return subgraphTransportEnv(env).RESULT_SHAPING;
}

function subgraphTransportEnv(env: NodeJS.ProcessEnv) {
  const parsed = SubgraphTransportSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  return parsed.data;
}

/** SUBGRAPH_MAX_SOCKETS (default 64), SUBGRAPH_DEDUPLICATE and SUBGRAPH_BATCH (default true), checked. */
export function subgraphTransport(env: NodeJS.ProcessEnv = process.env): SubgraphTransport {
  const e = subgraphTransportEnv(env);
  return Object.freeze({
    maxSockets: e.SUBGRAPH_MAX_SOCKETS,
    deduplicate: e.SUBGRAPH_DEDUPLICATE === 'true' || e.SUBGRAPH_DEDUPLICATE === '1',
    batch: e.SUBGRAPH_BATCH === 'true' || e.SUBGRAPH_BATCH === '1',
  });
}

/**
 * SUBGRAPH_TIMEOUT_MS alone, validated as {@link loadConfig} does: the default timeout of the gateway's calls
 * to any subgraph, partners' included, where no per-subgraph value is given.
 */
export function subgraphTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const parsed = subgraphTimeout.safeParse(env.SUBGRAPH_TIMEOUT_MS);
  if (!parsed.success) {
    throw new Error(`Invalid configuration: SUBGRAPH_TIMEOUT_MS: ${parsed.error.issues[0].message}`);
  }
  return parsed.data;
}

/**
 * REQUEST_DEADLINE_MS alone, validated as {@link loadConfig} does: how long one GraphQL request at the gateway may
 * run before it is stopped and answered 504 REQUEST_TIMEOUT (its subgraph calls abandoned, no other made).
 */
export function requestDeadlineMs(env: NodeJS.ProcessEnv = process.env): number {
  const parsed = requestDeadline.safeParse(
    env.REQUEST_DEADLINE_MS === '' ? undefined : env.REQUEST_DEADLINE_MS,
  );
  if (!parsed.success) {
    throw new Error(`Invalid configuration: REQUEST_DEADLINE_MS: ${parsed.error.issues[0].message}`);
  }
  return parsed.data;
}

/**
 * DATABASE_STATEMENT_TIMEOUT_MS alone, validated as {@link loadConfig} does: the longest a subgraph's read made
 * for a request may run on MySQL or MariaDB before the server kills it (STATEMENT_TIMEOUT); 0: no limit. Unset,
 * SUBGRAPH_TIMEOUT_MS: the gateway gives up on the call then anyway.
 */
export function statementTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.DATABASE_STATEMENT_TIMEOUT_MS;
  const parsed = statementTimeout.safeParse(raw === '' ? undefined : raw);
  if (!parsed.success) {
    throw new Error(
      `Invalid configuration: DATABASE_STATEMENT_TIMEOUT_MS: ${parsed.error.issues[0].message}`,
    );
  }
  return parsed.data ?? subgraphTimeoutMs(env);
}

/**
 * SHUTDOWN_TIMEOUT_MS alone, validated as {@link loadConfig} does: how long a stopping service lets its in-flight
 * requests finish before it cuts them (common/src/service.ts); every service reads it when it is built.
 */
export function shutdownTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const parsed = shutdownTimeout.safeParse(env.SHUTDOWN_TIMEOUT_MS);
  if (!parsed.success) {
    throw new Error(`Invalid configuration: SHUTDOWN_TIMEOUT_MS: ${parsed.error.issues[0].message}`);
  }
  return parsed.data;
}

/**
 * METRICS_PORT alone, validated as {@link loadConfig} does: the port of the process's `GET /metrics` (every
 * service of the process on it), or undefined: each service answers `GET /metrics` on its own port.
 */
export function metricsPort(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const parsed = metricsPortSchema.safeParse(env.METRICS_PORT === '' ? undefined : env.METRICS_PORT);
  if (!parsed.success)
    throw new Error(`Invalid configuration: METRICS_PORT: ${parsed.error.issues[0].message}`);
  return parsed.data;
}
