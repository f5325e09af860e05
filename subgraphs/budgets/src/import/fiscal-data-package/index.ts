import { FileRefused } from '@civic/common/import/csv';
import type { FileFacts } from '@civic/common/import/file';
import type { SubgraphImporter } from '@civic/common/import/kinds';
import type { ImportContext, ImporterPart, SourceRow } from '@civic/common/import/pipeline';
import { missingLines, newWriterState, pruneLines, writeLineGroups, type LineGroup } from '../lines';
import { ORGANIZATION_KEY, PackageRefused, type Params } from './descriptor';
import { DIRECTIONS, PHASES } from './model';
import { loadPackage, type Package } from './package';
import { readPackageRows, type FdpRow } from './read';
import { packageFacts } from './resources';
import { newRunState, validateRow } from './validate';

export { fdpBudgetId } from './validate';

/**
 * `fiscal-data-package`: a Fiscal Data Package 0.3 (the format OpenSpending publishes): a `datapackage.json`
 * whose `model` (or `mapping`, its earlier name) maps the columns of its CSV resources to measures (figures,
 * each with its ISO 4217 currency, `direction` expenditure/revenue and `phase` proposed/approved/adjusted/
 * executed) and dimensions. Every row is a FACT: its figures, and its value in every dimension of the model.
 * A Fiscal Data Package 1.0 (no model: a `columnType` from OpenSpending's os-types on each field) is read by
 * deriving that model from its types. This folder is the one place that knows the format:
 *
 * - `descriptor.ts`: reading datapackage.json, its name, source, organization, language, granularity, period;
 * - `resources.ts`: the CSV resources, their dialect, and the package's checksum over all of them;
 * - `model.ts`: the model's measures (factor, direction, phase, period, currency) and dimension attributes;
 * - `columntypes.ts`: the os-types taxonomy, and the model a 1.0 package's columnTypes describe;
 * - `dimensions.ts`: what each dimension is (its type and scheme), its levels and labels, a row's value in it;
 * - `classification.ts`: the dimension coding the lines, and their labels;
 * - `amounts.ts`: figures exact in the currency's minor unit;
 * - `package.ts`: all of that as one checked Package; `read.ts`, `validate.ts`: rows to facts and budgets
 *   (../lines.ts writes them, ../../facts.ts names them).
 *
 * What is read, and how:
 * - **Budget.** One per fiscal year and currency, `fdp-<package name>-<year>` (`…-<currency>` when the
 *   measures are in several), for the organization given by `--organization <stable key>` or the package's
 *   `organization` property. The fiscal year is the first `datetime` dimension's (one of that type, or named
 *   date / fiscalYear / year: `2018`, a date `2018-01-01`, a date-time), else `--year`, else the year
 *   `fiscalPeriod.start` is in; a measure that is a period (`2014-15`, `2015`: the wide layout, a column per
 *   year) puts its figures in its period's budget (the year it starts).
 * - **Fact.** One line per row, budget and direction, with the row's value in every dimension, in the model's
 *   order (budget_line_dimensions): its type (the declared `dimensionType` and `classificationType`, else
 *   what its name says, explained in a warning, else OTHER), its scheme (`cofog` for COFOG, else
 *   `fdp:<package>:<dimension>`), and the codes of its levels (the primaryKey attributes, with their
 *   `parent`s: values that extend the level above after a separator stand alone, `01`, `01.1`; others are
 *   joined by dots, `1`, `1.12000`), each with its labels (the attributes whose `labelfor` it is, in the
 *   language their name ends with, `label_fr`, or the package's `language`; else under no language). A
 *   datetime value is a PERIOD of levels year, year-month, date. A dimension left empty in a row is no value.
 * - **Identity.** `factId`: the budget, direction, line code and every dimension's codes (a date that only
 *   gives the budget's year aside), and the row's rank among the rows of the same cell (n-th row, n-th fact):
 *   re-importing changes nothing and a changed figure updates its fact. A row identical in every column to
 *   an earlier one is a fact too, with a warning naming both lines; `--dedupe` merges it instead.
 * - **Line code and labels.** Those of ONE classification the model declares (functional, e.g. COFOG, else
 *   economic, else administrative, else any): its most specific code (every level must be given) and that
 *   level's labels in the languages they are known to be in. A package with no classification (the EU's
 *   allocations: member state and fund) has lines without a code.
 * - **Figures.** Decimal strings in major units (`1437803.283`; Table Schema's `decimalChar`, `groupChar`
 *   honoured), times the measure's `factor` (an exact decimal: 1000, 0.001), exact in the currency's minor
 *   unit, else refused naming the cell. An empty cell, or one marking no figure (`-`, `nfp`, `n/a`, `..`,
 *   warned), gives no figure. A measure without direction or phase takes --direction/--phase, else is assumed
 *   expenditure, executed for a transactional package and approved otherwise, said in a warning. Several
 *   measures of one direction and phase are each their own figure (`measure` = its key; warned: a summary
 *   of the phase adds them).
 * - **Resources.** Every CSV resource, relative to the package, streamed in order; a model field is read from
 *   the resource named by its `resource` property, else from every resource. A row's record is
 *   `<resource path>:line N`; provenance names the package as given, with a checksum over the descriptor and
 *   every resource.
 *
 * Scope (checkpoint, missing lines, --prune): the package (its name); missing lines are those of the
 * package's budgets the file has rows for that the file no longer gives.
 */
export const FISCAL_DATA_PACKAGE = 'fiscal-data-package';

/** The kind's options, checked before any file is read: a wrong one is a usage error. */
function checkParams(params: Readonly<Record<string, string | undefined>>): Params {
  const p: Params = {
    organization: params.organization,
    year: params.year,
    direction: params.direction,
    phase: params.phase,
    dedupe: params.dedupe === 'true',
  };
  if (params.dedupe !== undefined && params.dedupe !== 'true' && params.dedupe !== 'false')
    throw new Error(`--dedupe takes no value; got "${params.dedupe}"`);
  if (p.organization !== undefined && !ORGANIZATION_KEY.test(p.organization))
    throw new Error(
      `--organization must be a stable organization key (lowercase letters, digits and hyphens, e.g. tn-municipality-34012); got "${p.organization}"`,
    );
  if (p.year !== undefined && !/^(19|20|21)\d{2}$/.test(p.year))
    throw new Error(`--year must be a fiscal year (four digits, e.g. 2018); got "${p.year}"`);
  if (p.direction !== undefined && !DIRECTIONS[p.direction])
    throw new Error(`--direction must be expenditure or revenue; got "${p.direction}"`);
  if (p.phase !== undefined && !PHASES[p.phase])
    throw new Error(`--phase must be proposed, approved, adjusted or executed; got "${p.phase}"`);
  return p;
}

/**
 * The part of `fiscal-data-package`, given the kind's options (checked here: a wrong one is a usage error).
 * The package is read once per file and kept (scope, read and validate all need it); a package that cannot
 * be read is kept as its refusal, which `read` reports as the file's.
 */
export function fiscalDataPackagePart(
  params: Readonly<Record<string, string | undefined>>,
): ImporterPart<FdpRow, LineGroup> {
  const p = checkParams(params);
  let pkg: Package | PackageRefused | null = null;
  let pkgFor = '';
  const packageOf = (ctx: ImportContext) => {
    if (!pkg || pkgFor !== ctx.path) {
      try {
        pkg = loadPackage(ctx.path, ctx.file, p);
      } catch (err) {
        if (!(err instanceof PackageRefused)) throw err;
        pkg = err;
      }
      pkgFor = ctx.path;
    }
    return pkg;
  };
  const resourceFacts = new Map<string, FileFacts>();
  let budgets = new Set<string>();
  let state = newRunState();
  let writer = newWriterState();

  return {
    importer: FISCAL_DATA_PACKAGE,
    subgraph: 'budgets',
    facts: (path) => packageFacts(path, resourceFacts),
    scope(ctx) {
      const pk = packageOf(ctx);
      return pk instanceof PackageRefused ? '' : `package ${pk.slug}`;
    },
    async *read(ctx): AsyncGenerator<SourceRow<FdpRow>> {
      budgets = new Set();
      state = newRunState();
      writer = newWriterState();
      const pk = packageOf(ctx);
      if (pk instanceof PackageRefused)
        throw new FileRefused({ line: null, column: pk.column, value: pk.value, reason: pk.message });
      for (const w of pk.warnings) ctx.warn(ctx.issue(null, null, null, w));
      yield* readPackageRows(pk, ctx, resourceFacts);
    },
    validate(row, ctx) {
      const g = validateRow(packageOf(ctx) as Package, row.data, ctx, state);
      if (g) for (const b of g.budgets) budgets.add(b.id);
      return g;
    },
    key: (g) => g.key,
    write: (m, rows, w) => writeLineGroups(m, rows, w, writer),
    missing: (m, ctx) => missingLines(m, ctx, [...budgets], ['EXPENDITURE', 'REVENUE'], writer.contributed),
    prune: (m, ctx, _scope, w) =>
      pruneLines(m, ctx, [...budgets], ['EXPENDITURE', 'REVENUE'], w, writer.contributed),
  };
}

/** The `fiscal-data-package` kind of `npm run import`. */
export const fiscalDataPackageImporter: SubgraphImporter = {
  kind: FISCAL_DATA_PACKAGE,
  description:
    'a Fiscal Data Package 0.3 (a model) or 1.0 (fields typed by columnType), as datapackage.json or its folder, with CSV resources',
  params: [
    {
      name: 'organization',
      description:
        'stable key of the organization whose budget it is (default: the package\'s "organization")',
    },
    {
      name: 'year',
      description: 'fiscal year when the model has no date dimension (default: fiscalPeriod.start)',
    },
    { name: 'direction', description: 'expenditure or revenue, for measures without a direction' },
    { name: 'phase', description: 'proposed, approved, adjusted or executed, for measures without a phase' },
    {
      name: 'dedupe',
      flag: true,
      description: 'merge rows identical in every column to an earlier one instead of loading each as a fact',
    },
  ],
  part: fiscalDataPackagePart,
};
