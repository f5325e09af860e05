import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { DEFAULT_EXPORT_MAX_ROWS } from '@civic/common/config';
import { REQUEST_ID_HEADER, requestContext, type RequestContext } from '@civic/common/context';
import { createService, type Service } from '@civic/common/service';
import { exportRoutes } from './export/http';
import type { SavedQuery } from './export/saved-queries';
import { renderExplorer } from './landing-page';
import { readSupergraph } from './supergraph';

/** What the gateway needs: where each subgraph is, and (optionally) a supergraph other than the checked-in one. */
export interface GatewayOptions {
  subgraphUrls: Readonly<Record<string, string>>;
  supergraphSdl?: string;
  /** The most rows one export may have (config.exportMaxRows, from EXPORT_MAX_ROWS); default 1,000,000. */
  exportMaxRows?: number;
  /** The saved queries of `/export.csv?name=...`; default the files of `gateway/src/saved-queries`. */
  savedQueries?: ReadonlyMap<string, SavedQuery>;
}

/**
 * Forwards what the subgraphs must know about the request (its id, the client's language) and nothing else:
 * no client credentials leak to a partner subgraph by default.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<RequestContext> {
  override willSendRequest({
    request,
    context,
  }: Parameters<NonNullable<RemoteGraphQLDataSource<RequestContext>['willSendRequest']>>[0]) {
    if (!context?.requestId) return;
    request.http?.headers.set(REQUEST_ID_HEADER, context.requestId);
    if (context.acceptLanguage) request.http?.headers.set('accept-language', context.acceptLanguage);
  }
}

/**
 * Builds the gateway (without listening): the checked-in supergraph, composed at build time by
 * `npm run compose`, served with subgraph URLs from config, an offline GraphiQL explorer at GET /, and
 * exports of a query's first connection as CSV or JSON at GET /export.csv and /export.json.
 */
export async function createGatewayService(opts: GatewayOptions): Promise<Service> {
  const urls = opts.subgraphUrls;
  const gateway = new ApolloGateway({
    supergraphSdl: opts.supergraphSdl ?? readSupergraph(),
    buildService: ({ name }) => {
      const url = urls[name];
      if (!url) throw new Error(`No URL configured for subgraph "${name}"`);
      return new SubgraphDataSource({ url });
    },
  });
  const exports = exportRoutes({
    maxRows: opts.exportMaxRows ?? DEFAULT_EXPORT_MAX_ROWS,
    savedQueries: opts.savedQueries,
  });
  return createService<RequestContext>({
    name: 'gateway',
    gateway,
    context: async (req) => requestContext(req),
    landingPage: renderExplorer({ endpoint: '/graphql' }),
    plugins: [exports.plugin],
    routes: (app, graphql) => exports.mount(app, graphql),
  });
}
