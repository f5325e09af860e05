import { runUntilSignal } from '@civic/common/bootstrap';
import { loadConfig } from '@civic/subgraphs/catalog';
import { logger } from '@civic/common/log';
import { createGatewayService } from './server';

/** Runs the gateway alone (docker-compose, production): subgraph URLs from the environment. */
runUntilSignal(async () => {
  const config = loadConfig();
  const gateway = await createGatewayService({
    subgraphUrls: config.subgraphUrls,
    exportMaxRows: config.exportMaxRows,
  });
  const { url } = await gateway.listen(config.gatewayPort, config.host);
  logger.info({ url }, `Civic Graph gateway ready at ${url}`);
  return [gateway];
});
