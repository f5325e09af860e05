import { basename } from 'node:path';
import type { CsvLayout } from '@civic/common/import/csv';
import { tunisiaMunicipalityId } from '@civic/formats/keys';
import type { BudgetDirection } from '../../entities/Budget';
import { readCsvHeader } from '../header';
import { slotOf } from '../lines';
import { monthlyAmountColumns, type MonthlyColumn } from './amounts';
import { codeOfFileName, directionOfFileName, parseBudgetFileName, type BudgetFileName } from './file-name';
import { isKnownMunicipality, municipalityCodeProblem, sourceOf, type BudgetSource } from './municipality';
import { KEY_COLUMNS, LABEL_COLUMN } from './nomenclature';

/*
 * The three layouts of a Tunisian municipal budget file, told by its header:
 *
 * - per year (`depense_per_year_<code>.csv`, `recette_per_year_<code>.csv`): a column per year (`2013`…);
 *   each row gives the line in every year, its APPROVED amount (an empty cell: no amount, `0`: zero);
 * - monthly (`Depence_mensuelle_<year>_<code>.csv`, `Recette_mensuelle_…`, `Depence_<year>_<code>.csv`):
 *   `Budget_MM_YYYY` columns are the cumulative execution at the end of month MM (EXECUTED as of its last
 *   day), `Budget_YYYY` the full-year budget (APPROVED);
 * - long (`depense_simple_<code>.csv`): one row per line and `Year`, its APPROVED amount in `Budget`; it holds
 *   expenditure and revenue, told apart by the shape of the code.
 *
 * A file's plan is decided once, from its name, its header and the kind's options, before its rows are read.
 */

export type Layout = 'perYear' | 'monthly' | 'simple';

/** The kind's options, as `npm run import` and the bundled files give them. */
export interface Params {
  municipality?: string;
  year?: string;
  direction?: string;
}

/** The `--direction` values. */
export const DIRECTIONS: Record<string, BudgetDirection> = { expenditure: 'EXPENDITURE', revenue: 'REVENUE' };

/** How a file is read, decided from its name, its header and the options. */
export interface Plan {
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
  source: BudgetSource;
  warnings: string[];
}

/** Why a file cannot be read at all, with the column and value that say so. */
export type Refusal = { refused: string; column: string | null; value: string | null };

const refusal = (refused: string, column: string | null = null, value: string | null = null): Refusal => ({
  refused,
  column,
  value,
});
const isRefusal = <T>(x: T | Refusal): x is Refusal => typeof x === 'object' && x !== null && 'refused' in x;

/** The municipality: the file name's code or --municipality (they must agree), in the official form. */
function planMunicipality(name: string, params: Params, warnings: string[]): string | Refusal {
  const nameCode = codeOfFileName(name);
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
  return code;
}

/** The one layout a header has: year columns, Budget_MM_YYYY / Budget_YYYY columns, or Year and Budget. */
function detectLayout(header: readonly string[]): Layout | Refusal {
  const hasLong = ['year', 'budget'].every((c) => header.some((h) => h.toLowerCase() === c));
  const layouts = [
    header.some((h) => /^\d{4}$/.test(h)) ? 'perYear' : null,
    header.some((h) => /^Budget_(\d{2}_)?\d{4}$/.test(h)) ? 'monthly' : null,
    hasLong ? 'simple' : null,
  ].filter((l): l is Layout => l !== null);
  if (layouts.length === 1) return layouts[0];
  return refusal(
    layouts.length
      ? `the header mixes layouts (${layouts.join(', ')}): a file is per year, monthly or long`
      : 'not a Tunisian municipal budget layout: the header has no year columns (2013, 2014…), no Budget_MM_YYYY / Budget_YYYY columns and no Year and Budget columns',
    null,
    header.join(','),
  );
}

/** The file's direction: the name's, or --direction (they must agree); the long layout's rows tell their own. */
function planDirection(layout: Layout, name: string, params: Params): BudgetDirection | null | Refusal {
  const fromName = directionOfFileName(name);
  const fromOption = params.direction ? DIRECTIONS[params.direction] : null;
  if (layout === 'simple') return fromOption;
  if (fromOption && fromName && fromOption !== fromName)
    return refusal(`--direction ${params.direction} but the file name says ${fromName.toLowerCase()}`);
  return fromOption ?? fromName;
}

/** The years a file gives (with --year, only that one) and, for a monthly file, its amount columns. */
type Years = { years: number[] | null; monthly: MonthlyColumn[] };

function perYearYears(header: readonly string[], year: number | null, warnings: string[]): Years | Refusal {
  const columns = header.filter((h) => /^\d{4}$/.test(h)).map(Number);
  const years = year === null ? columns : columns.filter((y) => y === year);
  if (!years.length) return refusal(`--year ${year}: the file has no ${year} column`, null, header.join(','));
  if (year !== null) warnings.push(`--year ${year}: the other year columns are not loaded`);
  return { years, monthly: [] };
}

/** A monthly file's year: its name's, else --year, else the one year its columns name. */
function monthlyYears(
  header: readonly string[],
  fromName: BudgetFileName | null,
  optYear: number | null,
  warnings: string[],
): Years | Refusal {
  const nameYear = fromName?.kind === 'monthly' ? fromName.year : null;
  if (nameYear !== null && optYear !== null && nameYear !== optYear)
    return refusal(`--year ${optYear} but the file name says ${nameYear}`);
  const amountHeaders = header.filter((h) => /^Budget_(\d{2}_)?\d{4}$/.test(h));
  const columnYears = [...new Set(amountHeaders.map((h) => Number(h.slice(-4))))];
  const year = nameYear ?? optYear ?? (columnYears.length === 1 ? columnYears[0] : null);
  if (year === null)
    return refusal(
      `the file name has no year and the columns name several (${columnYears.join(', ')}): give --year`,
    );
  const monthly = monthlyAmountColumns(header, year, (column) =>
    warnings.push(`column ${column} does not fit the file's year ${year}; not loaded`),
  );
  if (!monthly.length)
    return refusal(
      `no Budget_MM_${year} or Budget_${year} column for the file's year ${year}`,
      null,
      header.join(','),
    );
  return { years: [year], monthly };
}

function planYears(
  layout: Layout,
  header: readonly string[],
  fromName: BudgetFileName | null,
  params: Params,
  warnings: string[],
): Years | Refusal {
  const optYear = params.year ? Number(params.year) : null;
  if (layout === 'perYear') return perYearYears(header, optYear, warnings);
  if (layout === 'monthly') return monthlyYears(header, fromName, optYear, warnings);
  return { years: optYear === null ? null : [optYear], monthly: [] };
}

/** Decides how the file at `path` is read, or why it cannot be. */
export function makePlan(path: string, params: Params): Plan | Refusal {
  const name = basename(path);
  const fromName = parseBudgetFileName(name);
  const warnings: string[] = [];
  const code = planMunicipality(name, params, warnings);
  if (isRefusal(code)) return code;
  const header = readCsvHeader(path);
  if (!header) return refusal('no header line: the file is empty or unreadable');
  const layout = detectLayout(header);
  if (isRefusal(layout)) return layout;
  if (fromName && fromName.kind !== layout)
    warnings.push(
      `the file name says a ${fromName.kind} file but the header is the ${layout} layout: read as ${layout}`,
    );
  const direction = planDirection(layout, name, params);
  if (isRefusal(direction)) return direction;
  const years = planYears(layout, header, fromName, params, warnings);
  if (isRefusal(years)) return years;
  const slots =
    layout === 'monthly' ? years.monthly.map((c) => slotOf(c.phase, c.asOf)) : [slotOf('APPROVED', '')];
  return { name, code, layout, direction, ...years, slots, source: sourceOf(code), warnings };
}

/** The column layout readCsv reads a plan's file with: the code and label, and the layout's amount columns. */
export function csvLayout(plan: Plan): CsvLayout {
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
