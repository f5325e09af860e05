import type { EntityManager } from 'typeorm';
import { chunk, placeholders } from '@civic/common/db';
import { binary, isMysql, type Queryable } from '@civic/common/dialect';
import { insertRows } from '@civic/common/import/write';
import {
  BUDGET_PHASES,
  CLASSIFICATION_TYPES,
  type BudgetAmount,
  type BudgetLineDimension,
  type BudgetPhase,
} from './entities/Budget';
import { latestFigureSql, lineAmountSql } from './list';

/*
 * What a dashboard reads about a million lines without reading them (issue 11): exact sums kept beside the
 * lines, in the transaction that writes the lines, by the one function every writer calls
 * ({@link refreshSummaries}, and {@link refreshLineFigures} for the lines' own figures).
 *
 * - `budget_lines.amount_<phase>`: each line's figure in a phase, the one `lineAmountSql` picks (whole-year
 *   figure, else the latest dated one, of the first measure in code point order), indexed with the id, so
 *   `budgetLines(orderBy: AMOUNT)` is a range scan of that index.
 * - `budget_summary_cells`: per budget, the groups of its lines a summary can need, with exact sums per
 *   phase: grain '' by direction, line classification and first code level; grain <type> (one per
 *   classification type its lines have) by direction and the scheme and level-1 code of each line's primary
 *   row of that type (null for a line without one). Recomputed whole for the budgets a batch touches: one
 *   INSERT … SELECT … GROUP BY per grain over those budgets' lines (a budget's few hundred lines).
 * - `budget_summary_years`: the cells added up per fiscal year and currency, recomputed from the cells (not
 *   the lines) for the years and currencies of the budgets touched; a type's rows also hold, with null keys,
 *   the lines of budgets with no row of that type. Several rows may share a key: readers always GROUP BY.
 *
 * Every sum is exact (integers; DECIMAL(38,0) columns) and each line lies in exactly one cell of a grain, so
 * line counts add up too: a summary read from these tables equals the one computed from the lines
 * (test/e2e/budget-summaries.test.ts compares them on both backends, after imports, re-imports and removals).
 */

export const SUMMARY_CELLS = 'budget_summary_cells';
export const SUMMARY_YEARS = 'budget_summary_years';

/** The column of `budget_lines` holding a line's figure in a phase (and of the sums in the summary tables). */
export const figureColumn = (phase: BudgetPhase) => `amount_${phase.toLowerCase()}`;
/** The column of the summary tables holding the latest `as_of` of a phase's figures. */
export const asOfColumn = (phase: BudgetPhase) => `as_of_${phase.toLowerCase()}`;

/** How many budgets one refresh statement covers. */
const BUDGETS_PER_STATEMENT = 200;
/** How many lines one figure refresh statement covers. */
const LINES_PER_STATEMENT = 1000;

/**
 * A line's stored figure per phase from the amounts it has, picked as `lineAmountSql` picks it: the first
 * measure in code point order, then the whole-year figure (as_of ''), else the latest date. For a line whose
 * amounts are all given here (a new line); {@link refreshLineFigures} reads them from the table otherwise.
 */
export function lineFigures(
  amounts: readonly Pick<BudgetAmount, 'phase' | 'asOf' | 'measure' | 'amountMinor'>[],
) {
  const best = new Map<BudgetPhase, Pick<BudgetAmount, 'asOf' | 'measure' | 'amountMinor'>>();
  const before = (a: { asOf: string; measure: string }, b: { asOf: string; measure: string }) => {
    if (a.measure !== b.measure) return codePointLess(a.measure, b.measure);
    if ((a.asOf === '') !== (b.asOf === '')) return a.asOf === '';
    return a.asOf > b.asOf; // ISO dates: code units order them
  };
  for (const a of amounts) {
    const b = best.get(a.phase);
    if (!b || before(a, b)) best.set(a.phase, a);
  }
  const out = {} as Record<BudgetPhase, string | null>;
  for (const p of BUDGET_PHASES) {
    const b = best.get(p);
    out[p] = b ? String(b.amountMinor) : null;
  }
  return out;
}

/** Code point order (as the binary-collated column sorts), not UTF-16 code unit order. */
function codePointLess(a: string, b: string): boolean {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d) return d < 0;
  }
  return x.length < y.length;
}

/** The figure columns of `budget_lines`, in BUDGET_PHASES order. */
export const lineFigureColumns = () => BUDGET_PHASES.map(figureColumn);

/** The values of {@link lineFigureColumns} for a new line with these amounts. */
export const lineFigureValues = (amounts: Parameters<typeof lineFigures>[0]) => {
  const f = lineFigures(amounts);
  return BUDGET_PHASES.map((p) => f[p]);
};

/**
 * Recomputes the stored figures of these lines from their amounts in the table (lines whose amounts were
 * replaced, or completed by another file): one UPDATE per 1,000 lines.
 */
export async function refreshLineFigures(m: Queryable, lineIds: readonly string[]): Promise<void> {
  const set = BUDGET_PHASES.map((p) => `${figureColumn(p)} = ${lineAmountSql('budget_lines', p, false)}`);
  for (const part of chunk([...new Set(lineIds)], LINES_PER_STATEMENT)) {
    await m.query(
      `UPDATE budget_lines SET ${set.join(', ')} WHERE id IN (${placeholders(part.length)})`,
      part,
    );
  }
}

/** The first code level of `l.code` (the CODE_LEVEL_1 key): text up to the first dot. */
export function codeLevel1Sql(source: Queryable, line = 'l'): string {
  return isMysql(source)
    ? binary(source, `SUBSTRING_INDEX(${line}.code, '.', 1)`)
    : `substr(${line}.code || '.', 1, instr(${line}.code || '.', '.') - 1)`;
}

const CELL_KEYS = ['grain', 'direction', 'classification', 'code_level_1', 'scheme', 'level_1'] as const;
const SUM_COLUMNS = () => ['line_count', ...BUDGET_PHASES.flatMap((p) => [figureColumn(p), asOfColumn(p)])];

/** Per-phase sums over `budget_amounts a` (one figure per line, phase and measure) and the latest as_of. */
const phaseSums = () =>
  BUDGET_PHASES.flatMap((p) => [
    `SUM(CASE WHEN a.phase = '${p}' THEN a.amount_minor END)`,
    `MAX(CASE WHEN a.phase = '${p}' THEN a.as_of END)`,
  ]);

/** Sums over rows of a summary table aliased `c` (line counts, per-phase sums, latest as_of). */
const cellSums = () => [
  'SUM(c.line_count)',
  ...BUDGET_PHASES.flatMap((p) => [`SUM(c.${figureColumn(p)})`, `MAX(c.${asOfColumn(p)})`]),
];

/**
 * Recomputes the summary cells of these budgets from their lines (a budget without lines, or deleted, is left
 * with none), then the yearly sums of their fiscal years and currencies. In the writer's transaction.
 *
 * @param years whether to recompute the yearly sums too; a writer that touches many budgets in one
 *   transaction (the generator) refreshes cells as it goes and {@link refreshSummaryYears} once at the end.
 */
export async function refreshSummaries(
  m: EntityManager,
  budgetIds: readonly string[],
  years = true,
): Promise<void> {
  const ids = [...new Set(budgetIds)];
  if (!ids.length) return;
  const pairs = years ? await yearsOf(m, ids) : [];
  for (const part of chunk(ids, BUDGETS_PER_STATEMENT)) {
    const inList = placeholders(part.length);
    await m.query(`DELETE FROM ${SUMMARY_CELLS} WHERE budget_id IN (${inList})`, part);
    const insert = `INSERT INTO ${SUMMARY_CELLS} (budget_id, ${CELL_KEYS.join(', ')}, ${SUM_COLUMNS().join(', ')})`;
    const amounts = `LEFT JOIN budget_amounts a ON a.line_id = l.id AND ${latestFigureSql('a')}`;
    // Grain '': direction, the line's classification and the first level of its code.
    await m.query(
      `${insert}
       SELECT l.budget_id, '', ${binary(m, 'l.direction')} AS k1, ${binary(m, 'l.classification')} AS k2,
              ${codeLevel1Sql(m)} AS k3, NULL, NULL, COUNT(DISTINCT l.id), ${phaseSums().join(', ')}
       FROM budget_lines l ${amounts}
       WHERE l.budget_id IN (${inList})
       GROUP BY l.budget_id, k1, k2, k3`,
      part,
    );
    // Grain <type>, for each type a budget's lines have: each line under its primary row of the type (at most
    // one: the writer marks one per type), or under null keys when it has none.
    await m.query(
      `${insert}
       SELECT l.budget_id, bt.type, ${binary(m, 'l.direction')} AS k1, NULL, NULL,
              ${binary(m, 'd.scheme')} AS k4, ${binary(m, 'd.level_1')} AS k5, COUNT(DISTINCT l.id), ${phaseSums().join(', ')}
       FROM (SELECT DISTINCT tl.budget_id AS budget_id, td.type AS type
             FROM budget_line_dimensions td JOIN budget_lines tl ON tl.id = td.line_id
             WHERE tl.budget_id IN (${inList})) bt
       JOIN budget_lines l ON l.budget_id = bt.budget_id
       LEFT JOIN budget_line_dimensions d ON d.line_id = l.id AND d.type = bt.type AND d.is_primary = 1
       ${amounts}
       GROUP BY l.budget_id, bt.type, k1, k4, k5`,
      part,
    );
  }
  if (years) await refreshSummaryYears(m, pairs);
}

/** A line just inserted, as {@link addToSummaries} needs it: its keys, its amounts and its dimension rows. */
export interface NewSummaryLine {
  id: string;
  budgetId: string;
  direction: string;
  classification: string | null;
  code: string | null;
  amounts: readonly Pick<BudgetAmount, 'phase' | 'asOf' | 'measure' | 'amountMinor'>[];
  dimensions: readonly Pick<BudgetLineDimension, 'type' | 'isPrimary' | 'scheme' | 'level1'>[];
}

/**
 * Adds new lines (ones just inserted, with their amounts and dimension rows) to their budgets' cells without
 * recomputing the budgets: their own cells are inserted beside the stored ones (readers always add rows of a
 * key up, so a key may have several), for grain '' and for every type the budget's cells already have or the
 * new lines bring; a budget whose new lines bring a type its stored lines are not counted under yet (they
 * belong under that type's null keys) is recomputed whole instead. Then the yearly sums of their years. A
 * batch of an import that only adds lines so costs what the batch holds, not what its budget holds (a
 * package of 8,000 lines in batches of 20 would read its budget 400 times).
 *
 * The new lines' cells are added up here from what the writer holds (every amount and dimension row of a new
 * line is in its batch), as the `INSERT … SELECT … GROUP BY` of {@link refreshSummaries} adds them up from the
 * tables: the same keys (compared as bytes, as the binary-collated columns group them), the same figure per
 * line, phase and measure (`latestFigureSql`), exact integer sums. Reading the batch back cost a third of the
 * server's time of an import (docs/performance.md).
 */
export async function addToSummaries(m: EntityManager, lines: readonly NewSummaryLine[]): Promise<void> {
  if (!lines.length) return;
  const budgetIds = [...new Set(lines.map((l) => l.budgetId))];
  const pairs = await yearsOf(m, budgetIds);
  // The types each budget's cells have, and those its new lines bring.
  const stored = new Map<string, Set<string>>();
  for (const part of chunk(budgetIds, 1000)) {
    const rows: { b: string; g: string }[] = await m.query(
      `SELECT DISTINCT budget_id AS b, grain AS g FROM ${SUMMARY_CELLS} WHERE budget_id IN (${placeholders(part.length)})`,
      part,
    );
    for (const r of rows) stored.set(r.b, (stored.get(r.b) ?? new Set()).add(r.g));
  }
  const brought = new Map<string, Set<string>>();
  for (const l of lines)
    for (const d of l.dimensions) brought.set(l.budgetId, (brought.get(l.budgetId) ?? new Set()).add(d.type));
  const whole = budgetIds.filter((b) => {
    const has = stored.get(b);
    return has?.has('') && [...(brought.get(b) ?? [])].some((t) => !has.has(t));
  });
  await refreshSummaries(m, whole, false);
  const recomputed = new Set(whole);
  const cells = new Map<string, Cell>();
  const add = (l: NewSummaryLine, keys: (string | null)[], figures: LineSums) => {
    const k = JSON.stringify([l.budgetId, ...keys]);
    let c = cells.get(k);
    if (!c) cells.set(k, (c = { keys: [l.budgetId, ...keys], lines: 0, sums: new Map(), asOf: new Map() }));
    c.lines += 1;
    for (const [p, v] of figures.sums) c.sums.set(p, (c.sums.get(p) ?? 0n) + v);
    for (const [p, v] of figures.asOf) if (!c.asOf.has(p) || v > c.asOf.get(p)!) c.asOf.set(p, v);
  };
  for (const l of lines) {
    if (recomputed.has(l.budgetId)) continue;
    const figures = lineSums(l.amounts);
    add(
      l,
      ['', l.direction, l.classification, l.code === null ? null : l.code.split('.')[0], null, null],
      figures,
    );
    // Each type of its budget (those of its cells, read above before this batch's, and its new lines'): the
    // line under its primary row of the type, or null keys.
    const types = new Set([...(stored.get(l.budgetId) ?? []), ...(brought.get(l.budgetId) ?? [])]);
    for (const type of CLASSIFICATION_TYPES) {
      if (!types.has(type)) continue;
      const d = l.dimensions.find((x) => x.type === type && Number(x.isPrimary) === 1);
      add(l, [type, l.direction, null, null, d ? d.scheme : null, d ? d.level1 : null], figures);
    }
  }
  await insertRows(
    m,
    SUMMARY_CELLS,
    ['budget_id', ...CELL_KEYS, ...SUM_COLUMNS()],
    [...cells.values()].map((c) => [
      ...c.keys,
      c.lines,
      ...BUDGET_PHASES.flatMap((p) => [c.sums.has(p) ? String(c.sums.get(p)) : null, c.asOf.get(p) ?? null]),
    ]),
  );
  await refreshSummaryYears(m, pairs);
}

/** One cell {@link addToSummaries} adds: its keys (budget first), line count, sums and latest as_of by phase. */
interface Cell {
  keys: (string | null)[];
  lines: number;
  sums: Map<BudgetPhase, bigint>;
  asOf: Map<BudgetPhase, string>;
}

/** A line's part of its cells' sums, by phase: none for a phase it has no figure in. */
interface LineSums {
  sums: Map<BudgetPhase, bigint>;
  asOf: Map<BudgetPhase, string>;
}

/**
 * What a line adds to its cells, as {@link refreshSummaries} reads it through `latestFigureSql`: per phase,
 * the sum over its measures of each measure's figure (the whole-year one, else the latest dated one), and the
 * latest as_of of those figures.
 */
function lineSums(amounts: NewSummaryLine['amounts']): LineSums {
  const kept = new Map<string, NewSummaryLine['amounts'][number]>();
  for (const a of amounts) {
    const k = JSON.stringify([a.phase, a.measure]);
    const b = kept.get(k);
    if (!b || (b.asOf !== '' && (a.asOf === '' || a.asOf > b.asOf))) kept.set(k, a);
  }
  const out: LineSums = { sums: new Map(), asOf: new Map() };
  for (const a of kept.values()) {
    out.sums.set(a.phase, (out.sums.get(a.phase) ?? 0n) + BigInt(String(a.amountMinor)));
    const was = out.asOf.get(a.phase);
    if (was === undefined || a.asOf > was) out.asOf.set(a.phase, a.asOf);
  }
  return out;
}

/** A fiscal year and currency: the key of the yearly sums. */
export interface SummaryYear {
  fiscalYear: number;
  currency: string;
}

/** The fiscal years and currencies of some budgets, one statement per 1,000. */
async function yearsOf(m: EntityManager, ids: readonly string[]): Promise<SummaryYear[]> {
  const out = new Map<string, SummaryYear>();
  for (const part of chunk(ids, 1000)) {
    const rows: { y: number | string; c: string }[] = await m.query(
      `SELECT DISTINCT fiscal_year AS y, currency AS c FROM budgets WHERE id IN (${placeholders(part.length)})`,
      part,
    );
    for (const r of rows) out.set(`${r.y}/${r.c}`, { fiscalYear: Number(r.y), currency: String(r.c) });
  }
  return [...out.values()];
}

/**
 * Recomputes the yearly sums of these fiscal years and currencies (every one: `'all'`) from the cells: what
 * a budget's cells changed, or its lines' removal, changes there.
 */
export async function refreshSummaryYears(
  m: EntityManager,
  pairs: readonly SummaryYear[] | 'all',
): Promise<void> {
  const parts = pairs === 'all' ? [null] : chunk(pairs, 100);
  for (const part of parts) {
    if (part && !part.length) continue;
    const where = part
      ? `(${part.map(() => '(b.fiscal_year = ? AND b.currency = ?)').join(' OR ')})`
      : '1 = 1';
    const params = part ? part.flatMap((p) => [p.fiscalYear, p.currency]) : [];
    const del = part
      ? `DELETE FROM ${SUMMARY_YEARS} WHERE ${part.map(() => '(fiscal_year = ? AND currency = ?)').join(' OR ')}`
      : `DELETE FROM ${SUMMARY_YEARS}`;
    await m.query(del, params);
    const insert = `INSERT INTO ${SUMMARY_YEARS} (fiscal_year, currency, ${CELL_KEYS.join(', ')}, ${SUM_COLUMNS().join(', ')})`;
    const keys = CELL_KEYS.map((k) => `c.${k}`).join(', ');
    await m.query(
      `${insert}
       SELECT b.fiscal_year, b.currency, ${keys}, ${cellSums().join(', ')}
       FROM ${SUMMARY_CELLS} c JOIN budgets b ON b.id = c.budget_id
       WHERE ${where}
       GROUP BY b.fiscal_year, b.currency, ${keys}`,
      params,
    );
    // A budget none of whose lines has a row of a type: all its lines under null keys of that type, from its
    // grain '' cells (the types are enum values, not input).
    const types = CLASSIFICATION_TYPES.map((t) => `SELECT '${t}' AS type`).join(' UNION ALL ');
    await m.query(
      `${insert}
       SELECT b.fiscal_year, b.currency, tt.type, c.direction, NULL, NULL, NULL, NULL, ${cellSums().join(', ')}
       FROM ${SUMMARY_CELLS} c JOIN budgets b ON b.id = c.budget_id CROSS JOIN (${types}) tt
       WHERE c.grain = '' AND ${where}
         AND NOT EXISTS (SELECT 1 FROM ${SUMMARY_CELLS} o WHERE o.budget_id = c.budget_id AND o.grain = tt.type)
       GROUP BY b.fiscal_year, b.currency, tt.type, c.direction`,
      params,
    );
  }
}
