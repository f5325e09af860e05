import { FileRefused } from '@civic/common/import/csv';
import type { FileFacts } from '@civic/common/import/file';
import type { SubgraphImporter } from '@civic/common/import/kinds';
import type { ImportContext, ImporterPart, SourceRow } from '@civic/common/import/pipeline';
import type { Budget } from '../../entities/Budget';
import { missingLines, newWriterState, pruneLines, writeLineGroups, type LineGroup } from '../lines';
import { ORGANIZATION_KEY, PackageRefused, type Params } from './descriptor';
import { DIRECTIONS, PHASES } from './model';
import { loadPackage, type Package } from './package';
import { readPackageRows, type FdpRow } from './read';
import { packageFacts } from './resources';
import { validateRow } from './validate';

export { fdpBudgetId } from './validate';

/**
 * `fiscal-data-package`: a Fiscal Data Package 0.3 (the format OpenSpending publishes): a `datapackage.json`
 * whose `model` maps the columns of its CSV resources to measures (amounts, each with its ISO 4217 currency,
 * `direction` expenditure/revenue and `phase` proposed/approved/adjusted/executed) and dimensions. This
 * folder is the one place that knows the format:
 *
 * - `descriptor.ts`: reading datapackage.json, its name, source, organization, language, fiscal period;
 * - `resources.ts`: the CSV resources, their dialect, and the package's checksum over all of them;
 * - `model.ts`: the model's measures and dimensions, and the date dimension;
 * - `classification.ts`: the dimension giving line codes, its labels by language, and reading both;
 * - `amounts.ts`: amounts exact in the currency's minor unit;
 * - `package.ts`: all of that as one checked Package; `read.ts`, `validate.ts`: rows to lines and budgets
 *   (../lines.ts writes them).
 *
 * What is read, and how:
 * - **Budget.** One per fiscal year of the package, `fdp-<package name>-<year>`, for the organization given
 *   by `--organization <stable key>` or the package's `organization` property (e.g. `tn-municipality-34012`).
 *   The fiscal year is the `datetime` dimension's (a dimension of that type, or named date / fiscalYear /
 *   year: `2018` or a date `2018-01-01`), else `--year`, else the year `fiscalPeriod.start` is in.
 * - **Line.** One per row and direction, `<budget>-<EXP|REV>-<code>`. The code comes from ONE classification
 *   dimension, the model's functional one (e.g. COFOG) if it has one, else its economic one, else its
 *   administrative one, else any classification: its `primaryKey` attributes' values joined by dots
 *   (Titre.Article.Paragraphe.Sous_paragraphe → `1.01100.0001.000`; a COFOG code `01.1.1`). The line's
 *   classification is that dimension's name. Two rows giving the same code in the same year are a duplicate:
 *   a package with rows finer than its classification (e.g. by administrative unit) must be aggregated first.
 * - **Labels.** The attributes whose `labelfor` is the last primaryKey attribute, in the language their name
 *   ends with (`label_fr`, `title-ar`, `labelEn`) or else the package's `language`; with neither, Arabic text
 *   is taken as Arabic and other text as English, with a warning.
 * - **Amounts.** Decimal strings in major units (`1437803.283`), times the measure's `factor` (default 1),
 *   exact in the currency's minor unit: more decimals than the currency has (TND 3, EUR 2, JPY 0) is refused,
 *   as is anything not a plain decimal number. An empty cell is no amount. All measures must share one
 *   currency (a budget has one); no two may share a direction and phase.
 * - **Resources.** Every CSV resource, relative to the package, streamed in order; a model field is read from
 *   the resource named by its `resource` property, else from every resource. A row's record is
 *   `<resource path>:line N`; provenance names the package as given, with a checksum over the descriptor and
 *   every resource.
 *
 * Scope (checkpoint, missing lines, --prune): the package (its name); missing lines are those of the
 * package's budgets for the years the file has rows for that the file no longer gives.
 */
export const FISCAL_DATA_PACKAGE = 'fiscal-data-package';

/** The kind's options, checked before any file is read: a wrong one is a usage error. */
function checkParams(params: Readonly<Record<string, string | undefined>>): Params {
  const p: Params = {
    organization: params.organization,
    year: params.year,
    direction: params.direction,
    phase: params.phase,
  };
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
  let budgetCache = new Map<string, Budget>();
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
      budgetCache = new Map();
      writer = newWriterState();
      const pk = packageOf(ctx);
      if (pk instanceof PackageRefused)
        throw new FileRefused({ line: null, column: pk.column, value: pk.value, reason: pk.message });
      for (const w of pk.warnings) ctx.warn(ctx.issue(null, null, null, w));
      yield* readPackageRows(pk, ctx, resourceFacts);
    },
    validate(row, ctx) {
      const g = validateRow(packageOf(ctx) as Package, row.data, ctx, budgetCache);
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
  description: 'a Fiscal Data Package 0.3 (datapackage.json, or its folder, with CSV resources)',
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
  ],
  part: fiscalDataPackagePart,
};
