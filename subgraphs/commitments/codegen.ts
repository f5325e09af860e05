import type { MapperHelpers } from '../../codegen';

/**
 * The commitments subgraph's graphql-codegen mappers (read by the root codegen.ts): the model each GraphQL type's
 * resolvers receive as parent. Paths are relative to src/generated/resolvers-types.ts.
 */
export const mappers = ({ connection, reference }: MapperHelpers): Record<string, string> => ({
  Commitment: '../entities/Commitment#Commitment as CommitmentModel',
  ActionPlan: '../entities/ActionPlan#ActionPlan as ActionPlanModel',
  CommitmentConnection: connection('CommitmentModel'),
  ActionPlanConnection: connection('ActionPlanModel'),
  Organization: reference,
});
