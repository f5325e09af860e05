import { createBudgetsDataSource } from './data-source';
import { budgetsEmpty, seedBudgets } from './seed';
import { defineSubgraph } from '../../../common/src/subgraph';
import { createBudgetLoaders } from './loaders';
import { BudgetResolvers } from './resolvers/Budget';
import { BudgetLineResolvers } from './resolvers/BudgetLine';
import { CommitmentResolvers } from './resolvers/Commitment';
import { OrganizationResolvers } from './resolvers/Organization';
import { QueryResolvers } from './resolvers/Query';

export const resolvers = {
  Query: QueryResolvers,
  Budget: BudgetResolvers,
  BudgetLine: BudgetLineResolvers,
  Organization: OrganizationResolvers,
  Commitment: CommitmentResolvers,
};

/**
 * The budgets subgraph, as the bootstrap (common/src/bootstrap.ts) and the tests run it. Building its service
 * does not listen: index.ts binds the port.
 */
export const budgetsSubgraph = defineSubgraph({
  name: 'budgets',
  resolvers,
  createLoaders: createBudgetLoaders,
  createDataSource: createBudgetsDataSource,
  seed: seedBudgets,
  isEmpty: budgetsEmpty,
});
