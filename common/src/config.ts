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
  { type: 'mysql'; url: string; database: string } | { type: 'sqlite'; path: string };

/**
 * Where the schema registry (partner subgraphs and their versions) lives: every gateway replica and the
 * `npm run subgraph:*` commands must be given the same one. A directory of JSON documents, or two tables in a
 * MySQL database.
 */
export type RegistryConfig =
  { type: 'directory'; dir: string } | { type: 'mysql'; url: string; database: string };

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
  /**
   * Each subgraph's signing secret (SUBGRAPH_SECRET_<NAME>), or null: with a secret the gateway signs its
   * calls to that subgraph and the subgraph refuses unsigned ones (common/src/signing.ts).
   */
  readonly subgraphSecrets: Readonly<Record<N, string | null>>;
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

/** A signing secret: unset or empty means none; a set one must be long enough not to be guessed. */
const secret = z.preprocess(
  (v) => (v === '' ? undefined : v),
  z.string().min(16, 'must be at least 16 characters (e.g. `openssl rand -hex 32`)').optional(),
);

const EnvSchema = z.object({
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
  SUBGRAPH_TIMEOUT_MS: subgraphTimeout,
});

const ROOT = join(__dirname, '..', '..');

/**
 * Builds the storage of one subgraph. `<SUBGRAPH>_DATABASE_URL` wins; then `DATABASE_URL`, whose path (if any)
 * is ignored because every subgraph owns its own database `civic_<subgraph>`; with neither, an embedded
 * SQLite file per subgraph in DATA_DIR (default `data/db`).
 */
function storageFor(name: string, own: string | undefined, env: z.infer<typeof EnvSchema>): StorageConfig {
  if (own) {
    const database = decodeURIComponent(new URL(own).pathname.replace(/^\//, '')) || `civic_${name}`;
    return { type: 'mysql', url: own, database };
  }
  if (env.DATABASE_URL) return { type: 'mysql', url: env.DATABASE_URL, database: `civic_${name}` };
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
 * A subgraph's own variables: `<NAME>_PORT`, `<NAME>_URL`, `<NAME>_DATABASE_URL` and its signing secret
 * `SUBGRAPH_SECRET_<NAME>`.
 */
function subgraphSchema(s: SubgraphEntry) {
  const prefix = s.name.toUpperCase();
  return z.object({
    [`${prefix}_PORT`]: port(s.port),
    [`${prefix}_URL`]: z.url().optional(),
    [`${prefix}_DATABASE_URL`]: mysqlUrl,
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
    storage: each((name) => storageFor(name, own(name, 'DATABASE_URL') as string | undefined, e)),
    seedOnStart: e.SEED_ON_START === 'true' || e.SEED_ON_START === '1',
    logLevel: e.LOG_LEVEL,
    languageFallback: Object.freeze(parseFallback(e.LANGUAGE_FALLBACK)),
    exportMaxRows: e.EXPORT_MAX_ROWS,
    registry: Object.freeze(registryFor(e)),
    registryPollMs: e.REGISTRY_POLL_MS,
    subgraphTimeoutMs: e.SUBGRAPH_TIMEOUT_MS,
    subgraphSecrets: each((name) => (variables[secretVariable(name)] as string | undefined) ?? null),
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
