import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { SUBGRAPHS, type SubgraphName } from '../../common/src/config';
import { SCHEMA_DIR, subgraphTypeDefs } from '../../common/src/schema';

/** The checked-in supergraph the gateway serves. */
export const SUPERGRAPH_PATH = join(SCHEMA_DIR, 'supergraph.graphql');

/**
 * Composes the subgraphs' SDL into a supergraph. Throws with every composition error listed.
 * The URLs written into the supergraph are only defaults: the gateway takes its subgraph URLs from config.
 */
export function composeSubgraphs(urls: Record<SubgraphName, string>): string {
  const result = composeServices(
    SUBGRAPHS.map((name) => ({ name, url: urls[name], typeDefs: subgraphTypeDefs(name) })),
  );
  if (result.errors?.length || !result.supergraphSdl) {
    throw new Error(`Composition failed:\n${(result.errors ?? []).map((e) => `- ${e.message}`).join('\n')}`);
  }
  return result.supergraphSdl;
}

export function readSupergraph(): string {
  return readFileSync(SUPERGRAPH_PATH, 'utf8');
}
