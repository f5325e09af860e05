/**
 * `npm start`: the catalog's subgraphs (subgraphs/catalog.ts) and the gateway in one process, on the configured ports (gateway 4000),
 * on MySQL when DATABASE_URL is set and on the embedded SQLite files otherwise; an empty database is seeded
 * with the real datasets first. The gateway also serves the partner subgraphs of the schema registry, live
 * (`npm run subgraph:publish`). Ctrl-C stops everything cleanly.
 */
import { runUntilSignal, startSubgraph } from '@civic/common/bootstrap';
import { logger } from '@civic/common/log';
import { createConfiguredGateway } from '@civic/gateway/server';
import { loadConfig, modulesInOrder, type SubgraphName } from '@civic/subgraphs';

runUntilSignal(async () => {
  const config = loadConfig();
  const services = [];
  const urls = {} as Record<SubgraphName, string>;
  for (const { name, module } of modulesInOrder()) {
    const { service, url } = await startSubgraph(module, config);
    services.push(service);
    urls[name] = url;
  }
  const gateway = await createConfiguredGateway(config, urls);
  services.push(gateway);
  const { port } = await gateway.listen(config.gatewayPort, config.host);
  logger.info(
    `Civic Graph is ready: open http://localhost:${port}/ (GraphQL endpoint http://localhost:${port}/graphql). Ctrl-C stops.`,
  );
  return services;
});
