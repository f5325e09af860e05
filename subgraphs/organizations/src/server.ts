import type { SubgraphModule } from '../../../common/src/bootstrap';
import { createOrganizationsDataSource } from './data-source';
import { organizationsEmpty, seedOrganizations } from './seed';
import type { DataSource } from 'typeorm';
import { createSubgraphService } from '../../../common/src/subgraph';
import { createOrganizationLoaders } from './loaders';
import { OrganizationResolvers } from './resolvers/Organization';
import { QueryResolvers } from './resolvers/Query';

export const resolvers = { Query: QueryResolvers, Organization: OrganizationResolvers };

/** Builds the organizations subgraph over an open data source. Does not listen: see index.ts. */
export const createOrganizationsService = (ds: DataSource, opts: { closeDataSource?: boolean } = {}) =>
  createSubgraphService({
    name: 'organizations',
    ds,
    resolvers,
    createLoaders: createOrganizationLoaders,
    closeDataSource: opts.closeDataSource,
  });

/** The organizations subgraph as the bootstrap (common/src/bootstrap.ts) and the tests run it. */
export const organizationsSubgraph: SubgraphModule = {
  name: 'organizations',
  createDataSource: createOrganizationsDataSource,
  seed: (ds) => seedOrganizations(ds),
  isEmpty: organizationsEmpty,
  createService: createOrganizationsService,
};
