import type { SubgraphImporters } from '../../../../common/src/import/kinds';
import { budgetsSubgraph } from '../server';
import { fiscalDataPackageImporter } from './fiscal-data-package';
import { tnMunicipalBudgetImporter } from './tn-municipal-budget';

/** What `npm run import` can load into the budgets subgraph, by kind. */
export const budgetsImporters: SubgraphImporters = {
  module: budgetsSubgraph,
  importers: [tnMunicipalBudgetImporter, fiscalDataPackageImporter],
};
