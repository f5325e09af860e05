import { createOrganizationsDataSource } from './data-source';
import { organizationsEmpty, seedOrganizations } from './seed';
import { defineSubgraph, type SubgraphContext } from '../../../common/src/subgraph';
import type { Resolvers } from './generated/resolvers-types';
import { createOrganizationLoaders, type OrganizationLoaders } from './loaders';
import { Organization } from './resolvers/Organization';
import { Query } from './resolvers/Query';

/** The context of every resolver of this subgraph (codegen.ts gives it to the generated resolver types). */
export type OrganizationsContext = SubgraphContext<OrganizationLoaders>;

export const resolvers: Resolvers = { Query, Organization };

/**
 * The organizations subgraph, as the bootstrap (common/src/bootstrap.ts) and the tests run it. Building its service
 * does not listen: index.ts binds the port.
 */
export const organizationsSubgraph = defineSubgraph({
  name: 'organizations',
  resolvers,
  createLoaders: createOrganizationLoaders,
  createDataSource: createOrganizationsDataSource,
  seed: seedOrganizations,
  isEmpty: organizationsEmpty,
});
