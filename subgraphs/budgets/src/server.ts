import { defineSubgraph } from '@civic/common/subgraph';
import { createBudgetsDataSource } from './data-source';
import { BudgetEntity } from './entities/Budget';
import type { Resolvers } from './generated/resolvers-types';
import { importers } from './import';
import { bundled } from './import/bundled';
import { createBudgetLoaders } from './loaders';
import { Query } from './resolvers/Query';
import { Budget } from './resolvers/Budget';
import { BudgetLine } from './resolvers/BudgetLine';
import { BudgetClassification } from './resolvers/BudgetClassification';
import { BudgetCode } from './resolvers/BudgetCode';
import { Organization } from './resolvers/Organization';
import { Commitment } from './resolvers/Commitment';
import { CommitmentBudgetLink } from './resolvers/CommitmentBudgetLink';
import { Provenance } from './resolvers/Provenance';
import { generateBudgets } from './synthetic';

export const resolvers: Resolvers = {
  Query,
  Budget,
  BudgetLine,
  BudgetClassification,
  BudgetCode,
  Organization,
  Commitment,
  CommitmentBudgetLink,
  Provenance,
};

/**
 * The budgets subgraph, as the bootstrap (common/src/bootstrap.ts), the scripts and the tests run it: its
 * storage, its importers and the bundled files its seed imports through them, and its service. Building the
 * service does not listen: index.ts binds the port.
 */
export const budgetsSubgraph = defineSubgraph({
  name: 'budgets',
  resolvers,
  createLoaders: createBudgetLoaders,
  createDataSource: createBudgetsDataSource,
  importers,
  seed: { files: bundled, table: BudgetEntity },
  synthetic: { what: 'budget lines', generate: generateBudgets },
});
