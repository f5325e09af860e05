import { join } from 'node:path';
import { z } from 'zod';
import { parseFallback } from './language';
import type { Language } from './localized';

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
}

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
const mysqlUrl = z
  .string()
  .regex(/^mysql:\/\//, 'must start with mysql://')
  .refine((u) => URL.canParse(u), 'must be a valid URL')
  .optional();

/** The default of EXPORT_MAX_ROWS. */
export const DEFAULT_EXPORT_MAX_ROWS = 1_000_000;

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

/** A subgraph's own variables: `<NAME>_PORT`, `<NAME>_URL` and `<NAME>_DATABASE_URL`. */
function subgraphSchema(s: SubgraphEntry) {
  const prefix = s.name.toUpperCase();
  return z.object({
    [`${prefix}_PORT`]: port(s.port),
    [`${prefix}_URL`]: z.url().optional(),
    [`${prefix}_DATABASE_URL`]: mysqlUrl,
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
  const own = (name: string, suffix: string) =>
    (parsed.data as Record<string, unknown>)[`${name.toUpperCase()}_${suffix}`];
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
  });
}
