import { join } from 'node:path';
import { z } from 'zod';
import { parseFallback } from './language';
import type { Language } from './localized';

/** The three subgraphs of the civic graph, by name. The name is also the database suffix. */
export const SUBGRAPHS = ['organizations', 'commitments', 'budgets'] as const;
export type SubgraphName = (typeof SUBGRAPHS)[number];

/** Where one subgraph keeps its tables. */
export type StorageConfig =
  { type: 'mysql'; url: string; database: string } | { type: 'sqlite'; path: string };

/** Everything the services read from the environment, parsed once. */
export interface Config {
  readonly host: string;
  readonly gatewayPort: number;
  readonly subgraphPorts: Readonly<Record<SubgraphName, number>>;
  /** URL the gateway uses for each subgraph (defaults to localhost and the subgraph's port). */
  readonly subgraphUrls: Readonly<Record<SubgraphName, string>>;
  readonly storage: Readonly<Record<SubgraphName, StorageConfig>>;
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
  ORGANIZATIONS_PORT: port(4001),
  COMMITMENTS_PORT: port(4002),
  BUDGETS_PORT: port(4003),
  ORGANIZATIONS_URL: z.url().optional(),
  COMMITMENTS_URL: z.url().optional(),
  BUDGETS_URL: z.url().optional(),
  DATABASE_URL: mysqlUrl,
  ORGANIZATIONS_DATABASE_URL: mysqlUrl,
  COMMITMENTS_DATABASE_URL: mysqlUrl,
  BUDGETS_DATABASE_URL: mysqlUrl,
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
function storageFor(name: SubgraphName, env: z.infer<typeof EnvSchema>): StorageConfig {
  const own = env[`${name.toUpperCase()}_DATABASE_URL` as 'ORGANIZATIONS_DATABASE_URL'];
  if (own) {
    const database = decodeURIComponent(new URL(own).pathname.replace(/^\//, '')) || `civic_${name}`;
    return { type: 'mysql', url: own, database };
  }
  if (env.DATABASE_URL) return { type: 'mysql', url: env.DATABASE_URL, database: `civic_${name}` };
  return { type: 'sqlite', path: join(env.DATA_DIR ?? join(ROOT, 'data', 'db'), `${name}.sqlite`) };
}

/**
 * Parses the environment into a frozen, typed configuration. Throws one error that lists every invalid
 * variable by name, so a misconfigured service refuses to start instead of half-starting.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  const subgraphPorts = {
    organizations: e.ORGANIZATIONS_PORT,
    commitments: e.COMMITMENTS_PORT,
    budgets: e.BUDGETS_PORT,
  };
  const url = (name: SubgraphName, explicit?: string) =>
    explicit ?? `http://localhost:${subgraphPorts[name]}/graphql`;
  return Object.freeze({
    host: e.HOST,
    gatewayPort: e.GATEWAY_PORT,
    subgraphPorts: Object.freeze(subgraphPorts),
    subgraphUrls: Object.freeze({
      organizations: url('organizations', e.ORGANIZATIONS_URL),
      commitments: url('commitments', e.COMMITMENTS_URL),
      budgets: url('budgets', e.BUDGETS_URL),
    }),
    storage: Object.freeze({
      organizations: storageFor('organizations', e),
      commitments: storageFor('commitments', e),
      budgets: storageFor('budgets', e),
    }),
    seedOnStart: e.SEED_ON_START === 'true' || e.SEED_ON_START === '1',
    logLevel: e.LOG_LEVEL,
    languageFallback: Object.freeze(parseFallback(e.LANGUAGE_FALLBACK)),
    exportMaxRows: e.EXPORT_MAX_ROWS,
  });
}
