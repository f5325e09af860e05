import { loadConfig as loadPlatformConfig, type Config, type SubgraphEntry } from '@civic/common/config';

/**
 * The project's own subgraphs, in the order their data is loaded (organizations before what refers to them):
 * the one list that start, seed, import, generate, codegen, compose, the tests and docker-compose read.
 * Adding a subgraph is an entry here, its folder subgraphs/<name>/ and its SDL schema/<name>.graphql; the
 * subgraph's module goes in subgraphs/index.ts. Pure data: the gateway reads it without loading a subgraph.
 */
export const SUBGRAPHS = [
  { name: 'organizations', port: 4001 },
  { name: 'commitments', port: 4002 },
  { name: 'budgets', port: 4003 },
] as const satisfies readonly SubgraphEntry[];

export type SubgraphName = (typeof SUBGRAPHS)[number]['name'];

/** The project's subgraph names, in load order. */
export const SUBGRAPH_NAMES: readonly SubgraphName[] = SUBGRAPHS.map((s) => s.name);

/** The configuration of this project's services, read once from the environment (see common/src/config.ts). */
export const loadConfig = (env: NodeJS.ProcessEnv = process.env): Config<SubgraphName> =>
  loadPlatformConfig(SUBGRAPHS, env);
