import { createOrganizationsDataSource } from './data-source';
import { organizationsEmpty, seedOrganizations } from './seed';
import { defineSubgraph } from '../../../common/src/subgraph';
import { createOrganizationLoaders } from './loaders';
import { OrganizationResolvers } from './resolvers/Organization';
import { QueryResolvers } from './resolvers/Query';

export const resolvers = { Query: QueryResolvers, Organization: OrganizationResolvers };

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
