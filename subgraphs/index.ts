import type { SubgraphModule } from '@civic/common/bootstrap';
import { budgetsSubgraph } from './budgets/src/server';
import { SUBGRAPH_NAMES, type SubgraphName } from './catalog';
import { commitmentsSubgraph } from './commitments/src/server';
import { organizationsSubgraph } from './organizations/src/server';

export { SUBGRAPHS, SUBGRAPH_NAMES, loadConfig, type SubgraphName } from './catalog';

/** Each subgraph of the catalog, built (storage, importers, service): what scripts and tests run. */
export const MODULES: Readonly<Record<SubgraphName, SubgraphModule>> = {
  organizations: organizationsSubgraph,
  commitments: commitmentsSubgraph,
  budgets: budgetsSubgraph,
};

/** The modules in the catalog's order (organizations first: the others refer to its entities). */
export const modulesInOrder = (): { name: SubgraphName; module: SubgraphModule }[] =>
  SUBGRAPH_NAMES.map((name) => ({ name, module: MODULES[name] }));
