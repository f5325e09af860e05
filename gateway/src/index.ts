// First: before anything loads @apollo/gateway (see apollo-exports.ts).
import './apollo-exports';
import { runUntilSignal } from '@civic/common/bootstrap';
import { loadConfig } from '@civic/subgraphs/catalog';
import { logger } from '@civic/common/log';
import { createConfiguredGateway } from './server';

/**
 * Runs the gateway alone (docker-compose, production): subgraph URLs from the environment, partner subgraphs
 * from the schema registry (REGISTRY_DATABASE_URL, REGISTRY_DIR, DATABASE_URL or DATA_DIR), followed live.
 */
runUntilSignal(async () => {
  const config = loadConfig();
  const gateway = await createConfiguredGateway(config, config.subgraphUrls);
  const { url } = await gateway.listen(config.gatewayPort, config.host);
  logger.info({ url }, `Civic Graph gateway ready at ${url}`);
  return [gateway];
});
