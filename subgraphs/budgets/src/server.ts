import { createBudgetsDataSource } from './data-source';
import { budgetsEmpty, seedBudgets } from './seed';
import { defineSubgraph, type SubgraphContext } from '../../../common/src/subgraph';
import type { Resolvers } from './generated/resolvers-types';
import { createBudgetLoaders, type BudgetLoaders } from './loaders';
import { Budget } from './resolvers/Budget';
import { BudgetLine } from './resolvers/BudgetLine';
import { Commitment } from './resolvers/Commitment';
import { Organization } from './resolvers/Organization';
import { Query } from './resolvers/Query';

/** The context of every resolver of this subgraph (codegen.ts gives it to the generated resolver types). */
export type BudgetsContext = SubgraphContext<BudgetLoaders>;

export const resolvers: Resolvers = { Query, Budget, BudgetLine, Organization, Commitment };

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
