import { FileRefused } from '@civic/common/import/csv';
import type { ImportContext, ImporterPart } from '@civic/common/import/pipeline';
import type { SubgraphImporter } from '@civic/common/import/kinds';
import { missingLines, newWriterState, pruneLines, writeLineGroups, type LineGroup } from '../lines';
import { DIRECTIONS, makePlan, type Params, type Plan, type Refusal } from './layouts';
import { municipalityCodeProblem } from './municipality';
import { readBudgetRows } from './read';
import { newRunState, validateRow } from './validate';

export { municipalityCodeProblem } from './municipality';

/**
 * `tn-municipal-budget`: one file of a Tunisian municipality's budget, in the layouts Onshor's
 * ODMunicipalityTools publishes (the Bou Arada files in data/datasets/tunisia, which the seed loads through
 * this importer). This folder is the one place that knows those files:
 *
 * - `file-name.ts`: what a file's name says (layout, direction, year, municipality);
 * - `layouts.ts`: the three layouts (per year, monthly, long), told by the header, and a file's plan;
 * - `nomenclature.ts`: line codes, labels, directions and the ids of budgets and lines;
 * - `amounts.ts`: integer millimes and the monthly layout's amount columns;
 * - `municipality.ts`: municipal codes and the dataset a municipality's records cite;
 * - `read.ts`, `validate.ts`: rows to the lines, amounts and budgets written (../lines.ts writes them).
 *
 * Amounts are integer millimes (TND has three decimals): a value with a decimal part is refused, as is one
 * that is not a number, naming the column. A row repeating an earlier one cell for cell (the monthly file
 * repeats 15) is merged with a warning; a row with the same code but other values is refused.
 *
 * Ids (`tn-34012-2018-EXP-1.01100.0001.000`) and the dataset ("Bou Arada municipal budget 2013-2018") do not
 * depend on which file gives a line, so importing a newer file over the seeded database updates the seeded
 * lines in place, and each record cites `<file>:line N`. Amounts a file does not give (the execution figures
 * when the per-year file is imported) are kept.
 *
 * Scope (for the checkpoint, missing lines and --prune): the municipality, and within it the budgets
 * (fiscal years) and directions of the lines the file gives. A line of those budgets and directions that the
 * file does not have is missing; other years and the other direction are not touched.
 */
export const TN_MUNICIPAL_BUDGET = 'tn-municipal-budget';

/** The kind's options, checked before any file is read: a wrong one is a usage error. */
function checkParams(params: Readonly<Record<string, string | undefined>>): Params {
  const p: Params = { municipality: params.municipality, year: params.year, direction: params.direction };
  if (p.municipality !== undefined) {
    const bad = municipalityCodeProblem(p.municipality);
    if (bad) throw new Error(`--municipality: ${bad}`);
  }
  if (p.year !== undefined && !/^(19|20|21)\d{2}$/.test(p.year))
    throw new Error(`--year must be a fiscal year (four digits, e.g. 2018); got "${p.year}"`);
  if (p.direction !== undefined && !DIRECTIONS[p.direction])
    throw new Error(`--direction must be expenditure or revenue; got "${p.direction}"`);
  return p;
}

/** What the scope of a planned file says: municipality, direction(s) and years. */
function scopeOf(pl: Plan): string {
  const dir = pl.direction ? pl.direction.toLowerCase() : 'expenditure and revenue (by code)';
  const years = pl.years ? pl.years.join(', ') : 'every year in the file';
  return `municipality ${pl.code}, ${dir}, ${years}`;
}

/** Builds the importer part for a file, given the kind's options. */
export function tnMunicipalBudgetPart(
  params: Readonly<Record<string, string | undefined>>,
): ImporterPart<Record<string, string>, LineGroup> {
  const p = checkParams(params);
  let plan: Plan | Refusal | null = null;
  let planFor = '';
  const planOf = (ctx: ImportContext) => {
    if (!plan || planFor !== ctx.path) {
      plan = makePlan(ctx.path, p);
      planFor = ctx.path;
    }
    return plan;
  };
  let state = newRunState();
  let writer = newWriterState();

  return {
    importer: TN_MUNICIPAL_BUDGET,
    subgraph: 'budgets',
    scope(ctx) {
      const pl = planOf(ctx);
      return 'refused' in pl ? '' : scopeOf(pl);
    },
    async *read(ctx) {
      state = newRunState();
      const pl = planOf(ctx);
      if ('refused' in pl)
        throw new FileRefused({ line: null, column: pl.column, value: pl.value, reason: pl.refused });
      // A monthly execution file complements the lines the per-year file describes (contributions.ts).
      writer = newWriterState(pl.layout === 'monthly');
      yield* readBudgetRows(pl, p, state, ctx);
    },
    validate: (row, ctx) => validateRow(planOf(ctx) as Plan, state, row, ctx),
    key: (g) => g.key,
    write: (m, rows, w) => writeLineGroups(m, rows, w, writer),
    missing: (m, ctx) => missingLines(m, ctx, [...state.budgets], [...state.directions], writer.contributed),
    prune: (m, ctx, _scope, w) =>
      pruneLines(m, ctx, [...state.budgets], [...state.directions], w, writer.contributed),
  };
}

/** The `tn-municipal-budget` kind of `npm run import`. */
export const tnMunicipalBudgetImporter: SubgraphImporter = {
  kind: TN_MUNICIPAL_BUDGET,
  description: 'a Tunisian municipal budget file (per-year, monthly or long layout; amounts in millimes)',
  params: [
    {
      name: 'municipality',
      description: 'official 5-digit municipal code (default: from the file name, …_34012.csv)',
    },
    {
      name: 'year',
      description:
        'fiscal year of a monthly file whose name has none; for other layouts, load only that year',
    },
    {
      name: 'direction',
      description: 'expenditure or revenue when the file name does not say (default: from each code)',
    },
  ],
  part: tnMunicipalBudgetPart,
};
