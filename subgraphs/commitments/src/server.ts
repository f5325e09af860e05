import { createCommitmentsDataSource } from './data-source';
import { commitmentsEmpty, seedCommitments } from './seed';
import { defineSubgraph, type SubgraphContext } from '../../../common/src/subgraph';
import type { Resolvers } from './generated/resolvers-types';
import { createCommitmentLoaders, type CommitmentLoaders } from './loaders';
import { ActionPlan } from './resolvers/ActionPlan';
import { Commitment } from './resolvers/Commitment';
import { Organization } from './resolvers/Organization';
import { Query } from './resolvers/Query';

/** The context of every resolver of this subgraph (codegen.ts gives it to the generated resolver types). */
export type CommitmentsContext = SubgraphContext<CommitmentLoaders>;

export const resolvers: Resolvers = { Query, ActionPlan, Commitment, Organization };

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
