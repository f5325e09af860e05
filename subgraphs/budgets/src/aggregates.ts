import type { DataSource } from 'typeorm';
import { binary, isMysql, textType } from '@civic/common/dialect';
import { bestText, type Language, type LocalizedText } from '@civic/common/localized';
import { money } from '@civic/common/money';
import { BUDGET_PHASES, type BudgetDirection, type BudgetPhase } from './entities/Budget';
import type { BudgetAmount, BudgetDimension, BudgetGroup } from './generated/resolvers-types';
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
  /** One value per dimension of `groupBy`, in that order. */
  values: (string | null)[];
  currency: string;
  lineCount: number;
  /** In phase order, only the phases with at least one figure. */
  totals: PhaseTotal[];
}

/**
 * A dimension's value as SQL over `budget_lines l` joined to `budgets b`. Code levels cut the code at its
 * dots (`1.01101.0001.000` → `1`, `1.01101`); a code with fewer segments is its own level. Text compares and
 * groups by code point on both backends.
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
  }
}

const isCodeLevel = (d: BudgetDimension) => d === 'CODE_LEVEL_1' || d === 'CODE_LEVEL_2';

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

/**
 * Groups the lines matching a filter by the given dimensions and currency, and adds up their amounts per
 * phase, in one statement. Each line contributes, per phase, the figure `lineAmountSql` picks (whole-year
 * figure, else latest date), so a line counts once per phase however many dates it has.
 *
 * @param organizationIds when given, only these organizations' budgets, with the organization as a hidden
 *   first key, so one statement serves a whole batch of `Organization.budgetSummary`.
 * @param budgetIds when given, only these budgets' lines, with the budget as a hidden key, so one statement
 *   serves a whole batch of `Budget.total`.
 */
export async function summarize(
  ds: DataSource,
  opts: {
    filter: LineFilter;
    bounds: readonly AmountBounds[];
    groupBy: readonly BudgetDimension[];
    organizationIds?: readonly string[];
    budgetIds?: readonly string[];
  },
): Promise<SummaryRow[]> {
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
  opts.groupBy.forEach((d, i) => {
    const sql = dimensionSql(ds, d);
    select.push(`${sql} AS k${i}`);
    keys.push(`k${i}`);
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
  const [sql, params] = positional(
    ds,
    `SELECT ${select.join(', ')}
     FROM budget_lines l
     JOIN budgets b ON b.id = l.budget_id
     LEFT JOIN budget_amounts a ON a.line_id = l.id AND ${latestFigureSql('a')}
     ${where.sql.length ? `WHERE ${where.sql.join(' AND ')}` : ''}
     GROUP BY ${keys.join(', ')}
     ORDER BY ${keys.join(', ')}`,
    where.params,
  );
  const rows: Raw[] = await ds.query(sql, params);
  return rows.map((r) => ({
    organizationId: opts.organizationIds ? String(r.org) : null,
    budgetId: opts.budgetIds ? String(r.bud) : null,
    values: opts.groupBy.map((_, i) => text(r[`k${i}`])),
    currency: String(r.cur),
    lineCount: Number(r.line_count),
    totals: phaseTotals(r),
  }));
}

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
 * line that names their Titre). Latest fiscal year first, then by id.
 */
export async function aggregateLines(
  ds: DataSource,
  opts: { filter: LineFilter; groupBy: readonly BudgetDimension[]; organizationIds?: readonly string[] },
): Promise<AggregateLine[]> {
  const levels = opts.groupBy.filter(isCodeLevel);
  if (!levels.length) return [];
  const where = lineConditions(ds, { ...opts.filter, codePrefix: null, amount: null, search: null }, [], 'l');
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

/** The aggregate line's attribute a dimension compares (null: code levels, which compare the code). */
const ATTRIBUTE: Record<BudgetDimension, keyof AggregateLine | null> = {
  ORGANIZATION: 'organizationId',
  FISCAL_YEAR: 'fiscalYear',
  DIRECTION: 'direction',
  CLASSIFICATION: 'classification',
  CODE_LEVEL_1: null,
  CODE_LEVEL_2: null,
};

/**
 * A summary as BudgetGroups: keys with their labels, totals and the execution rate. A CODE_LEVEL key's label
 * is that of the first aggregate line (latest fiscal year, then id) whose code is the key's value and that
 * shares the group's other keys (organization, year, direction, classification); null when there is none.
 */
export function toBudgetGroups(
  summary: Summary,
  groupBy: readonly BudgetDimension[],
  languages: readonly Language[],
): BudgetGroup[] {
  const label = (r: SummaryRow, i: number): string | null => {
    const d = groupBy[i];
    const value = r.values[i];
    if (value === null) return null;
    if (d === 'DIRECTION') {
      return value in DIRECTION_LABELS
        ? bestText(DIRECTION_LABELS[value as BudgetDirection], languages)
        : value;
    }
    if (!isCodeLevel(d)) return value;
    const line = summary.aggregates.find(
      (a) =>
        a.code === value &&
        (r.organizationId === null || a.organizationId === r.organizationId) &&
        groupBy.every((other, j) => {
          const attribute = ATTRIBUTE[other];
          return attribute === null || a[attribute] === r.values[j];
        }),
    );
    return line ? bestText(line.labels, languages) : null;
  };
  return summary.rows.map((r) => {
    const byPhase = new Map(r.totals.map((t) => [t.phase, t.minor]));
    return {
      keys: groupBy.map((d, i) => ({ dimension: d, value: r.values[i], label: label(r, i) })),
      currency: r.currency,
      lineCount: r.lineCount,
      totals: toAmounts(r.totals, r.currency),
      executionRate: executionRate(byPhase.get('APPROVED'), byPhase.get('EXECUTED')),
    };
  });
}
