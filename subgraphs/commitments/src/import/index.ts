import type { SubgraphImporter } from '@civic/common/import/kinds';
import { OGP_COMMITMENTS_KIND, ogpCommitmentsPart } from './ogp-commitments';
import { ogpLocalImporter } from './ogp-local';

/**
 * What `npm run import` can load into the commitments subgraph, by kind. The seed loads the bundled files through
 * these same importers; they depend on the data source, never on the server.
 */
export const importers: readonly SubgraphImporter[] = [
  {
    kind: OGP_COMMITMENTS_KIND,
    description:
      'the OGP commitments export (CSV with its 171 columns, in any order): members, institutions, action plans, commitments',
    part: () => ogpCommitmentsPart(),
  },
  ogpLocalImporter,
];
