/**
 * `npm start`: the three subgraphs and the gateway in one process, on the configured ports (gateway 4000),
 * on MySQL when DATABASE_URL is set and on the embedded SQLite files otherwise; an empty database is seeded
 * with the real datasets first. Ctrl-C stops everything cleanly.
 */
import { runUntilSignal, startSubgraph } from '../common/src/bootstrap';
import { loadConfig, type SubgraphName } from '../common/src/config';
import { logger } from '../common/src/log';
import { createGatewayService } from '../gateway/src/server';
import { budgetsSubgraph } from '../subgraphs/budgets/src/server';
import { commitmentsSubgraph } from '../subgraphs/commitments/src/server';
import { organizationsSubgraph } from '../subgraphs/organizations/src/server';

runUntilSignal(async () => {
  const config = loadConfig();
  const services = [];
  const urls = {} as Record<SubgraphName, string>;
  for (const mod of [organizationsSubgraph, commitmentsSubgraph, budgetsSubgraph]) {
    const { service, url } = await startSubgraph(mod, config);
    services.push(service);
    urls[mod.name] = url;
  }
  const gateway = await createGatewayService({ subgraphUrls: urls, exportMaxRows: config.exportMaxRows });
  services.push(gateway);
  const { port } = await gateway.listen(config.gatewayPort, config.host);
  logger.info(
    `Civic Graph is ready: open http://localhost:${port}/ (GraphQL endpoint http://localhost:${port}/graphql). Ctrl-C stops.`,
  );
  return services;
});
