import type { MapperHelpers } from '../../codegen';

/**
 * The organizations subgraph's graphql-codegen mappers (read by the root codegen.ts): the model each GraphQL type's
 * resolvers receive as parent. Paths are relative to src/generated/resolvers-types.ts.
 */
export const mappers = ({ connection }: MapperHelpers): Record<string, string> => ({
  Organization: '../entities/Organization#Organization as OrganizationModel',
  Identifier: '../entities/OrganizationIdentifier#OrganizationIdentifier as OrganizationIdentifierModel',
  OrganizationConnection: connection('OrganizationModel'),
});
