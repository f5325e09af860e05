import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { SCHEMA_DIR, subgraphTypeDefs } from '@civic/common/schema';

/** The checked-in supergraph the gateway serves. */
export const SUPERGRAPH_PATH = join(SCHEMA_DIR, 'supergraph.graphql');

/**
 * Composes the subgraphs' SDL (each `schema/<name>.graphql`, in the order given) into a supergraph. Throws with every composition error listed.
 * The URLs written into the supergraph are only defaults: the gateway takes its subgraph URLs from config.
 */
export function composeSubgraphs(urls: Readonly<Record<string, string>>): string {
  const result = composeServices(
    Object.entries(urls).map(([name, url]) => ({ name, url, typeDefs: subgraphTypeDefs(name) })),
  );
  if (result.errors?.length || !result.supergraphSdl) {
    throw new Error(`Composition failed:\n${(result.errors ?? []).map((e) => `- ${e.message}`).join('\n')}`);
  }
  return result.supergraphSdl;
}

export function readSupergraph(): string {
  return readFileSync(SUPERGRAPH_PATH, 'utf8');
}
