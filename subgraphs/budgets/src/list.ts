import type { DataSource, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { binary } from '@civic/common/dialect';
import { badInput } from '@civic/common/errors';
import { LIKE_ESCAPE, likePattern } from '@civic/common/filters';
import { currencyDigits } from '@civic/common/money';
import { decimalParts, decimalRange, yearRange, type Range } from '@civic/common/range';
import type { ParsedSearch } from '@civic/common/search';
import {
  BUDGET_PHASES,
  CLASSIFICATION_TYPES,
  type BudgetDirection,
  type BudgetPhase,
  type ClassificationType,
} from './entities/Budget';
import { PATH_SEPARATOR } from './facts';
import type { BudgetLineFilter, ClassificationCondition } from './generated/resolvers-types';
import { lineSearchSql, parseLineSearch } from './search';

/** A validated range of years: either end may be open. */
export type YearRange = Range<number>;

/** A validated amount range: the phase, and the bounds as exact decimal strings (not yet in minor units). */
export interface AmountRange {
  phase: BudgetPhase;
  min: string | null;
  max: string | null;
}

/**
 * A BudgetLineFilter, validated and normalized to plain JSON data, so that equal filters batch together as
 * DataLoader variants.
 */
export interface LineFilter {
  budgetId: string | null;
  organizationId: string | null;
  fiscalYear: number | null;
  fiscalYears: YearRange | null;
  direction: BudgetDirection | null;
  codePrefix: string | null;
  classification: string | null;
  amount: AmountRange | null;
  /** The terms of `filter.search`, parsed (plain JSON too): only lines whose labels hold every one. */
  search: ParsedSearch | null;
  /** Only lines matching every one of these (`filter.classifications`). */
  classifications: ClassificationFilter[] | null;
  /** Only lines with a figure of this measure, and only those figures count (`filter.measure`). */
  measure: string | null;
}

/** One `filter.classifications` condition, validated: null where it does not restrict. */
export interface ClassificationFilter {
  type: ClassificationType | null;
  dimension: string | null;
  scheme: string | null;
  code: string;
}

/**
 * The amount bounds in the minor units of one currency (integer strings, so the filter stays JSON). Lines of
 * budgets in a currency with no bounds entry never match an amount range with a bound.
 */
export interface AmountBounds {
  currency: string;
  min: string | null;
  max: string | null;
}

export const NO_LINE_FILTER: LineFilter = {
  budgetId: null,
  organizationId: null,
  fiscalYear: null,
  fiscalYears: null,
  direction: null,
  codePrefix: null,
  classification: null,
  amount: null,
  search: null,
  classifications: null,
  measure: null,
};

/** The most conditions `filter.classifications` takes. */
export const MAX_CLASSIFICATION_CONDITIONS = 20;

/** A text argument no longer than its column, not empty: what a dimension name, scheme, code or measure is. */
function checkedText(value: string, max: number, argument: string, what: string): string {
  if (!value || [...value].length > max || value.includes(PATH_SEPARATOR)) {
    throw badInput(
      `Argument "${argument}" must be a ${what} of 1 to ${max} characters (no control character U+001F); got "${value}"`,
      argument,
    );
  }
  return value;
}

/** Validates `filter.classifications`: the conditions, each restricting by type, name or scheme. */
function classificationFilters(
  input: readonly ClassificationCondition[] | null | undefined,
): ClassificationFilter[] | null {
  if (input == null) return null;
  if (input.length > MAX_CLASSIFICATION_CONDITIONS) {
    throw badInput(
      `Argument "filter.classifications" has ${input.length} conditions; at most ${MAX_CLASSIFICATION_CONDITIONS} are taken`,
      'filter.classifications',
    );
  }
  return input.map((c, i) => {
    const at = `filter.classifications[${i}]`;
    if (c.type == null && c.dimension == null && c.scheme == null) {
      throw badInput(
        `Argument "${at}" says which dimension to look in with none of type, dimension and scheme: give at least one`,
        at,
      );
    }
    if (c.type != null && !CLASSIFICATION_TYPES.includes(c.type)) throw new Error(`Unknown type ${c.type}`);
    return {
      type: c.type ?? null,
      dimension:
        c.dimension == null ? null : checkedText(c.dimension, 64, `${at}.dimension`, 'dimension name'),
      scheme: c.scheme == null ? null : checkedText(c.scheme, 191, `${at}.scheme`, 'code scheme'),
      code: checkedText(c.code, 191, `${at}.code`, 'code'),
    };
  });
}

/**
 * Validates a BudgetLineFilter (argument `filter`): ranges (checked as every range is, common/src/range.ts),
 * amount syntax, search text. Runs no statement.
 */
export function lineFilter(input: BudgetLineFilter | null | undefined): LineFilter {
  const f = input ?? {};
  const amounts = decimalRange(f.amount, 'filter.amount');
  const amount: AmountRange | null = f.amount && amounts ? { phase: f.amount.phase, ...amounts } : null;
  return {
    budgetId: f.budgetId ?? null,
    organizationId: f.organizationId ?? null,
    fiscalYear: f.fiscalYear ?? null,
    fiscalYears: yearRange(f.fiscalYears, 'filter.fiscalYears'),
    direction: f.direction ?? null,
    // An empty prefix matches every code: the same as no prefix (and one variant fewer to batch).
    codePrefix: f.codePrefix || null,
    classification: f.classification ?? null,
    amount,
    search: parseLineSearch(f.search),
    classifications: classificationFilters(f.classifications),
    measure: f.measure == null ? null : checkedText(f.measure, 64, 'filter.measure', 'measure name'),
  };
}

/** Largest amount a BIGINT column holds, in minor units. */
const MAX_MINOR = 2n ** 63n - 1n;

/** One bound in the minor units of a currency; a bound too precise for it, or out of range, is refused. */
function toMinor(value: string, currency: string, argument: string): string {
  const digits = currencyDigits(currency);
  const { negative, whole, fraction: frac } = decimalParts(value);
  if (frac.length > digits) {
    throw badInput(
      `Argument "${argument}" has ${frac.length} decimals, but the lines it is compared with are in ${currency}, which has ${digits}: got "${value}"`,
      argument,
    );
  }
  const minor = BigInt(whole + frac.padEnd(digits, '0'));
  if (minor > MAX_MINOR) {
    throw badInput(`Argument "${argument}" is beyond the range of amounts stored: got "${value}"`, argument);
  }
  return (negative ? -minor : minor).toString();
}

/** The amount bounds of a filter in each of the given currencies (those of the budgets it can match). */
export function amountBounds(f: LineFilter, currencies: readonly string[]): AmountBounds[] {
  const a = f.amount;
  if (!a || (a.min === null && a.max === null)) return [];
  return currencies.map((currency) => ({
    currency,
    min: a.min === null ? null : toMinor(a.min, currency, 'filter.amount.min'),
    max: a.max === null ? null : toMinor(a.max, currency, 'filter.amount.max'),
  }));
}

/** Whether the filter's amount bounds depend on the currencies of the budgets it matches. */
export const needsCurrencies = (f: LineFilter) =>
  f.amount !== null && (f.amount.min ?? f.amount.max) !== null;

/** Conditions over `budgets` aliased `alias` that a line filter puts on the budget. */
function budgetConditions(f: LineFilter, alias: string): { sql: string[]; params: Record<string, unknown> } {
  const sql: string[] = [];
  const params: Record<string, unknown> = {};
  if (f.organizationId !== null) {
    sql.push(`${alias}.organization_id = :lf_org`);
    params.lf_org = f.organizationId;
  }
  if (f.fiscalYear !== null) {
    sql.push(`${alias}.fiscal_year = :lf_year`);
    params.lf_year = f.fiscalYear;
  }
  if (f.fiscalYears?.min != null) {
    sql.push(`${alias}.fiscal_year >= :lf_year_min`);
    params.lf_year_min = f.fiscalYears.min;
  }
  if (f.fiscalYears?.max != null) {
    sql.push(`${alias}.fiscal_year <= :lf_year_max`);
    params.lf_year_max = f.fiscalYears.max;
  }
  return { sql, params };
}

/**
 * The currencies of the budgets a filter can match, in one statement: amount bounds are converted to the
 * minor units of each (and refused when too precise for one of them).
 */
export async function filterCurrencies(ds: DataSource, f: LineFilter): Promise<string[]> {
  const { sql, params } = budgetConditions(f, 'fb');
  if (f.budgetId !== null) {
    sql.push('fb.id = :lf_budget');
    params.lf_budget = f.budgetId;
  }
  const [query, values] = ds.driver.escapeQueryWithParameters(
    `SELECT DISTINCT fb.currency AS currency FROM budgets fb${sql.length ? ` WHERE ${sql.join(' AND ')}` : ''} ORDER BY fb.currency`,
    params,
  );
  const rows: { currency: string }[] = await ds.query(query, values);
  return rows.map((r) => r.currency);
}

/**
 * A line's amount in a phase, as SQL over the line alias: its figure for the whole year (as_of '') when it
 * has one, else its figure at its latest as_of (execution to date is cumulative). With `measure` (the
 * parameter `:lf_measure`, which {@link lineConditions} sets), that measure's figure; without, the first
 * measure's in code point order ('' first). The primary key (line_id, phase, as_of, measure) serves the lookup.
 */
export function lineAmountSql(line: string, phase: BudgetPhase, measure: boolean): string {
  return `(SELECT fa.amount_minor FROM budget_amounts fa WHERE fa.line_id = ${line}.id AND fa.phase = '${checkedPhase(phase)}'${measure ? ' AND fa.measure = :lf_measure' : ''} ORDER BY fa.measure, CASE WHEN fa.as_of = '' THEN 0 ELSE 1 END, fa.as_of DESC LIMIT 1)`;
}

/**
 * A join condition over budget_amounts aliased `a` keeping, for each line, phase and measure, only the figure
 * {@link lineAmountSql} picks: there is no whole-year figure beside a dated one, nor a later dated one.
 */
export const latestFigureSql = (a: string) =>
  // A whole-year figure is kept without looking further: MariaDB runs the subquery for every row otherwise,
  // even when the outer condition already decides it (2.5 times slower over a budget's figures).
  `(${a}.as_of = '' OR NOT EXISTS (SELECT 1 FROM budget_amounts n WHERE n.line_id = ${a}.line_id AND n.phase = ${a}.phase AND n.measure = ${a}.measure AND (n.as_of = '' OR n.as_of > ${a}.as_of)))`;

/** Phases are GraphQL enum values, checked again before they go into SQL text. */
function checkedPhase(phase: BudgetPhase): BudgetPhase {
  if (!BUDGET_PHASES.includes(phase)) throw new Error(`Unknown budget phase ${String(phase)}`);
  return phase;
}

/** Minor units are integer strings made by {@link toMinor}; checked again before they go into SQL text. */
function integerLiteral(v: string): string {
  if (!/^-?\d+$/.test(v)) throw new Error(`Not an integer: ${v}`);
  return v;
}

/**
 * The conditions of a line filter over `budget_lines` aliased `line`, with named parameters (`:lf_...`, and
 * `:search_...` for the search). Conditions on the budget and the search are IN subqueries, so the query
 * keeps one row per line. A caller that joins the search itself (to order by its score) says so with
 * `searchJoined`: the search is then left out here.
 */
export function lineConditions(
  ds: DataSource,
  f: LineFilter,
  bounds: readonly AmountBounds[],
  line = 'l',
  options: { searchJoined?: boolean } = {},
): { sql: string[]; params: Record<string, unknown> } {
  const sql: string[] = [];
  const params: Record<string, unknown> = {};
  if (f.search && !options.searchJoined) {
    const search = lineSearchSql(ds, f.search);
    sql.push(`${line}.id IN (SELECT ls.entity_id FROM (${search.sql}) ls)`);
    Object.assign(params, search.parameters);
  }
  if (f.budgetId !== null) {
    sql.push(`${line}.budget_id = :lf_budget`);
    params.lf_budget = f.budgetId;
  }
  const budget = budgetConditions(f, 'fb');
  if (budget.sql.length) {
    sql.push(`${line}.budget_id IN (SELECT fb.id FROM budgets fb WHERE ${budget.sql.join(' AND ')})`);
    Object.assign(params, budget.params);
  }
  if (f.direction !== null) {
    sql.push(`${line}.direction = :lf_direction`);
    params.lf_direction = f.direction;
  }
  if (f.codePrefix !== null) {
    // LIKE lets MySQL use the code index; SQLite's LIKE ignores ASCII case, so the prefix is also compared
    // exactly (substr counts characters on both; the column is binary-collated on MySQL).
    sql.push(
      `${line}.code LIKE :lf_code ESCAPE '${LIKE_ESCAPE}'`,
      `${binary(ds, `substr(${line}.code, 1, ${[...f.codePrefix].length})`)} = :lf_code_exact`,
    );
    params.lf_code = likePattern(f.codePrefix, 'prefix');
    params.lf_code_exact = f.codePrefix;
  }
  if (f.classification !== null) {
    sql.push(`${binary(ds, `${line}.classification`)} = :lf_class`);
    params.lf_class = f.classification;
  }
  f.classifications?.forEach((c, i) => {
    // The code or an ancestor's: the path holds every level's code between separators. INSTR, not LIKE:
    // SQLite's LIKE ignores ASCII case, and codes compare exactly (by code point, binary on MySQL, where the
    // dimension, scheme and measure columns are binary-collated by migration already).
    const where = [`INSTR(${binary(ds, 'cd.path')}, :lf_cpath${i}) > 0`];
    params[`lf_cpath${i}`] = `${PATH_SEPARATOR}${c.code}${PATH_SEPARATOR}`;
    if (c.type !== null) {
      where.push(`cd.type = :lf_ctype${i}`);
      params[`lf_ctype${i}`] = c.type;
    }
    if (c.dimension !== null) {
      where.push(`cd.dimension = :lf_cdim${i}`);
      params[`lf_cdim${i}`] = c.dimension;
    }
    if (c.scheme !== null) {
      where.push(`cd.scheme = :lf_cscheme${i}`);
      params[`lf_cscheme${i}`] = c.scheme;
    }
    sql.push(`${line}.id IN (SELECT cd.line_id FROM budget_line_dimensions cd WHERE ${where.join(' AND ')})`);
  });
  if (f.measure !== null) {
    sql.push(
      `EXISTS (SELECT 1 FROM budget_amounts ma WHERE ma.line_id = ${line}.id AND ma.measure = :lf_measure)`,
    );
    params.lf_measure = f.measure;
  }
  if (f.amount) {
    const amount = lineAmountSql(line, f.amount.phase, f.measure !== null);
    sql.push(`${amount} IS NOT NULL`);
    if (needsCurrencies(f)) {
      // Each currency has its own bounds in its own minor units; a currency with none matches nothing.
      const perCurrency = bounds.map((b, i) => {
        params[`lf_cur${i}`] = b.currency;
        const parts = [`ab.currency = :lf_cur${i}`];
        if (b.min !== null) parts.push(`${amount} >= ${integerLiteral(b.min)}`);
        if (b.max !== null) parts.push(`${amount} <= ${integerLiteral(b.max)}`);
        return `(${parts.join(' AND ')})`;
      });
      sql.push(
        perCurrency.length
          ? `EXISTS (SELECT 1 FROM budgets ab WHERE ab.id = ${line}.budget_id AND (${perCurrency.join(' OR ')}))`
          : '1 = 0',
      );
    }
  }
  return { sql, params };
}

/**
 * Applies a line filter to a query builder over `budget_lines` (its alias is the line alias); `searchJoined`
 * as for {@link lineConditions}.
 */
export function applyLineFilter<T extends ObjectLiteral>(
  qb: SelectQueryBuilder<T>,
  f: LineFilter,
  bounds: readonly AmountBounds[],
  options: { searchJoined?: boolean } = {},
): SelectQueryBuilder<T> {
  const { sql, params } = lineConditions(qb.connection, f, bounds, qb.alias, options);
  for (const s of sql) qb.andWhere(s);
  return qb.setParameters(params);
}

/** Named parameters (`:name`, `:...list`) to the driver's positional ones, for `DataSource.query`. */
export function positional(
  ds: DataSource,
  sql: string,
  params: Record<string, unknown>,
): [string, unknown[]] {
  return ds.driver.escapeQueryWithParameters(sql, params);
}
