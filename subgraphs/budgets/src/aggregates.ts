import type DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import { checkGroupBy } from '@civic/common/aggregates';
import { binary, isMysql, textType } from '@civic/common/dialect';
import { badInput } from '@civic/common/errors';
import { bestText, type Language, type LocalizedText } from '@civic/common/localized';
import { money } from '@civic/common/money';
import { chooseLabel, codeKey, type CodeEntry, type CodeRef } from './classifications';
import {
  BUDGET_PHASES,
  CLASSIFICATION_TYPES,
  STORED_LEVELS,
  type BudgetDirection,
  type BudgetPhase,
  type ClassificationType,
} from './entities/Budget';
import type { BudgetAmount, BudgetDimension, BudgetGroup, BudgetGrouping } from './generated/resolvers-types';
import { asOfColumn, figureColumn, SUMMARY_CELLS, SUMMARY_YEARS } from './summaries';
import {
  latestFigureSql,
  lineConditions,
  NO_LINE_FILTER,
  positional,
  type AmountBounds,
  type LineFilter,
} from './list';

/** An exact total of one phase: integer minor units as text, and the latest date among the figures added. */
export interface PhaseTotal {
  phase: BudgetPhase;
  minor: string;
  asOf: string | null;
}

/** One group as the database computes it. */
export interface SummaryRow {
  /** The organization, when groups are computed for several organizations at once (a hidden first key). */
  organizationId: string | null;
  /** The budget, when groups are computed for several budgets at once (a hidden key, after the organization). */
  budgetId: string | null;
  /** One value per dimension of the grouping, in that order. */
  values: (string | null)[];
  /** The code scheme of each classification value (null for other dimensions, and for no value). */
  schemes: (string | null)[];
  currency: string;
  lineCount: number;
  /** In phase order, only the phases with at least one figure. */
  totals: PhaseTotal[];
}

/**
 * One dimension of a summary's grouping, validated: `groupBy`'s dimensions, or `grouping`'s with their level
 * (1..3, classification types only; null: the most specific code) and dimension name (null: the line's
 * primary dimension of the type). Plain JSON, so equal groupings batch together.
 */
export interface GroupSpec {
  dimension: BudgetDimension;
  level: number | null;
  name: string | null;
}

/** The most groups a summary returns; past this, the client is asked to group by less or filter more. */
export const MAX_GROUPS = 10000;

/**
 * The most keys a group has (`BudgetGroup.keys`): `groupBy` lists each of the 15 BudgetDimension values at
 * most once; `grouping`, which may list a classification type at several levels or names, is held to as many.
 */
export const MAX_GROUP_KEYS = 15;

/** Whether a dimension is a classification type (its key is a code of a line's dimension row). */
export const isClassification = (d: BudgetDimension): d is BudgetDimension & ClassificationType =>
  (CLASSIFICATION_TYPES as readonly string[]).includes(d);

/**
 * Reads `budgetSummary`'s `groupBy` or `grouping` (exactly one of them must be given) as group specs; runs no
 * statement. Bad input is BAD_USER_INPUT naming the argument: a dimension listed twice, a level or name on a
 * dimension that is no classification type, a level out of 1..3, an empty or too long name. Returns the
 * specs and the argument they came from (for errors found later, such as too many groups).
 */
export function groupSpecs(
  groupBy: readonly BudgetDimension[] | null | undefined,
  grouping: readonly BudgetGrouping[] | null | undefined,
): { specs: GroupSpec[]; argument: 'groupBy' | 'grouping' } {
  if (groupBy != null && grouping != null) {
    throw badInput('Give "groupBy" or "grouping", not both', 'grouping');
  }
  if (groupBy != null) {
    return {
      specs: checkGroupBy(groupBy).map((dimension) => ({ dimension, level: null, name: null })),
      argument: 'groupBy',
    };
  }
  if (grouping == null) {
    throw badInput(
      'Give "groupBy" (dimensions) or "grouping" (dimensions with a level): one of them is required; [] for one total per currency',
      'groupBy',
    );
  }
  if (grouping.length > MAX_GROUP_KEYS) {
    throw badInput(
      `Argument "grouping" lists ${grouping.length} dimensions: at most ${MAX_GROUP_KEYS}`,
      'grouping',
    );
  }
  const seen = new Set<string>();
  const specs = grouping.map((g, i) => {
    const at = `grouping[${i}]`;
    const classification = isClassification(g.dimension);
    if (g.level != null) {
      if (!classification) {
        throw badInput(
          `Argument "${at}.level" is given for ${g.dimension}: only classification types (ECONOMIC, FUNCTIONAL...) have levels`,
          `${at}.level`,
        );
      }
      if (!Number.isInteger(g.level) || g.level < 1 || g.level > STORED_LEVELS) {
        throw badInput(
          `Argument "${at}.level" must be 1 to ${STORED_LEVELS}, or absent for the most specific code; got ${g.level}`,
          `${at}.level`,
        );
      }
    }
    if (g.name != null) {
      if (!classification) {
        throw badInput(
          `Argument "${at}.name" is given for ${g.dimension}: only classification types are named by their source`,
          `${at}.name`,
        );
      }
      if (!g.name || [...g.name].length > 64) {
        throw badInput(
          `Argument "${at}.name" must be a dimension name of 1 to 64 characters; got "${g.name}"`,
          `${at}.name`,
        );
      }
    }
    const spec: GroupSpec = { dimension: g.dimension, level: g.level ?? null, name: g.name ?? null };
    const key = JSON.stringify(spec);
    if (seen.has(key)) throw badInput(`Argument "grouping" lists ${describe(spec)} twice`, 'grouping');
    seen.add(key);
    return spec;
  });
  return { specs, argument: 'grouping' };
}

/** A group spec as an error message names it. */
const describe = (g: GroupSpec) =>
  [g.dimension, g.level === null ? '' : ` level ${g.level}`, g.name === null ? '' : ` "${g.name}"`].join('');

/**
 * A dimension's value as SQL over `budget_lines l` joined to `budgets b`. Code levels cut the code at its
 * dots (`1.01101.0001.000` → `1`, `1.01101`); a code with fewer segments is its own level. Text compares and
 * groups by code point on both backends. (Classification types read their joined dimension row instead.)
 */
function dimensionSql(ds: DataSource, d: BudgetDimension): string {
  const mysql = isMysql(ds);
  switch (d) {
    case 'ORGANIZATION':
      return 'b.organization_id';
    case 'FISCAL_YEAR':
      return 'b.fiscal_year';
    case 'DIRECTION':
      return binary(ds, 'l.direction');
    case 'CLASSIFICATION':
      return binary(ds, 'l.classification');
    case 'CODE_LEVEL_1':
      return mysql
        ? binary(ds, `SUBSTRING_INDEX(l.code, '.', 1)`)
        : `substr(l.code || '.', 1, instr(l.code || '.', '.') - 1)`;
    case 'CODE_LEVEL_2':
      return mysql
        ? binary(ds, `SUBSTRING_INDEX(l.code, '.', 2)`)
        : `CASE WHEN instr(l.code, '.') = 0 THEN l.code ELSE substr(l.code, 1, instr(l.code, '.') + instr(substr(l.code, instr(l.code, '.') + 1) || '.', '.') - 1) END`;
    default:
      throw new Error(`dimensionSql: ${d} is read from a dimension row`);
  }
}

const isCodeLevel = (d: BudgetDimension) => d === 'CODE_LEVEL_1' || d === 'CODE_LEVEL_2';

/** The column of a dimension row a classification key reads: the code at a level, or the most specific. */
const LEVEL_COLUMNS = ['level_1', 'level_2', 'level_3'] as const;

/**
 * The joins of a grouping's classification keys: one LEFT JOIN of budget_line_dimensions per distinct type
 * and name, on the line's primary row of the type (`is_primary = 1`) or its row of that name. The primary key
 * (line_id, dimension) and the writer's one primary row per type make it at most one row per line, so each
 * line still counts once and sums stay exact; a line with no such row has a null key.
 */
function classificationJoins(specs: readonly GroupSpec[]): {
  joins: string[];
  aliasOf: string[];
  params: Record<string, unknown>;
} {
  const joins: string[] = [];
  const aliasOf: string[] = [];
  const params: Record<string, unknown> = {};
  const bySelector = new Map<string, string>();
  specs.forEach((g, i) => {
    if (!isClassification(g.dimension)) return;
    const selector = JSON.stringify([g.dimension, g.name]);
    let alias = bySelector.get(selector);
    if (!alias) {
      alias = `gd${bySelector.size}`;
      bySelector.set(selector, alias);
      // The type is an enum value checked against CLASSIFICATION_TYPES (isClassification) before going in.
      const on = [`${alias}.line_id = l.id`, `${alias}.type = '${g.dimension}'`];
      if (g.name === null) on.push(`${alias}.is_primary = 1`);
      else {
        on.push(`${alias}.dimension = :${alias}_name`);
        params[`${alias}_name`] = g.name;
      }
      joins.push(`LEFT JOIN budget_line_dimensions ${alias} ON ${on.join(' AND ')}`);
    }
    aliasOf[i] = alias;
  });
  return { joins, aliasOf, params };
}

type Raw = Record<string, string | number | null>;

const text = (v: string | number | null | undefined) => (v == null ? null : String(v));

/** The phase totals of a row whose columns are `t<i>` (exact sum as text) and `d<i>` (latest as_of). */
function phaseTotals(r: Raw): PhaseTotal[] {
  const out: PhaseTotal[] = [];
  BUDGET_PHASES.forEach((phase, i) => {
    const minor = r[`t${i}`];
    if (minor == null) return;
    out.push({ phase, minor: String(minor), asOf: text(r[`d${i}`]) || null });
  });
  return out;
}

/** The select list of exact per-phase sums over `budget_amounts a` (one figure per line and phase). */
function phaseColumns(ds: DataSource): string[] {
  // SUM over BIGINT is exact on both; casting to text keeps SQLite from handing back a lossy JS number.
  return BUDGET_PHASES.flatMap((p, i) => [
    `CAST(SUM(CASE WHEN a.phase = '${p}' THEN a.amount_minor END) AS ${textType(ds)}) AS t${i}`,
    `MAX(CASE WHEN a.phase = '${p}' THEN a.as_of END) AS d${i}`,
  ]);
}

/** What {@link summarize} is asked. */
export interface SummarizeOptions {
  filter: LineFilter;
  bounds: readonly AmountBounds[];
  groupBy: readonly GroupSpec[];
  organizationIds?: readonly string[];
  budgetIds?: readonly string[];
  limit?: number;
}

/**
 * Groups the lines matching a filter by the given dimensions and currency, and adds up their amounts per
 * phase, in one statement. Each line contributes, per phase (and measure), the figure `lineAmountSql` picks
 * (whole-year figure, else latest date), so a line counts once per phase and measure however many dates it
 * has; with `filter.measure`, only that measure's figures. A classification key is its scheme and code
 * (ordered scheme first), from one joined dimension row per line at most (see classificationJoins).
 *
 * @param organizationIds when given, only these organizations' budgets, with the organization as a hidden
 *   first key, so one statement serves a whole batch of `Organization.budgetSummary`.
 * @param budgetIds when given, only these budgets' lines, with the budget as a hidden key, so one statement
 *   serves a whole batch of `Budget.total`.
 * @param limit at most this many rows are read (the caller refuses a summary that reaches it).
 */
export async function summarize(ds: DataSource, opts: SummarizeOptions): Promise<SummaryRow[]> {
  const stored = storedSummaryPlan(opts);
  return stored ? summarizeStored(ds, opts, stored) : summarizeLines(ds, opts);
}

/**
 * {@link summarize} computed from the lines, whatever the shape: what the stored sums must equal (and what
 * answers the shapes they do not hold).
 */
export async function summarizeLines(ds: DataSource, opts: SummarizeOptions): Promise<SummaryRow[]> {
  const select: string[] = [];
  const keys: string[] = [];
  if (opts.organizationIds) {
    select.push('b.organization_id AS org');
    keys.push('org');
  }
  if (opts.budgetIds) {
    select.push('l.budget_id AS bud');
    keys.push('bud');
  }
  const dims = classificationJoins(opts.groupBy);
  opts.groupBy.forEach((g, i) => {
    const alias = dims.aliasOf[i];
    if (alias) {
      const column = g.level === null ? 'code' : LEVEL_COLUMNS[g.level - 1];
      select.push(
        `${binary(ds, `${alias}.scheme`)} AS s${i}`,
        `${binary(ds, `${alias}.${column}`)} AS k${i}`,
      );
      keys.push(`s${i}`, `k${i}`);
    } else {
      select.push(`${dimensionSql(ds, g.dimension)} AS k${i}`);
      keys.push(`k${i}`);
    }
  });
  select.push(
    `${binary(ds, 'b.currency')} AS cur`,
    'COUNT(DISTINCT l.id) AS line_count',
    ...phaseColumns(ds),
  );
  keys.push('cur');
  const where = lineConditions(ds, opts.filter, opts.bounds, 'l');
  if (opts.organizationIds) {
    where.sql.push('b.organization_id IN (:...lf_orgs)');
    where.params.lf_orgs = [...opts.organizationIds];
  }
  if (opts.budgetIds) {
    where.sql.push('l.budget_id IN (:...lf_budgets)');
    where.params.lf_budgets = [...opts.budgetIds];
  }
  const measure = opts.filter.measure !== null ? ' AND a.measure = :lf_measure' : '';
  const [sql, params] = positional(
    ds,
    `SELECT ${select.join(', ')}
     FROM budget_lines l
     JOIN budgets b ON b.id = l.budget_id
     ${dims.joins.join('\n     ')}
     LEFT JOIN budget_amounts a ON a.line_id = l.id AND ${latestFigureSql('a')}${measure}
     ${where.sql.length ? `WHERE ${where.sql.join(' AND ')}` : ''}
     GROUP BY ${keys.join(', ')}
     ORDER BY ${keys.join(', ')}${opts.limit === undefined ? '' : `\n     LIMIT ${Math.trunc(opts.limit)}`}`,
    { ...where.params, ...dims.params },
  );
  const rows: Raw[] = await ds.query(sql, params);
  return rows.map((r) => ({
    organizationId: opts.organizationIds ? String(r.org) : null,
    budgetId: opts.budgetIds ? String(r.bud) : null,
    values: opts.groupBy.map((_, i) => text(r[`k${i}`])),
    schemes: opts.groupBy.map((_, i) => text(r[`s${i}`])),
    currency: String(r.cur),
    lineCount: Number(r.line_count),
    totals: phaseTotals(r),
  }));
}

/** Where a summary can be read from the stored sums (summaries.ts), and which grain. */
export interface StoredPlan {
  /** `budget_summary_years` (no organization or budget in the filter, grouping or batch) or the per-budget cells. */
  table: 'years' | 'cells';
  /** '' or the classification type grouped by. */
  grain: string;
}

/** The dimensions grain '' holds besides the classification types. */
const STORED_DIMENSIONS: readonly BudgetDimension[] = [
  'ORGANIZATION',
  'FISCAL_YEAR',
  'DIRECTION',
  'CLASSIFICATION',
  'CODE_LEVEL_1',
];

/**
 * Whether the stored sums answer a summary exactly, and from which table. They do when the filter restricts
 * only by budget, organization, fiscal year(s), direction and line classification (no code prefix, amount,
 * search, dimension condition or measure: those select lines the sums do not keep apart), and the grouping is
 * - any of ORGANIZATION, FISCAL_YEAR, DIRECTION, CLASSIFICATION and CODE_LEVEL_1 (grain ''), or
 * - one classification type at level 1 by its primary dimension (no `name`), with any of FISCAL_YEAR and
 *   DIRECTION, and no line classification in the filter (grain <type>; yearly sums only: not by organization
 *   or budget).
 * Anything else (other levels, named dimensions, CODE_LEVEL_2, two types at once) is computed from the lines.
 */
export function storedSummaryPlan(opts: SummarizeOptions): StoredPlan | null {
  const f = opts.filter;
  if (f.codePrefix !== null || f.amount !== null || f.search !== null) return null;
  if (f.classifications !== null || f.measure !== null) return null;
  const types = opts.groupBy.filter((g) => isClassification(g.dimension));
  if (types.length > 1) return null;
  if (opts.groupBy.some((g) => !isClassification(g.dimension) && !STORED_DIMENSIONS.includes(g.dimension)))
    return null;
  const byBudget =
    opts.organizationIds !== undefined ||
    opts.budgetIds !== undefined ||
    f.organizationId !== null ||
    f.budgetId !== null ||
    opts.groupBy.some((g) => g.dimension === 'ORGANIZATION');
  if (!types.length) return { table: byBudget ? 'cells' : 'years', grain: '' };
  const [t] = types;
  if (t.level !== 1 || t.name !== null || byBudget || f.classification !== null) return null;
  if (opts.groupBy.some((g) => g.dimension === 'CLASSIFICATION' || g.dimension === 'CODE_LEVEL_1'))
    return null;
  return { table: 'years', grain: t.dimension };
}

/** {@link summarize} from the stored sums: the same rows, in the same order (see {@link storedSummaryPlan}). */
async function summarizeStored(
  ds: DataSource,
  opts: SummarizeOptions,
  plan: StoredPlan,
): Promise<SummaryRow[]> {
  const years = plan.table === 'years';
  const a = years ? 'y' : 'c';
  const yearSql = years ? 'y.fiscal_year' : 'b.fiscal_year';
  const select: string[] = [];
  const keys: string[] = [];
  const where: string[] = [`${a}.grain = :st_grain`];
  const params: Record<string, unknown> = { st_grain: plan.grain };
  if (opts.organizationIds) {
    select.push('b.organization_id AS org');
    keys.push('org');
    where.push('b.organization_id IN (:...st_orgs)');
    params.st_orgs = [...opts.organizationIds];
  }
  if (opts.budgetIds) {
    select.push('c.budget_id AS bud');
    keys.push('bud');
    where.push('c.budget_id IN (:...st_budgets)');
    params.st_budgets = [...opts.budgetIds];
  }
  const column: Partial<Record<BudgetDimension, string>> = {
    ORGANIZATION: 'b.organization_id',
    FISCAL_YEAR: yearSql,
    DIRECTION: binary(ds, `${a}.direction`),
    CLASSIFICATION: binary(ds, `${a}.classification`),
    CODE_LEVEL_1: binary(ds, `${a}.code_level_1`),
  };
  opts.groupBy.forEach((g, i) => {
    if (isClassification(g.dimension)) {
      select.push(`${binary(ds, `${a}.scheme`)} AS s${i}`, `${binary(ds, `${a}.level_1`)} AS k${i}`);
      keys.push(`s${i}`, `k${i}`);
    } else {
      select.push(`${column[g.dimension]} AS k${i}`);
      keys.push(`k${i}`);
    }
  });
  select.push(
    `${binary(ds, years ? 'y.currency' : 'b.currency')} AS cur`,
    `SUM(${a}.line_count) AS line_count`,
    ...BUDGET_PHASES.flatMap((p, i) => [
      `CAST(SUM(${a}.${figureColumn(p)}) AS ${textType(ds)}) AS t${i}`,
      `MAX(${a}.${asOfColumn(p)}) AS d${i}`,
    ]),
  );
  keys.push('cur');
  const f = opts.filter;
  if (f.budgetId !== null) {
    where.push('c.budget_id = :st_budget');
    params.st_budget = f.budgetId;
  }
  if (f.organizationId !== null) {
    where.push('b.organization_id = :st_org');
    params.st_org = f.organizationId;
  }
  if (f.fiscalYear !== null) {
    where.push(`${yearSql} = :st_year`);
    params.st_year = f.fiscalYear;
  }
  if (f.fiscalYears?.min != null) {
    where.push(`${yearSql} >= :st_year_min`);
    params.st_year_min = f.fiscalYears.min;
  }
  if (f.fiscalYears?.max != null) {
    where.push(`${yearSql} <= :st_year_max`);
    params.st_year_max = f.fiscalYears.max;
  }
  if (f.direction !== null) {
    where.push(`${a}.direction = :st_direction`);
    params.st_direction = f.direction;
  }
  if (f.classification !== null) {
    where.push(`${binary(ds, `${a}.classification`)} = :st_class`);
    params.st_class = f.classification;
  }
  const from = years ? `${SUMMARY_YEARS} y` : `${SUMMARY_CELLS} c JOIN budgets b ON b.id = c.budget_id`;
  const [sql, values] = positional(
    ds,
    `SELECT ${select.join(', ')}
     FROM ${from}
     WHERE ${where.join(' AND ')}
     GROUP BY ${keys.join(', ')}
     ORDER BY ${keys.join(', ')}${opts.limit === undefined ? '' : `\n     LIMIT ${Math.trunc(opts.limit)}`}`,
    params,
  );
  const rows: Raw[] = await ds.query(sql, values);
  return rows.map((r) => ({
    organizationId: opts.organizationIds ? String(r.org) : null,
    budgetId: opts.budgetIds ? String(r.bud) : null,
    values: opts.groupBy.map((_, i) => text(r[`k${i}`])),
    schemes: opts.groupBy.map((_, i) => text(r[`s${i}`])),
    currency: String(r.cur),
    lineCount: Number(r.line_count),
    totals: phaseTotals(r),
  }));
}

/**
 * A summary's rows for `budgetSummary`: at most {@link MAX_GROUPS}, else BAD_USER_INPUT naming the grouping
 * argument.
 */
export async function summaryRows(
  ds: DataSource,
  opts: { filter: LineFilter; bounds: readonly AmountBounds[]; groupBy: readonly GroupSpec[] },
  argument: string,
): Promise<SummaryRow[]> {
  const rows = await summarize(ds, { ...opts, limit: MAX_GROUPS + 1 });
  if (rows.length > MAX_GROUPS) throw tooManyGroups(argument);
  return rows;
}

/** The error of a summary with more than {@link MAX_GROUPS} groups. */
export const tooManyGroups = (argument: string) =>
  badInput(
    `Argument "${argument}" gives more than ${MAX_GROUPS} groups: group by fewer dimensions or coarser levels, or narrow "filter"`,
    argument,
  );

/**
 * The totals of each budget's lines in one direction, per phase, for many budgets in one statement: what
 * `Budget.total` reads. It is {@link summarize} grouped by budget, so a budget's total is the very sum a
 * `budgetSummary` of its lines gives (each line's whole-year figure, else its latest dated one). Results in
 * key order; a budget without figures has no totals.
 */
export async function budgetTotals(
  ds: DataSource,
  budgetIds: readonly string[],
  direction: BudgetDirection,
): Promise<PhaseTotal[][]> {
  const rows = await summarize(ds, {
    filter: { ...NO_LINE_FILTER, direction },
    bounds: [],
    groupBy: [],
    budgetIds,
  });
  // A budget has one currency: one row per budget.
  const byBudget = new Map(rows.map((r) => [r.budgetId, r.totals]));
  return budgetIds.map((id) => byBudget.get(id) ?? []);
}

/** A line whose code is a whole code level (`1`, `1.01101`): where a CODE_LEVEL key takes its label. */
export interface AggregateLine {
  organizationId: string;
  fiscalYear: string;
  direction: string;
  classification: string | null;
  code: string;
  labels: LocalizedText;
}

/**
 * The aggregate lines that can label the CODE_LEVEL keys of a summary, in one statement: lines whose code
 * is its own first or first two segments, in the budgets the filter selects, of its direction and
 * classification (its code prefix, amount range and search do not apply: they select detail lines, not the
 * line that names their Titre; nor do its classification conditions and measure). Latest fiscal year first,
 * then by id.
 */
export async function aggregateLines(
  ds: DataSource,
  opts: { filter: LineFilter; groupBy: readonly GroupSpec[]; organizationIds?: readonly string[] },
): Promise<AggregateLine[]> {
  const levels = opts.groupBy.map((g) => g.dimension).filter(isCodeLevel);
  if (!levels.length) return [];
  const aggregateFilter: LineFilter = {
    ...opts.filter,
    codePrefix: null,
    amount: null,
    search: null,
    classifications: null,
    measure: null,
  };
  const where = lineConditions(ds, aggregateFilter, [], 'l');
  where.sql.push(`(${levels.map((d) => `${binary(ds, 'l.code')} = ${dimensionSql(ds, d)}`).join(' OR ')})`);
  if (opts.organizationIds) {
    where.sql.push('b.organization_id IN (:...lf_orgs)');
    where.params.lf_orgs = [...opts.organizationIds];
  }
  const [sql, params] = positional(
    ds,
    `SELECT l.id, l.code, l.direction, l.classification, b.organization_id, b.fiscal_year,
            l.label_ar, l.label_fr, l.label_en, l.label_es
     FROM budget_lines l JOIN budgets b ON b.id = l.budget_id
     WHERE ${where.sql.join(' AND ')}
     ORDER BY b.fiscal_year DESC, l.id`,
    where.params,
  );
  const rows: Raw[] = await ds.query(sql, params);
  return rows.map((r) => ({
    organizationId: String(r.organization_id),
    fiscalYear: String(r.fiscal_year),
    direction: String(r.direction),
    classification: text(r.classification),
    code: String(r.code),
    labels: { ar: text(r.label_ar), fr: text(r.label_fr), en: text(r.label_en), es: text(r.label_es) },
  }));
}

/** A summary: its groups, and the aggregate lines that label their code levels. */
export interface Summary {
  rows: SummaryRow[];
  aggregates: AggregateLine[];
}

/** The codes a summary's classification keys take their labels from: each distinct scheme and value. */
export function summaryCodes(rows: readonly SummaryRow[], groupBy: readonly GroupSpec[]): CodeRef[] {
  const refs = new Map<string, CodeRef>();
  for (const r of rows)
    groupBy.forEach((g, i) => {
      const scheme = r.schemes[i];
      const code = r.values[i];
      if (isClassification(g.dimension) && scheme !== null && code !== null) {
        refs.set(codeKey({ scheme, code }), { scheme, code });
      }
    });
  return [...refs.values()];
}

/** The totals of the lines linked to each commitment, per currency and phase. */
export interface FundingRow {
  currency: string;
  totals: PhaseTotal[];
}

/**
 * The totals of the budget lines linked to each commitment (commitment_budget_lines), per currency and
 * phase, for many commitments in one statement; results in key order, currencies in code point order.
 */
export async function fundingOf(ds: DataSource, commitmentIds: readonly string[]): Promise<FundingRow[][]> {
  const [sql, params] = positional(
    ds,
    `SELECT c.commitment_id AS cid, ${binary(ds, 'b.currency')} AS cur, ${phaseColumns(ds).join(', ')}
     FROM commitment_budget_lines c
     JOIN budget_lines l ON l.id = c.line_id
     JOIN budgets b ON b.id = l.budget_id
     JOIN budget_amounts a ON a.line_id = l.id AND ${latestFigureSql('a')}
     WHERE c.commitment_id IN (:...ids)
     GROUP BY c.commitment_id, cur
     ORDER BY c.commitment_id, cur`,
    { ids: [...commitmentIds] },
  );
  const rows: Raw[] = await ds.query(sql, params);
  const byCommitment = new Map<string, FundingRow[]>();
  for (const r of rows) {
    const id = String(r.cid);
    byCommitment.set(id, [
      ...(byCommitment.get(id) ?? []),
      { currency: String(r.cur), totals: phaseTotals(r) },
    ]);
  }
  return commitmentIds.map((id) => byCommitment.get(id) ?? []);
}

/** Readable names of the directions, in each language (the Arabic and French of the Tunisian budgets). */
const DIRECTION_LABELS: Record<BudgetDirection, LocalizedText> = {
  EXPENDITURE: { fr: 'Dépenses', en: 'Expenditure', ar: 'نفقات', es: 'Gastos' },
  REVENUE: { fr: 'Recettes', en: 'Revenue', ar: 'موارد', es: 'Ingresos' },
};

/**
 * EXECUTED / APPROVED from exact integer totals, rounded to 6 decimals half away from zero; null when either
 * is missing or APPROVED is zero. Only the rounded quotient becomes a float.
 */
export function executionRate(approved: string | undefined, executed: string | undefined): number | null {
  if (approved === undefined || executed === undefined) return null;
  const a = BigInt(approved);
  const e = BigInt(executed);
  if (a === 0n) return null;
  const abs = (v: bigint) => (v < 0n ? -v : v);
  const q = (abs(e) * 2_000_000n + abs(a)) / (2n * abs(a));
  const digits = q.toString().padStart(7, '0');
  const negative = q !== 0n && a < 0n !== e < 0n;
  return Number(`${negative ? '-' : ''}${digits.slice(0, -6)}.${digits.slice(-6)}`);
}

/** Exact totals in GraphQL shape. */
export const toAmounts = (totals: readonly PhaseTotal[], currency: string): BudgetAmount[] =>
  totals.map((t) => ({ phase: t.phase, amount: money(t.minor, currency), asOf: t.asOf }));

/** The aggregate line's attribute a dimension compares (null: code levels and classifications, not compared). */
const ATTRIBUTE: Partial<Record<BudgetDimension, keyof AggregateLine>> = {
  ORGANIZATION: 'organizationId',
  FISCAL_YEAR: 'fiscalYear',
  DIRECTION: 'direction',
  CLASSIFICATION: 'classification',
};

/**
 * A summary as BudgetGroups: keys with their labels, totals and the execution rate. A CODE_LEVEL key's label
 * is that of the first aggregate line (latest fiscal year, then id) whose code is the key's value and that
 * shares the group's other keys (organization, year, direction, classification); null when there is none. A
 * classification key's label is its code's in the dictionary (`codes`, by {@link codeKey}): the first of the
 * request's languages with one, else the label of no named language, else null.
 */
export function toBudgetGroups(
  summary: Summary,
  groupBy: readonly GroupSpec[],
  languages: readonly Language[],
  codes: ReadonlyMap<string, CodeEntry | null> = new Map(),
): BudgetGroup[] {
  const label = (r: SummaryRow, i: number): string | null => {
    const d = groupBy[i].dimension;
    const value = r.values[i];
    if (value === null) return null;
    if (d === 'DIRECTION') {
      return value in DIRECTION_LABELS
        ? bestText(DIRECTION_LABELS[value as BudgetDirection], languages)
        : value;
    }
    if (isClassification(d)) {
      const scheme = r.schemes[i];
      const entry = scheme === null ? null : codes.get(codeKey({ scheme, code: value }));
      return entry ? chooseLabel(entry.labels, entry.sourceLabel, languages) : null;
    }
    if (!isCodeLevel(d)) return value;
    const line = summary.aggregates.find(
      (a) =>
        a.code === value &&
        (r.organizationId === null || a.organizationId === r.organizationId) &&
        groupBy.every((other, j) => {
          const attribute = ATTRIBUTE[other.dimension];
          return attribute === undefined || a[attribute] === r.values[j];
        }),
    );
    return line ? bestText(line.labels, languages) : null;
  };
  return summary.rows.map((r) => {
    const byPhase = new Map(r.totals.map((t) => [t.phase, t.minor]));
    return {
      keys: groupBy.map((g, i) => ({
        dimension: g.dimension,
        value: r.values[i],
        label: label(r, i),
        scheme: r.schemes[i],
      })),
      currency: r.currency,
      lineCount: r.lineCount,
      totals: toAmounts(r.totals, r.currency),
      executionRate: executionRate(byPhase.get('APPROVED'), byPhase.get('EXECUTED')),
    };
  });
}

/**
 * {@link toBudgetGroups} with the labels of the classification keys read through the request's code loader
 * (one statement for every summary of the request that groups by a classification; none otherwise).
 */
export async function labelledGroups(
  codes: DataLoader<CodeRef, CodeEntry | null, string>,
  summary: Summary,
  groupBy: readonly GroupSpec[],
  languages: readonly Language[],
): Promise<BudgetGroup[]> {
  const refs = summaryCodes(summary.rows, groupBy);
  const entries = refs.length ? await codes.loadMany(refs) : [];
  const byKey = new Map<string, CodeEntry | null>();
  refs.forEach((r, i) => {
    const e = entries[i];
    if (e instanceof Error) throw e;
    byKey.set(codeKey(r), e);
  });
  return toBudgetGroups(summary, groupBy, languages, byKey);
}
