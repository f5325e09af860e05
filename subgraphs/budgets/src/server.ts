import type { SubgraphModule } from '../../../common/src/bootstrap';
import { createBudgetsDataSource } from './data-source';
import { budgetsEmpty, seedBudgets } from './seed';
import type { DataSource } from 'typeorm';
import { createSubgraphService } from '../../../common/src/subgraph';
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

/** Builds the budgets subgraph over an open data source. Does not listen: see index.ts. */
export const createBudgetsService = (ds: DataSource, opts: { closeDataSource?: boolean } = {}) =>
  createSubgraphService({
    name: 'budgets',
    ds,
    resolvers,
    createLoaders: createBudgetLoaders,
    closeDataSource: opts.closeDataSource,
  });

/** The budgets subgraph as the bootstrap (common/src/bootstrap.ts) and the tests run it. */
export const budgetsSubgraph: SubgraphModule = {
  name: 'budgets',
  createDataSource: createBudgetsDataSource,
  seed: (ds) => seedBudgets(ds),
  isEmpty: budgetsEmpty,
  createService: createBudgetsService,
};
