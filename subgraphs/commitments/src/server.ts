import type { SubgraphModule } from '../../../common/src/bootstrap';
import { createCommitmentsDataSource } from './data-source';
import { commitmentsEmpty, seedCommitments } from './seed';
import type { DataSource } from 'typeorm';
import { createSubgraphService } from '../../../common/src/subgraph';
import { createCommitmentLoaders } from './loaders';
import { ActionPlanResolvers } from './resolvers/ActionPlan';
import { CommitmentResolvers } from './resolvers/Commitment';
import { OrganizationResolvers } from './resolvers/Organization';
import { QueryResolvers } from './resolvers/Query';

export const resolvers = {
  Query: QueryResolvers,
  ActionPlan: ActionPlanResolvers,
  Commitment: CommitmentResolvers,
  Organization: OrganizationResolvers,
};

/** Builds the commitments subgraph over an open data source. Does not listen: see index.ts. */
export const createCommitmentsService = (ds: DataSource, opts: { closeDataSource?: boolean } = {}) =>
  createSubgraphService({
    name: 'commitments',
    ds,
    resolvers,
    createLoaders: createCommitmentLoaders,
    closeDataSource: opts.closeDataSource,
  });

/** The commitments subgraph as the bootstrap (common/src/bootstrap.ts) and the tests run it. */
export const commitmentsSubgraph: SubgraphModule = {
  name: 'commitments',
  createDataSource: createCommitmentsDataSource,
  seed: (ds) => seedCommitments(ds),
  isEmpty: commitmentsEmpty,
  createService: createCommitmentsService,
};
