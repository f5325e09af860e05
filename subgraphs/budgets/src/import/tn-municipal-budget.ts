import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parse } from 'csv-parse/sync';
import { FileRefused, readCsv, type CsvLayout } from '../../../../common/src/import/csv';
import type { ImportContext, ImporterPart, SourceRow } from '../../../../common/src/import/pipeline';
import type { ImportIssue } from '../../../../common/src/import/report';
import { digest } from '../../../../common/src/import/write';
import type { SubgraphImporter } from '../../../../common/src/import/kinds';
import { tunisiaMunicipalityId } from '../../../../common/src/keys';
import { DATASETS_DIR, SOURCES, datasetPath } from '../../../../common/src/sources';
import type { Budget, BudgetAmount, BudgetDirection } from '../entities/Budget';
import {
  CLASSIFICATION,
  CURRENCY,
  KEY_COLUMNS,
  LABEL_COLUMN,
  directionOfCodeShape,
  lineCode,
  monthlyAmountColumns,
  parseBudgetFileName,
  parseMillimes,
  tnBudgetId,
  tnLineId,
  type MonthlyColumn,
} from '../seed/tn-municipal-budget';
import { readCsvHeader } from './header';
import {
  missingLines,
  newWriterState,
  pruneLines,
  slotOf,
  writeLineGroups,
  type LineGroup,
  type LineWrite,
} from './lines';

/**
 * `tn-municipal-budget`: one file of a Tunisian municipality's budget, in the layouts Onshor's
 * ODMunicipalityTools publishes (the Bou Arada files in data/datasets/tunisia; the seed's builder,
 * seed/tn-municipal-budget.ts, describes them and shares its code parsing, amount parsing and ids with this
 * importer). The layout is told by the header:
 *
 * - per year (`depense_per_year_<code>.csv`, `recette_per_year_<code>.csv`): a column per year (`2013`…);
 *   each row gives the line in every year, its APPROVED amount (an empty cell: no amount, `0`: zero);
 * - monthly (`Depence_mensuelle_<year>_<code>.csv`, `Recette_mensuelle_…`, `Depence_<year>_<code>.csv`):
 *   `Budget_MM_YYYY` columns are the cumulative execution at the end of month MM (EXECUTED as of its last
 *   day), `Budget_YYYY` the full-year budget (APPROVED);
 * - long (`depense_simple_<code>.csv`): one row per line and `Year`, its APPROVED amount in `Budget`; it holds
 *   expenditure and revenue, told apart by the shape of the code.
 *
 * Amounts are integer millimes (TND has three decimals): a value with a decimal part is refused, as is one
 * that is not a number, naming the column. A row repeating an earlier one cell for cell (the monthly file
 * repeats 15) is merged with a warning; a row with the same code but other values is refused.
 *
 * Ids and provenance are the seed's (`tn-34012-2018-EXP-1.01100.0001.000`, dataset "Bou Arada municipal
 * budget 2013-2018", record `<file>:line N`), so importing a real file over the seeded database updates the
 * seeded lines in place. Amounts a file does not give (the execution figures when the per-year file is
 * imported) are kept.
 *
 * Scope (for the checkpoint, missing lines and --prune): the municipality, and within it the budgets
 * (fiscal years) and directions of the lines the file gives. A line of those budgets and directions that the
 * file does not have is missing; other years and the other direction are not touched.
 */

export const TN_MUNICIPAL_BUDGET = 'tn-municipal-budget';

/** The 24 governorates' codes, the first two digits of every official municipal code (Tunis 11 … Tataouine 83). */
const GOVERNORATES = new Set(
  '11 12 13 14 21 22 23 31 32 33 34 41 42 43 51 52 53 61 71 72 73 81 82 83'.split(' '),
);

/** Why a municipal code is not one, or null when it has the official form (5 digits, a governorate's prefix). */
export function municipalityCodeProblem(code: string): string | null {
  if (!/^\d{5}$/.test(code))
    return `"${code}" is not a Tunisian municipal code: 5 digits, e.g. 34012 (Bou Arada)`;
  if (!GOVERNORATES.has(code.slice(0, 2)))
    return `"${code}" is not a Tunisian municipal code: its first two digits (${code.slice(0, 2)}) are no governorate's`;
  return null;
}

let knownMunicipalities: Set<string> | null = null;
/** The official codes in data/datasets/tunisia/municipalities.csv (the organizations the budgets belong to). */
function isKnownMunicipality(code: string): boolean {
  if (!knownMunicipalities) {
    try {
      const rows = parse(
        readFileSync(datasetPath(SOURCES.tunisiaMunicipalities.file, DATASETS_DIR), 'utf8'),
        {
          columns: true,
          bom: true,
        },
      ) as { municipal_id: string }[];
      knownMunicipalities = new Set(rows.map((r) => r.municipal_id.trim()));
    } catch {
      knownMunicipalities = new Set();
    }
  }
  return knownMunicipalities.has(code);
}

/** The dataset a municipality's budget records cite: Bou Arada's is the seed's. */
function sourceOf(code: string): { dataset: string; url: string | null; license: string | null } {
  if (code === '34012') return SOURCES.tunisiaBudget;
  return { dataset: `Tunisian municipal budget, municipality ${code}`, url: null, license: null };
}

type Layout = 'perYear' | 'monthly' | 'simple';

const DIRECTIONS: Record<string, BudgetDirection> = { expenditure: 'EXPENDITURE', revenue: 'REVENUE' };

/** How a file is read, decided from its name, its header and the options. */
interface Plan {
  name: string;
  code: string;
  layout: Layout;
  /** The file's direction, or null when each row's code tells it. */
  direction: BudgetDirection | null;
  /** perYear: the year columns read; monthly: the file's year; simple: the years read (null: all). */
  years: number[] | null;
  monthly: MonthlyColumn[];
  /** The amount slots every line of this file has. */
  slots: string[];
  source: { dataset: string; url: string | null; license: string | null };
  warnings: string[];
}

type Refusal = { refused: string; column: string | null; value: string | null };

const refusal = (refused: string, column: string | null = null, value: string | null = null): Refusal => ({
  refused,
  column,
  value,
});

function makePlan(path: string, params: Params): Plan | Refusal {
  const name = basename(path);
  const fromName = parseBudgetFileName(name);
  const warnings: string[] = [];

  const nameCode = /_(\d+)\.csv$/i.exec(name)?.[1] ?? null;
  if (nameCode && params.municipality && nameCode !== params.municipality)
    return refusal(`--municipality ${params.municipality} but the file name says ${nameCode}`, null, name);
  const code = params.municipality ?? nameCode;
  if (!code)
    return refusal(
      'no municipal code: the file name does not end in _<code>.csv; give --municipality',
      null,
      name,
    );
  const bad = municipalityCodeProblem(code);
  if (bad) return refusal(bad, null, name);
  if (!isKnownMunicipality(code))
    warnings.push(
      `municipality ${code} is not in the Tunisian municipalities list: its budgets belong to ${tunisiaMunicipalityId(code)}, which the organizations subgraph does not have`,
    );

  const header = readCsvHeader(path);
  if (!header) return refusal('no header line: the file is empty or unreadable');
  const yearColumns = header.filter((h) => /^\d{4}$/.test(h)).map(Number);
  const monthlyHeaders = header.filter((h) => /^Budget_(\d{2}_)?\d{4}$/.test(h));
  const hasLong = ['year', 'budget'].every((c) => header.some((h) => h.toLowerCase() === c));
  const layouts = [
    yearColumns.length ? 'perYear' : null,
    monthlyHeaders.length ? 'monthly' : null,
    hasLong ? 'simple' : null,
  ].filter((l): l is Layout => l !== null);
  if (layouts.length !== 1)
    return refusal(
      layouts.length
        ? `the header mixes layouts (${layouts.join(', ')}): a file is per year, monthly or long`
        : 'not a Tunisian municipal budget layout: the header has no year columns (2013, 2014…), no Budget_MM_YYYY / Budget_YYYY columns and no Year and Budget columns',
      null,
      header.join(','),
    );
  const layout = layouts[0];
  if (fromName && fromName.kind !== layout)
    warnings.push(
      `the file name says a ${fromName.kind} file but the header is the ${layout} layout: read as ${layout}`,
    );

  // Direction: the name's, or --direction; the long layout holds both (each row's code tells).
  const nameDirection = /^(depense|depence|recette)/i.exec(name)?.[1].toLowerCase();
  const fromNameDirection = nameDirection ? (nameDirection === 'recette' ? 'REVENUE' : 'EXPENDITURE') : null;
  const optDirection = params.direction ? DIRECTIONS[params.direction] : null;
  let direction: BudgetDirection | null = null;
  if (layout !== 'simple') {
    if (optDirection && fromNameDirection && optDirection !== fromNameDirection)
      return refusal(
        `--direction ${params.direction} but the file name says ${fromNameDirection.toLowerCase()}`,
      );
    direction = optDirection ?? fromNameDirection;
  } else direction = optDirection;

  const optYear = params.year ? Number(params.year) : null;
  let years: number[] | null = null;
  let monthly: MonthlyColumn[] = [];
  if (layout === 'perYear') {
    years = optYear === null ? yearColumns : yearColumns.filter((y) => y === optYear);
    if (!years.length)
      return refusal(`--year ${optYear}: the file has no ${optYear} column`, null, header.join(','));
    if (optYear !== null) warnings.push(`--year ${optYear}: the other year columns are not loaded`);
  } else if (layout === 'monthly') {
    const nameYear = fromName?.kind === 'monthly' ? fromName.year : null;
    if (nameYear !== null && optYear !== null && nameYear !== optYear)
      return refusal(`--year ${optYear} but the file name says ${nameYear}`);
    const columnYears = [...new Set(monthlyHeaders.map((h) => Number(h.slice(-4))))];
    const year = nameYear ?? optYear ?? (columnYears.length === 1 ? columnYears[0] : null);
    if (year === null)
      return refusal(
        `the file name has no year and the columns name several (${columnYears.join(', ')}): give --year`,
      );
    years = [year];
    monthly = monthlyAmountColumns(header, year, (column) =>
      warnings.push(`column ${column} does not fit the file's year ${year}; not loaded`),
    );
    if (!monthly.length)
      return refusal(
        `no Budget_MM_${year} or Budget_${year} column for the file's year ${year}`,
        null,
        header.join(','),
      );
  } else years = optYear === null ? null : [optYear];

  const slots = layout === 'monthly' ? monthly.map((c) => slotOf(c.phase, c.asOf)) : [slotOf('APPROVED', '')];
  return { name, code, layout, direction, years, monthly, slots, source: sourceOf(code), warnings };
}

/** The column layout readCsv reads a plan's file with. */
function csvLayout(plan: Plan): CsvLayout {
  const columns = [
    ...KEY_COLUMNS.map((name) => ({ name, required: true })),
    { name: LABEL_COLUMN, required: true },
    ...(plan.layout === 'simple'
      ? [
          { name: 'Year', required: true },
          { name: 'Budget', required: true },
        ]
      : []),
  ];
  const years = new Set((plan.years ?? []).map(String));
  const monthly = new Set(plan.monthly.map((c) => c.column));
  return {
    columns,
    extra: (h) =>
      (plan.layout === 'perYear' && years.has(h)) || (plan.layout === 'monthly' && monthly.has(h)) ? h : null,
  };
}

interface Params {
  municipality?: string;
  year?: string;
  direction?: string;
}

/** What one run remembers while reading: rows seen (for repeats), the budgets and directions given. */
interface RunState {
  /** The first line of each key (year, direction, code) of a valid row. */
  seen: Map<string, number>;
  budgets: Set<string>;
  /** The budget rows written for the lines (one per fiscal year), built once. */
  budgetRows: Map<string, Budget>;
  directions: Set<BudgetDirection>;
  trimmed: number;
  otherYears: number;
}

/** Builds the importer part for a file, given the kind's options (checked here: a wrong one is a usage error). */
export function tnMunicipalBudgetPart(
  params: Readonly<Record<string, string | undefined>>,
): ImporterPart<Record<string, string>, LineGroup> {
  const p: Params = { municipality: params.municipality, year: params.year, direction: params.direction };
  if (p.municipality !== undefined) {
    const bad = municipalityCodeProblem(p.municipality);
    if (bad) throw new Error(`--municipality: ${bad}`);
  }
  if (p.year !== undefined && !/^(19|20|21)\d{2}$/.test(p.year))
    throw new Error(`--year must be a fiscal year (four digits, e.g. 2018); got "${p.year}"`);
  if (p.direction !== undefined && !DIRECTIONS[p.direction])
    throw new Error(`--direction must be expenditure or revenue; got "${p.direction}"`);

  let plan: Plan | Refusal | null = null;
  let planFor = '';
  const planOf = (ctx: ImportContext) => {
    if (!plan || planFor !== ctx.path) {
      plan = makePlan(ctx.path, p);
      planFor = ctx.path;
    }
    return plan;
  };
  let state: RunState = newState();
  let writer = newWriterState();

  return {
    importer: TN_MUNICIPAL_BUDGET,
    subgraph: 'budgets',
    scope(ctx) {
      const pl = planOf(ctx);
      if ('refused' in pl) return '';
      const dir = pl.direction ? pl.direction.toLowerCase() : 'expenditure and revenue (by code)';
      const years = pl.years ? pl.years.join(', ') : 'every year in the file';
      return `municipality ${pl.code}, ${dir}, ${years}`;
    },
    async *read(ctx): AsyncGenerator<SourceRow<Record<string, string>>> {
      state = newState();
      writer = newWriterState();
      const pl = planOf(ctx);
      if ('refused' in pl)
        throw new FileRefused({ line: null, column: pl.column, value: pl.value, reason: pl.refused });
      for (const w of pl.warnings) ctx.warn(ctx.issue(null, null, null, w));
      // Rows that are not records of their own are left out here (validate returns null only for a refused
      // row): a row repeated cell for cell (the monthly file repeats 15) is merged, with a warning; with
      // --year, a long file's rows of other years are skipped, and counted.
      const rows = new Map<string, number>();
      for await (const rec of readCsv(ctx.path, ctx.file, ctx.facts, csvLayout(pl), ctx)) {
        const cells = digest(rec.values).slice(0, 16);
        const first = rows.get(cells);
        if (first !== undefined) {
          const code = lineCode(rec.values);
          const what = code.ok ? ` (${code.code})` : '';
          ctx.warn(
            ctx.issue(
              rec.line,
              null,
              code.ok ? code.code : null,
              `repeats line ${first}${what} cell for cell; merged, not counted twice`,
            ),
          );
          continue;
        }
        rows.set(cells, rec.line);
        const year = rec.values.Year?.trim();
        if (pl.layout === 'simple' && pl.years && /^\d{4}$/.test(year) && !pl.years.includes(Number(year))) {
          state.otherYears += 1;
          continue;
        }
        yield { line: rec.line, data: rec.values };
      }
      if (state.trimmed)
        ctx.warn(
          ctx.issue(
            null,
            LABEL_COLUMN,
            null,
            `${state.trimmed} labels had spaces at either end, trimmed (nothing else changed)`,
          ),
        );
      if (state.otherYears)
        ctx.warn(
          ctx.issue(
            null,
            'Year',
            null,
            `${state.otherYears} rows of other years than --year ${p.year} not loaded`,
          ),
        );
    },
    validate(row, ctx) {
      const pl = planOf(ctx) as Plan;
      return validateRow(pl, state, row, ctx);
    },
    key: (g) => g.key,
    write: (m, rows, w) => writeLineGroups(m, rows, w, writer),
    missing: (m, ctx) => missingLines(m, ctx, [...state.budgets], [...state.directions]),
    prune: (m, ctx, _scope, w) => pruneLines(m, ctx, [...state.budgets], [...state.directions], w),
  };
}

const newState = (): RunState => ({
  seen: new Map(),
  budgets: new Set(),
  budgetRows: new Map(),
  directions: new Set(),
  trimmed: 0,
  otherYears: 0,
});

function validateRow(
  pl: Plan,
  state: RunState,
  row: SourceRow<Record<string, string>>,
  ctx: ImportContext,
): LineGroup | null {
  const v = row.data;
  const line = row.line;
  const parsed = lineCode(v);
  if (!parsed.ok) {
    ctx.refuse([ctx.issue(line, parsed.column, parsed.value, parsed.reason)]);
    return null;
  }
  const code = parsed.code;
  const direction = pl.direction ?? directionOfCodeShape(code);
  if (!direction) {
    ctx.refuse([
      ctx.issue(
        line,
        'Paragraphe',
        code,
        `cannot tell whether ${code} is expenditure or revenue (Paragraphe and Sous_paragraphe of 4 and 3 digits, or 2 and 2): give --direction`,
      ),
    ]);
    return null;
  }

  let years: number[];
  if (pl.layout === 'simple') {
    const raw = v.Year.trim();
    if (!/^\d{4}$/.test(raw)) {
      ctx.refuse([ctx.issue(line, 'Year', v.Year, `Year ${JSON.stringify(v.Year)} is not a year`)]);
      return null;
    }
    years = [Number(raw)];
  } else years = pl.years!;

  // A row sharing the code of an earlier one but not its values (rows repeated cell for cell are merged
  // by read) is refused: nothing says which is right.
  const key = `${pl.layout === 'perYear' ? '' : years[0]}|${direction}|${code}`;
  const seen = state.seen.get(key);
  if (seen !== undefined) {
    ctx.refuse([
      ctx.issue(
        line,
        null,
        code,
        `same code ${code} as line ${seen} but different label or amounts; cannot tell which is right`,
      ),
    ]);
    return null;
  }

  const problems: ImportIssue[] = [];
  const amountsOf = (year: number, lineId: string): BudgetAmount[] => {
    const cells: { column: string; phase: BudgetAmount['phase']; asOf: string }[] =
      pl.layout === 'perYear'
        ? [{ column: String(year), phase: 'APPROVED', asOf: '' }]
        : pl.layout === 'simple'
          ? [{ column: 'Budget', phase: 'APPROVED', asOf: '' }]
          : pl.monthly;
    const out: BudgetAmount[] = [];
    for (const c of cells) {
      const a = parseMillimes(v[c.column] ?? '');
      if (!a.ok) problems.push(ctx.issue(line, c.column, v[c.column], a.reason));
      else if (a.minor !== null)
        out.push({
          lineId,
          phase: c.phase,
          asOf: c.asOf,
          amountMinor: a.minor,
          sourceRecord: `${pl.name}:line ${line} column ${c.column}`,
        });
    }
    return out;
  };

  const rawLabel = v[LABEL_COLUMN] ?? '';
  const label = rawLabel.trim() || null;
  const record = `${pl.name}:line ${line}`;
  const lines: LineWrite[] = [];
  const budgets: Budget[] = [];
  for (const year of years) {
    const id = tnLineId(pl.code, year, direction, code);
    const budgetId = tnBudgetId(pl.code, year);
    const amounts = amountsOf(year, id);
    const content = {
      budgetId,
      direction,
      code,
      label,
      classification: CLASSIFICATION,
      source: pl.source,
      amounts: amounts.map((a) => [a.phase, a.asOf, a.amountMinor, a.sourceRecord]),
    };
    lines.push({
      line: {
        id,
        budgetId,
        direction,
        code,
        labelAr: label,
        labelFr: null,
        labelEn: null,
        labelEs: null,
        classification: CLASSIFICATION,
        ...ctx.provenance(pl.source, line, record, digest(content)),
      },
      amounts,
      slots: pl.slots,
    });
    let budget = state.budgetRows.get(budgetId);
    if (!budget) {
      const b = {
        id: budgetId,
        organizationId: tunisiaMunicipalityId(pl.code),
        fiscalYear: year,
        currency: CURRENCY,
      };
      budget = { ...b, ...ctx.provenance(pl.source, line, pl.name, digest(b)), sourceLine: null };
      state.budgetRows.set(budgetId, budget);
    }
    budgets.push(budget);
  }
  if (problems.length) {
    ctx.refuse(problems);
    return null;
  }
  if (!label) ctx.warn(ctx.issue(line, LABEL_COLUMN, rawLabel, `${code} has no Imputation label`));
  else if (label !== rawLabel) state.trimmed += 1;
  state.seen.set(key, line);
  for (const b of budgets) state.budgets.add(b.id);
  state.directions.add(direction);
  return { key, budgets, lines };
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
