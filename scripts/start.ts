/**
 * `npm start`: the catalog's subgraphs (subgraphs/catalog.ts) and the gateway in one process, on the configured ports (gateway 4000),
 * on MySQL when DATABASE_URL is set and on the embedded SQLite files otherwise; an empty database is seeded
 * with the real datasets first. The gateway also serves the partner subgraphs of the schema registry, live
 * (`npm run subgraph:publish`). Ctrl-C stops everything cleanly.
 */
import { randomBytes } from 'node:crypto';
import { runUntilSignal, startSubgraph } from '@civic/common/bootstrap';
import { logger } from '@civic/common/log';
import { secretVariable } from '@civic/common/signing';
import { createConfiguredGateway } from '@civic/gateway/server';
import { loadConfig, modulesInOrder, SUBGRAPH_NAMES, type SubgraphName } from '@civic/subgraphs';

/**
 * The gateway and the subgraphs are in this one process, so they can share signing secrets nobody else knows:
 * a subgraph without a configured SUBGRAPH_SECRET_<NAME> gets a random one for this run. Its port (HOST is
 * 0.0.0.0 by default) then answers only the gateway's signed calls, never a direct `_entities` or
 * introspection from the network (issue 10). Set the variable to call a subgraph directly with your own.
 */
function generateMissingSecrets(): SubgraphName[] {
  const generated = SUBGRAPH_NAMES.filter((name) => !process.env[secretVariable(name)]);
  for (const name of generated) process.env[secretVariable(name)] = randomBytes(32).toString('base64url');
  return generated;
}

runUntilSignal(async () => {
  const generated = generateMissingSecrets();
  if (generated.length) {
    logger.info(
      { subgraphs: generated },
      'subgraphs answer only the gateway: a signing secret was generated for this run (set SUBGRAPH_SECRET_<NAME> to call one directly)',
    );
  }
  // The all-in-one developer command migrates its databases itself, on MySQL too (README's DATABASE_URL run),
  // unless told otherwise: a newcomer has no separate step to learn. The services started alone
  // (`npm run start:<name>`, compose, Kubernetes) do not: there `npm run migrate` is a step of its own.
  process.env.MIGRATE_ON_START ||= 'true';
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
