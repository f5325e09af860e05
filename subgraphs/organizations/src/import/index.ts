import type { SubgraphImporter } from '@civic/common/import/kinds';
import { adminDivisionsImporter } from './admin-divisions';
import { ogpOrganizationsPart } from './ogp-commitments';
import { ogpLocalImporter } from './ogp-local';
import { organizationsImporter } from './organizations';
import { tnMunicipalitiesImporter } from './tn-municipalities';

/**
 * What `npm run import` can load into the organizations subgraph, by kind. The seed loads the bundled files through
 * these same importers; they depend on the data source, never on the server.
 */
export const importers: readonly SubgraphImporter[] = [
  {
    kind: 'ogp-commitments',
    description:
      'the OGP commitments export (CSV with its 171 columns, in any order): members, institutions, action plans, commitments',
    part: () => ogpOrganizationsPart(),
  },
  ogpLocalImporter,
  organizationsImporter,
  adminDivisionsImporter,
  tnMunicipalitiesImporter,
];
