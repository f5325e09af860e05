import { ENDS_ONLY, SourceAdjustments } from '@civic/common/import/adjust';
import type { ImportContext, SourceRow } from '@civic/common/import/pipeline';
import type { ImportIssue } from '@civic/common/import/report';
import { digest } from '@civic/common/import/write';
import type { SourceAdjustment } from '@civic/common/provenance';
import { tunisiaMunicipalityId } from '@civic/formats/keys';
import type { Budget, BudgetAmount, BudgetDirection } from '../../entities/Budget';
import { dimensionsContent } from '../../facts';
import { amountSource, type LineGroup, type LineWrite } from '../lines';
import { parseMillimes } from './amounts';
import type { Plan } from './layouts';
import {
  CLASSIFICATION,
  CURRENCY,
  LABEL_COLUMN,
  directionOfCodeShape,
  nomenclatureDimension,
  lineCode,
  tnBudgetId,
  tnLineId,
} from './nomenclature';

/** What one run remembers while reading: rows seen (for repeats), the budgets and directions given. */
export interface RunState {
  /** The first line of each key (year, direction, code) of a valid row. */
  seen: Map<string, number>;
  budgets: Set<string>;
  /** The budget rows written for the lines (one per fiscal year), built once. */
  budgetRows: Map<string, Budget>;
  directions: Set<BudgetDirection>;
  trimmed: number;
  otherYears: number;
}

export const newRunState = (): RunState => ({
  seen: new Map(),
  budgets: new Set(),
  budgetRows: new Map(),
  directions: new Set(),
  trimmed: 0,
  otherYears: 0,
});

type Cells = Record<string, string>;

/** A row's code and direction (the file's, else the code's shape), or null when refused. */
function codeAndDirection(pl: Plan, v: Cells, line: number, ctx: ImportContext) {
  const parsed = lineCode(v);
  if (!parsed.ok) {
    ctx.refuse([ctx.issue(line, parsed.column, parsed.value, parsed.reason)]);
    return null;
  }
  const code = parsed.code;
  const direction = pl.direction ?? directionOfCodeShape(code);
  if (direction) return { code, direction };
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

/** The years a row gives: the long layout's Year, else the plan's; null when its Year is not one (refused). */
function rowYears(pl: Plan, v: Cells, line: number, ctx: ImportContext): number[] | null {
  if (pl.layout !== 'simple') return pl.years!;
  const raw = v.Year.trim();
  if (/^\d{4}$/.test(raw)) return [Number(raw)];
  ctx.refuse([ctx.issue(line, 'Year', v.Year, `Year ${JSON.stringify(v.Year)} is not a year`)]);
  return null;
}

/** The amount cells a row has for a year: the year's column, `Budget`, or the monthly columns. */
function amountCells(
  pl: Plan,
  year: number,
): { column: string; phase: BudgetAmount['phase']; asOf: string }[] {
  if (pl.layout === 'perYear') return [{ column: String(year), phase: 'APPROVED', asOf: '' }];
  if (pl.layout === 'simple') return [{ column: 'Budget', phase: 'APPROVED', asOf: '' }];
  return pl.monthly;
}

/** A line's amounts in a row for a year; a cell that is not integer millimes is added to `problems`. */
function amountsOf(
  pl: Plan,
  v: Cells,
  line: number,
  year: number,
  lineId: string,
  ctx: ImportContext,
  problems: ImportIssue[],
): BudgetAmount[] {
  const out: BudgetAmount[] = [];
  for (const c of amountCells(pl, year)) {
    const a = parseMillimes(v[c.column] ?? '');
    if (!a.ok) problems.push(ctx.issue(line, c.column, v[c.column], a.reason));
    else if (a.minor !== null)
      out.push({
        lineId,
        phase: c.phase,
        asOf: c.asOf,
        measure: '',
        amountMinor: a.minor,
        ...amountSource(ctx, line, c.column, `${pl.name}:line ${line} column ${c.column}`),
      });
  }
  return out;
}

/** What a row says of one line (shared by its years). */
interface RowLine {
  code: string;
  direction: BudgetDirection;
  label: string | null;
  line: number;
  /** The label as stored otherwise than the cell wrote it (trimmed): kept in the line's provenance. */
  adjustments: SourceAdjustment[];
}

/** The line of a row for one year, with its amounts and full provenance (its digest covers the amounts). */
function lineWrite(
  pl: Plan,
  r: RowLine,
  year: number,
  amounts: BudgetAmount[],
  ctx: ImportContext,
): LineWrite {
  const id = tnLineId(pl.code, year, r.direction, r.code);
  const budgetId = tnBudgetId(pl.code, year);
  const dimensions = [nomenclatureDimension(r.code)];
  const content = {
    budgetId,
    direction: r.direction,
    code: r.code,
    label: r.label,
    classification: CLASSIFICATION,
    source: pl.source,
    // With the column each figure cites, so a line stored before figures had their own source is rewritten once.
    amounts: amounts.map((a) => [a.phase, a.asOf, a.amountMinor, a.sourceRecord, a.sourceColumn]),
    dimensions: dimensionsContent(dimensions),
  };
  return {
    line: {
      id,
      budgetId,
      direction: r.direction,
      code: r.code,
      labelAr: r.label,
      labelFr: null,
      labelEn: null,
      labelEs: null,
      classification: CLASSIFICATION,
      ...ctx.provenance(pl.source, r.line, `${pl.name}:line ${r.line}`, digest(content), r.adjustments),
    },
    amounts,
    slots: pl.slots,
    dimensions,
  };
}

/** The budget of a year, built once per run (it cites the file and line that first gave it). */
function budgetOf(pl: Plan, state: RunState, year: number, line: number, ctx: ImportContext): Budget {
  const id = tnBudgetId(pl.code, year);
  let budget = state.budgetRows.get(id);
  if (!budget) {
    const b = { id, organizationId: tunisiaMunicipalityId(pl.code), fiscalYear: year, currency: CURRENCY };
    budget = { ...b, ...ctx.provenance(pl.source, line, pl.name, digest(b)), sourceLine: null };
    state.budgetRows.set(id, budget);
  }
  return budget;
}

/**
 * A row to the lines it gives (one per year of a per-year file) and their budgets, or null when refused: no
 * full code, no direction, no year, a cell that is not integer millimes, or the code of an earlier row with
 * other values (rows repeated cell for cell are merged before this, by the reader): nothing says which is right.
 */
export function validateRow(
  pl: Plan,
  state: RunState,
  row: SourceRow<Cells>,
  ctx: ImportContext,
): LineGroup | null {
  const { data: v, line } = row;
  const cd = codeAndDirection(pl, v, line, ctx);
  const years = cd && rowYears(pl, v, line, ctx);
  if (!cd || !years) return null;
  const key = `${pl.layout === 'perYear' ? '' : years[0]}|${cd.direction}|${cd.code}`;
  const seen = state.seen.get(key);
  if (seen !== undefined) {
    const reason = `same code ${cd.code} as line ${seen} but different label or amounts; cannot tell which is right`;
    ctx.refuse([ctx.issue(line, null, cd.code, reason)]);
    return null;
  }
  const rawLabel = v[LABEL_COLUMN] ?? '';
  // Only the ends are trimmed (the cell stays in the line's provenance); inner spacing is kept as written.
  const adjusted = new SourceAdjustments();
  const label = adjusted.cleanText(rawLabel, LABEL_COLUMN, 'labels.ar', ENDS_ONLY);
  const r: RowLine = { ...cd, label, line, adjustments: adjusted.list };
  const problems: ImportIssue[] = [];
  const lines: LineWrite[] = [];
  const budgets: Budget[] = [];
  for (const year of years) {
    const amounts = amountsOf(
      pl,
      v,
      line,
      year,
      tnLineId(pl.code, year, cd.direction, cd.code),
      ctx,
      problems,
    );
    lines.push(lineWrite(pl, r, year, amounts, ctx));
    budgets.push(budgetOf(pl, state, year, line, ctx));
  }
  if (problems.length) {
    ctx.refuse(problems);
    return null;
  }
  if (!r.label) ctx.warn(ctx.issue(line, LABEL_COLUMN, rawLabel, `${cd.code} has no Imputation label`));
  else if (r.label !== rawLabel) state.trimmed += 1;
  state.seen.set(key, line);
  for (const b of budgets) state.budgets.add(b.id);
  state.directions.add(cd.direction);
  return { key, budgets, lines };
}
