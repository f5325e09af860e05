import { createCommitmentsDataSource } from './data-source';
import { commitmentsEmpty, seedCommitments } from './seed';
import { defineSubgraph } from '../../../common/src/subgraph';
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

/**
 * The commitments subgraph, as the bootstrap (common/src/bootstrap.ts) and the tests run it. Building its service
 * does not listen: index.ts binds the port.
 */
export const commitmentsSubgraph = defineSubgraph({
  name: 'commitments',
  resolvers,
  createLoaders: createCommitmentLoaders,
  createDataSource: createCommitmentsDataSource,
  seed: seedCommitments,
  isEmpty: commitmentsEmpty,
});
