import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import type { DataSource, EntitySchema, ObjectLiteral } from 'typeorm';
import type { SubgraphModule } from './bootstrap';
import type { Language } from './localized';
import { importBundled, type BundledFile } from './import/bundled';
import { importRunTotals } from './import/totals';
import type { SubgraphImporter } from './import/kinds';
import { requestContext, type RequestContext, type ServedRequest } from './context';
import { dataVersionRoute } from './data-version';
import { poolUse, watchStatements } from './db';
import { ServiceMetrics } from './metrics';
import { subgraphTypeDefs } from './schema';
import { databaseChecks } from './ready';
import { createService, type Service } from './service';

/** The context of a subgraph request: the common request context plus this request's own DataLoaders. */
export interface SubgraphContext<L> extends RequestContext {
  loaders: L;
  /** The subgraph's own data source, for root list queries (entity and child reads go through loaders). */
  db: DataSource;
}

/**
 * A subgraph's resolver map, typed in its server.ts by the `Resolvers` graphql-codegen generates from its SDL
 * (subgraphs/<name>/src/generated/resolvers-types.ts, context `SubgraphContext<L>`). Those types are stricter
 * than `GraphQLResolverMap` can say (typed arguments; `__resolveReference(reference, context)`), so the map
 * is taken as it is here and cast once, where it meets `buildSubgraphSchema`.
 */
export type SubgraphResolvers = Readonly<Record<string, object | undefined>>;

/** What a subgraph's server.ts hands to {@link createSubgraphService}. */
export interface SubgraphOptions<L> {
  name: string;
  ds: DataSource;
  resolvers: SubgraphResolvers;
  /** Makes a fresh set of loaders: called once per request, never shared between requests. */
  createLoaders: (ds: DataSource) => L;
  /** Close the data source when the service stops (true when the service owns it). */
  closeDataSource?: boolean;
  /** The language order for requests that state no preference (config LANGUAGE_FALLBACK). */
  languageFallback?: readonly Language[];
  /** Its signing secret (SUBGRAPH_SECRET_<NAME>): when set, only signed requests are answered. */
  signatureSecret?: string | null;
}

/** Builds (without listening) a subgraph service: its SDL from schema/, its resolvers, per-request loaders. */
export function createSubgraphService<L>(opts: SubgraphOptions<L>): Promise<Service> {
  const schema = buildSubgraphSchema({
    typeDefs: subgraphTypeDefs(opts.name),
    // The one cast between the generated resolver types and buildSubgraphSchema (see SubgraphResolvers).
    resolvers: opts.resolvers as GraphQLResolverMap<unknown>,
  });
  // Its SQL statements timed into its metrics (sql_statement_duration_seconds).
  const metrics = new ServiceMetrics(opts.name);
  watchStatements(opts.ds, (seconds, failed) => metrics.statement(seconds, failed));
  // And its connection pool's use, on MySQL (opened by now; SQLite has none).
  if (poolUse(opts.ds)) metrics.pool(() => poolUse(opts.ds));
  // And what the imports into its tables did (import_runs), read at each scrape.
  metrics.imports(() => importRunTotals(opts.ds));
  const context = async (req: ServedRequest): Promise<SubgraphContext<L>> => ({
    ...requestContext(req, opts.languageFallback),
    loaders: opts.createLoaders(opts.ds),
    db: opts.ds,
  });
  return createService<SubgraphContext<L>>({
    name: opts.name,
    schema,
    metrics,
    context,
    // Its GraphQL POSTs without Express: nothing of its routes applies to them (the signature is checked there).
    front: { admit: async (req, body) => ({ context: await context(req), body }) },
    ready: () => databaseChecks(opts.ds),
    // The version of this subgraph's data, polled by the gateways' response cache (RESPONSE_CACHE=memory).
    routes: (app) => void app.get('/data-version', dataVersionRoute(opts.ds, opts.name)),
    onStop: async () => {
      if (opts.closeDataSource && opts.ds.isInitialized) await opts.ds.destroy();
    },
    signatureSecret: opts.signatureSecret,
  });
}

/**
 * Defines a subgraph for the bootstrap and the tests: how to open and seed its storage, and how to build
 * its service (schema from schema/<name>.graphql, these resolvers, fresh loaders per request).
 */
export function defineSubgraph<L>(def: {
  name: string;
  resolvers: SubgraphResolvers;
  createLoaders: (ds: DataSource) => L;
  createDataSource: SubgraphModule['createDataSource'];
  /** What `npm run import` can load into this subgraph; the seed goes through the same importers. */
  importers: readonly SubgraphImporter[];
  seed: {
    /** The files the seed loads, in order, each through the importer of its kind. */
    files: readonly BundledFile[];
    /** The table whose emptiness means nothing was loaded yet (start-up seeds only an empty database). */
    table: EntitySchema<ObjectLiteral>;
  };
  /** The synthetic data `npm run generate` adds at scale (benchmarks), if the subgraph has any. */
  synthetic?: SubgraphModule['synthetic'];
}): SubgraphModule {
  return {
    name: def.name,
    createDataSource: def.createDataSource,
    importers: def.importers,
    seed: (ds) => importBundled(ds, def.importers, def.seed.files),
    isEmpty: async (ds) => (await ds.getRepository(def.seed.table).count({ take: 1 })) === 0,
    synthetic: def.synthetic,
    createService: (ds, opts) =>
      createSubgraphService({
        name: def.name,
        ds,
        resolvers: def.resolvers,
        createLoaders: def.createLoaders,
        closeDataSource: opts.closeDataSource,
        languageFallback: opts.languageFallback,
        signatureSecret: opts.signatureSecret,
      }),
  };
}

/** A reference to an entity another subgraph owns: the gateway resolves it there by key. */
export const entityRef = <T extends string>(typename: T, id: string) => ({
  __typename: typename,
  id,
});
