import type { SubgraphImporters } from '../../../../common/src/import/kinds';
import { commitmentsSubgraph } from '../server';
import { OGP_COMMITMENTS_KIND, ogpCommitmentsPart } from './ogp-commitments';

/** What `npm run import` can load into the commitments subgraph, by kind. */
export const commitmentsImporters: SubgraphImporters = {
  module: commitmentsSubgraph,
  importers: [
    {
      kind: OGP_COMMITMENTS_KIND,
      description:
        'the OGP commitments export (CSV with its 171 columns, in any order): members, institutions, action plans, commitments',
      part: () => ogpCommitmentsPart(),
    },
  ],
};
