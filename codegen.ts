/**
 * graphql-codegen configuration: resolver types for each subgraph, generated from the same SDL the subgraph
 * serves (schema/<name>.graphql plus schema/common.graphql, as in common/src/schema.ts) into
 * subgraphs/<name>/src/generated/resolvers-types.ts. Run it with `npm run codegen` (scripts/codegen.ts), not
 * with `graphql-codegen` directly: the script adds the "do not edit" banner and formats the output with the
 * repository's Prettier settings, as the checked-in files are. `npm run codegen:check` fails when a generated
 * file is stale.
 *
 * Paths inside `mappers` and `contextType` are relative to the generated file; a path's `.` after the `#`
 * would be read as a namespace, so the type after the `#` names one import (plus generic arguments).
 */
import { join } from 'node:path';
import type { CodegenConfig } from '@graphql-codegen/cli';
import type { SubgraphName } from './common/src/config';

const ROOT = __dirname;
const COMMON = '../../../../common/src';

/** Options every subgraph shares. */
const shared = {
  federation: true,
  // `import type` only: the generated file must never load anything at run time (the image has no dev deps).
  useTypeImports: true,
  // Enum values as string unions, so that entity fields typed as unions (Organization.kind...) fit.
  enumsAsTypes: true,
  scalars: { ID: 'string' },
  // Objects a resolver builds (LocalizedText, Provenance, Money...) must carry every field, null or not;
  // every root field must have a resolver. Fields of other types stay optional: the default resolver reads
  // the property of the same name.
  avoidOptionals: { field: true, query: true },
} as const;

/** The resolvers' parent for a connection: common/src/pagination.ts's Connection, its totalCount a thunk. */
const connection = (node: string) => `${COMMON}/pagination#Connection<${node}>`;

/** A federated entity another subgraph owns: this subgraph only ever holds its key (see entityRef). */
const reference = '{ id: string }';

const subgraphs: Record<SubgraphName, { context: string; mappers: Record<string, string> }> = {
  organizations: {
    context: 'OrganizationsContext',
    mappers: {
      Organization: '../entities/Organization#Organization as OrganizationModel',
      Identifier: '../entities/OrganizationIdentifier#OrganizationIdentifier as OrganizationIdentifierModel',
      OrganizationConnection: connection('OrganizationModel'),
    },
  },
  commitments: {
    context: 'CommitmentsContext',
    mappers: {
      Commitment: '../entities/Commitment#Commitment as CommitmentModel',
      ActionPlan: '../entities/ActionPlan#ActionPlan as ActionPlanModel',
      CommitmentConnection: connection('CommitmentModel'),
      ActionPlanConnection: connection('ActionPlanModel'),
      Organization: reference,
    },
  },
  budgets: {
    context: 'BudgetsContext',
    mappers: {
      Budget: '../entities/Budget#Budget as BudgetModel',
      BudgetLine: '../entities/Budget#BudgetLine as BudgetLineModel',
      BudgetConnection: connection('BudgetModel'),
      BudgetLineConnection: connection('BudgetLineModel'),
      Organization: reference,
      Commitment: reference,
    },
  },
};

/** Where a subgraph's generated resolver types go. */
const generatedPath = (name: SubgraphName) =>
  join(ROOT, 'subgraphs', name, 'src', 'generated', 'resolvers-types.ts');

const config: CodegenConfig = {
  overwrite: true,
  silent: true,
  generates: Object.fromEntries(
    Object.entries(subgraphs).map(([name, { context, mappers }]) => [
      generatedPath(name as SubgraphName),
      {
        schema: [join(ROOT, 'schema', `${name}.graphql`), join(ROOT, 'schema', 'common.graphql')],
        plugins: ['typescript', 'typescript-resolvers'],
        config: {
          ...shared,
          // SubgraphContext<XLoaders>, named in server.ts: a contextType can import only one name.
          contextType: `../server#${context}`,
          mappers,
        },
      },
    ]),
  ),
};

export default config;
