import type { BundledFile } from '@civic/common/import/bundled';
import { TN_MUNICIPAL_BUDGET } from './tn-municipal-budget';

/**
 * The files the budgets seed imports, in order, each through its kind's importer: Bou Arada's budgets
 * 2013-2018 (municipal code 34012, governorate of Siliana; data/datasets/tunisia).
 *
 * The per-year files come first: they hold every line of every year, so each line (its label and provenance)
 * and its APPROVED figure cite them. The monthly 2018 files come last and contribute to those lines only the
 * figures no other file gives (the execution at the end of January and February 2018), each figure citing
 * its own cell (see contributions.ts). Their full-year column (`Budget_2018`) equals the per-year 2018 figure
 * on every line once its rows repeated cell for cell (15) are merged, so it changes nothing.
 *
 * Two files of the folder are not bundled, because they are copies that would add nothing:
 * `Depence_2018_34012.csv` is the monthly expenditure file with two columns swapped (by header name, row for
 * row the same), and `depense_simple_34012.csv` holds the two per-year files again in long format (Year,
 * Budget), cell for cell. test/unit/tn-municipal-budget.test.ts checks both facts on the files themselves.
 */
export const bundled: readonly BundledFile[] = [
  { kind: TN_MUNICIPAL_BUDGET, path: 'tunisia/depense_per_year_34012.csv' },
  { kind: TN_MUNICIPAL_BUDGET, path: 'tunisia/recette_per_year_34012.csv' },
  { kind: TN_MUNICIPAL_BUDGET, path: 'tunisia/Depence_mensuelle_2018_34012.csv' },
  { kind: TN_MUNICIPAL_BUDGET, path: 'tunisia/Recette_mensuelle_2018_34012.csv' },
];
