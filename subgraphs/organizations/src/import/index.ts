import type { SubgraphImporters } from '../../../../common/src/import/kinds';
import { organizationsSubgraph } from '../server';
import { adminDivisionsImporter } from './admin-divisions';
import { ogpOrganizationsPart } from './ogp-commitments';
import { organizationsImporter } from './organizations';

/** What `npm run import` can load into the organizations subgraph, by kind. */
export const organizationsImporters: SubgraphImporters = {
  module: organizationsSubgraph,
  importers: [
    {
      kind: 'ogp-commitments',
      description:
        'the OGP commitments export (CSV with its 171 columns, in any order): members, institutions, action plans, commitments',
      part: () => ogpOrganizationsPart(),
    },
    organizationsImporter,
    adminDivisionsImporter,
  ],
};
