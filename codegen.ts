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
import { SUBGRAPH_NAMES, type SubgraphName } from './subgraphs/catalog';

const ROOT = __dirname;
const COMMON = '@civic/common';

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

/** What a subgraph's codegen.ts (subgraphs/<name>/codegen.ts) builds its mappers with. */
export interface MapperHelpers {
  /** The resolvers' parent for a connection: common/src/pagination.ts's Connection, its totalCount a thunk. */
  connection(node: string): string;
  /** A federated entity another subgraph owns: this subgraph only ever holds its key (see entityRef). */
  reference: string;
}

const helpers: MapperHelpers = {
  connection: (node) => `${COMMON}/pagination#Connection<${node}>`,
  reference: '{ id: string }',
};

/** Each subgraph of the catalog with its own mappers (subgraphs/<name>/codegen.ts). */
const subgraphs = SUBGRAPH_NAMES.map((name) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const own = require(`./subgraphs/${name}/codegen`) as { mappers(h: MapperHelpers): Record<string, string> };
  return { name, mappers: own.mappers(helpers) };
});

/** Where a subgraph's generated resolver types go. */
const generatedPath = (name: SubgraphName) =>
  join(ROOT, 'subgraphs', name, 'src', 'generated', 'resolvers-types.ts');

const config: CodegenConfig = {
  overwrite: true,
  silent: true,
  generates: Object.fromEntries(
    subgraphs.map(({ name, mappers }) => [
      generatedPath(name),
      {
        schema: [join(ROOT, 'schema', `${name}.graphql`), join(ROOT, 'schema', 'common.graphql')],
        plugins: ['typescript', 'typescript-resolvers'],
        config: {
          ...shared,
          // SubgraphContext<XLoaders>, named `Context` in every subgraph's context.ts.
          contextType: '../context#Context',
          mappers,
        },
      },
    ]),
  ),
};

export default config;
