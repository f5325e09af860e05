import type { MapperHelpers } from '../../codegen';

/**
 * The budgets subgraph's graphql-codegen mappers (read by the root codegen.ts): the model each GraphQL type's
 * resolvers receive as parent. Paths are relative to src/generated/resolvers-types.ts.
 */
export const mappers = ({ connection, reference }: MapperHelpers): Record<string, string> => ({
  Budget: '../entities/Budget#Budget as BudgetModel',
  BudgetLine: '../entities/Budget#BudgetLine as BudgetLineModel',
  CommitmentBudgetLink: '../entities/Budget#CommitmentBudgetLine as CommitmentBudgetLinkModel',
  BudgetClassification: '../classifications#ClassificationModel',
  BudgetCode: '../classifications#CodeModel',
  BudgetConnection: connection('BudgetModel'),
  BudgetLineConnection: connection('BudgetLineModel'),
  Organization: reference,
  Commitment: reference,
});
