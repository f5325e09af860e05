import type { SubgraphImporter } from '@civic/common/import/kinds';
import { commitmentBudgetLinksImporter } from './commitment-budget-links';
import { fiscalDataPackageImporter } from './fiscal-data-package';
import { tnMunicipalBudgetImporter } from './tn-municipal-budget';

/**
 * What `npm run import` can load into the budgets subgraph, by kind. The seed loads the bundled files through
 * these same importers; they depend on the data source, never on the server.
 */
export const importers: readonly SubgraphImporter[] = [
  tnMunicipalBudgetImporter,
  fiscalDataPackageImporter,
  commitmentBudgetLinksImporter,
];
