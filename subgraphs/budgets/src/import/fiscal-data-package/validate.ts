import { SourceAdjustments } from '@civic/common/import/adjust';
import type { ImportContext } from '@civic/common/import/pipeline';
import type { ImportIssue } from '@civic/common/import/report';
import { digest } from '@civic/common/import/write';
import type { SourceAdjustment } from '@civic/common/provenance';
import type { Language } from '@civic/common/localized';
import type { Budget, BudgetAmount, BudgetDirection, BudgetLine } from '../../entities/Budget';
import { cellDigest, dimensionsContent, factId, type FactDimension, type LevelCode } from '../../facts';
import { amountSource, slotOf, type LineGroup, type LineWrite } from '../lines';
import { rowFigures, type Figure } from './amounts';
import { lineLabels } from './classification';
import { dateLevels, fitCode, readDimension, type IssueAt, type ReadAttr } from './dimensions';
import { MAX_CODE, MAX_ID, MAX_RECORD } from './limits';
import type { Measure } from './model';
import type { Package } from './package';
import type { FdpRow } from './read';

/*
 * A row to what it writes: a fact in every budget its figures go to (the fiscal year of the row, or of each
 * measure in the wide layout, and the measure's currency), one line per budget and direction, with the row's
 * value in every dimension. Every problem of a row is reported together, and the row refused.
 */

/**
 * The budget of a package for a year: `fdp-bou-arada-2018-approved-expenditure-2018`; with `currency` (a
 * package whose measures are in several) `…-2018-eur`.
 */
export const fdpBudgetId = (packageSlug: string, year: number, currency?: string | null) =>
  `fdp-${packageSlug}-${year}${currency ? `-${currency.toLowerCase()}` : ''}`;

/**
 * What a run remembers between rows: the budgets made so far, and the rows of each cell (a fact's budget year
 * and dimension values) as `<digest of every column>@<resource>:<line>`, so that the n-th row of a cell is
 * its n-th fact and a row identical to an earlier one is told. Every row goes through validation, those a
 * resumed run skips writing too, so the numbering is the same however the run went.
 */
export interface RunState {
  budgets: Map<string, Budget>;
  cells: Map<string, string | string[]>;
  /**
   * The labels of each code (by scheme and code) as the first row giving the code has them, and its line: the
   * dictionary keeps those. Decided here, where every row passes, rather than by the writer, which sees only
   * the rows a run writes: a resumed run would otherwise keep the labels of the first row after its restart.
   */
  codeLabels: Map<string, { labels: string; where: string; warned: boolean }>;
}

export const newRunState = (): RunState => ({ budgets: new Map(), cells: new Map(), codeLabels: new Map() });

/**
 * Gives every level of a row's dimensions the labels its code had on the first row giving it (the source's
 * labels of a code can change from a year to the next: Madrid's programme 91203). A code given other labels
 * here is warned about once, naming this line and the first; the line's own labels stay its row's.
 */
function firstLabels(
  dims: FactDimension[],
  state: RunState,
  ctx: ImportContext,
  issue: IssueAt,
  where: string,
) {
  for (const d of dims)
    d.levels = d.levels.map((level) => {
      const key = `${d.scheme}\u0000${level.code}`;
      const labels = JSON.stringify([level.labels ?? null, level.label ?? null]);
      const first = state.codeLabels.get(key);
      if (!first) {
        state.codeLabels.set(key, { labels, where, warned: false });
        return level;
      }
      if (first.labels === labels) return level;
      if (!first.warned) {
        first.warned = true;
        ctx.warn(
          issue(
            null,
            level.code,
            `code ${level.code} of ${d.dimension} has other labels here than on ${first.where}: the code keeps those`,
          ),
        );
      }
      const [l, label] = JSON.parse(first.labels) as [LevelCode['labels'] | null, string | null];
      return { code: level.code, ...(l ? { labels: l } : {}), ...(label !== null ? { label } : {}) };
    });
}

/** A row's fiscal year: its date attribute's year (checked against --year), else the package's year. */
function rowYear(pkg: Package, read: ReadAttr, issue: IssueAt, problems: ImportIssue[]): number | null {
  if (!pkg.yearFrom) return pkg.year;
  const { attr } = pkg.yearFrom;
  const raw = read(attr);
  const levels = dateLevels(raw.trim());
  if (!levels)
    problems.push(
      issue(attr.source, raw, `${JSON.stringify(raw)} is not a fiscal year (2018) or a date (2018-01-01)`),
    );
  else if (pkg.year !== null && Number(levels[0]) !== pkg.year)
    problems.push(issue(attr.source, raw, `fiscal year ${levels[0]} is not --year ${pkg.year}`));
  else return Number(levels[0]);
  return pkg.year;
}

/** What one line of a row is made of, besides the package. */
interface LineParts {
  id: string;
  budgetId: string;
  direction: BudgetDirection;
  code: string;
  labels: Partial<Record<Language, string>>;
  figures: Figure[];
  slots: string[];
  dimensions: FactDimension[];
  record: string;
  line: number;
  /** Labels stored otherwise than their cells wrote them (trimmed): kept in the line's provenance. */
  adjustments: readonly SourceAdjustment[];
}

/** One line of a row, with its figures, dimensions and provenance (the digest covers them all). */
function lineWrite(pkg: Package, ctx: ImportContext, p: LineParts): LineWrite {
  const amounts: BudgetAmount[] = p.figures.map(({ m, minor }) => ({
    lineId: p.id,
    phase: m.phase,
    asOf: '',
    measure: m.name,
    amountMinor: minor,
    ...amountSource(ctx, p.line, m.source, `${p.record} column ${m.source}`.slice(0, MAX_RECORD)),
  }));
  const { ar = null, fr = null, en = null, es = null } = p.labels;
  const classification = pkg.line === null ? null : pkg.dimensions[pkg.line].key;
  const content = [
    p.budgetId,
    p.direction,
    p.code,
    ar,
    fr,
    en,
    es,
    classification,
    pkg.source,
    // With the column each figure cites, so a line stored before figures had their own source is rewritten once.
    amounts.map((a) => [a.phase, a.measure, a.amountMinor, a.sourceRecord, a.sourceColumn]),
    dimensionsContent(p.dimensions),
  ];
  const line: BudgetLine = {
    id: p.id,
    budgetId: p.budgetId,
    direction: p.direction,
    code: p.code,
    labelAr: ar,
    labelFr: fr,
    labelEn: en,
    labelEs: es,
    classification,
    ...ctx.provenance(pkg.source, p.line, p.record, digest(content), p.adjustments),
  };
  return { line, amounts, slots: p.slots, dimensions: p.dimensions };
}

/** The budget of a year and currency, made once per run (the first row giving it is its provenance). */
function budgetOf(
  pkg: Package,
  ctx: ImportContext,
  budgets: Map<string, Budget>,
  year: number,
  currency: string,
  row: FdpRow,
): Budget {
  const budgetId = fdpBudgetId(pkg.slug, year, pkg.multiCurrency ? currency : null);
  let budget = budgets.get(budgetId);
  if (!budget) {
    const b = { id: budgetId, organizationId: pkg.organization, fiscalYear: year, currency };
    const relative = pkg.resources[row.resource].relative;
    budget = { ...b, ...ctx.provenance(pkg.source, row.line, relative, digest(b)), sourceLine: null };
    budgets.set(budgetId, budget);
  }
  return budget;
}

/** The lines a row gives: one per budget (year and currency) and direction of the measures it can have. */
interface LineSlot {
  year: number;
  currency: string;
  direction: BudgetDirection;
  measures: Measure[];
}

function lineSlots(measures: readonly Measure[], resource: string, year: number | null): LineSlot[] {
  const out = new Map<string, LineSlot>();
  for (const m of measures) {
    if (m.resource !== null && m.resource !== resource) continue;
    const y = m.period ?? year!;
    const k = `${y} ${m.currency} ${m.direction}`;
    let s = out.get(k);
    if (!s) out.set(k, (s = { year: y, currency: m.currency, direction: m.direction, measures: [] }));
    s.measures.push(m);
  }
  return [...out.values()];
}

/**
 * The row's place among the rows of its cell: 1 for the first, n for the n-th, or the row it is identical to
 * (`merge`) when --dedupe merges it. A row identical in every column to an earlier one is loaded as a fact
 * of its own (two identical payments can be real), with a warning naming both lines.
 */
function occurrenceOf(
  pkg: Package,
  ctx: ImportContext,
  state: RunState,
  row: FdpRow,
  cell: string,
  issue: IssueAt,
): { occurrence: number } | { merge: true } {
  const here = `${row.resource}:${row.line}`;
  const rowDigest = digest(row.values).slice(0, 20);
  const seen = state.cells.get(cell);
  const earlier = seen === undefined ? [] : typeof seen === 'string' ? [seen] : seen;
  const same = earlier.find((e) => e.startsWith(`${rowDigest}@`));
  if (same) {
    const [resource, line] = same
      .slice(rowDigest.length + 1)
      .split(':')
      .map(Number);
    const first = resource === row.resource ? `line ${line}` : `${pkg.resources[resource].display}:${line}`;
    if (pkg.dedupe) {
      ctx.warn(
        issue(null, null, `identical in every column to ${first}: merged into it (--dedupe), not written`),
      );
      return { merge: true };
    }
    ctx.warn(
      issue(
        null,
        null,
        `identical in every column to ${first}: loaded as a fact of its own (two identical payments can be real; --dedupe merges such rows)`,
      ),
    );
  }
  const occurrence = earlier.length + 1;
  const entry = `${rowDigest}@${here}`;
  if (seen === undefined) state.cells.set(cell, entry);
  else if (typeof seen === 'string') state.cells.set(cell, [seen, entry]);
  else seen.push(entry);
  return { occurrence };
}

/**
 * A row to its line group, or null when refused: every problem of the row (year, dimension values, labels,
 * figures) is reported at once. The group's key is its first fact's id, unique in the file: the n-th row of
 * a cell is its n-th fact.
 */
export function validateRow(
  pkg: Package,
  row: FdpRow,
  ctx: ImportContext,
  state: RunState,
): LineGroup | null {
  const res = pkg.resources[row.resource];
  const issue: IssueAt = (column, value, reason) => ({
    ...ctx.issue(row.line, column, value, reason),
    file: res.display,
  });
  const read: ReadAttr = (a) => (a.constant !== null ? a.constant : (row.values[a.source!] ?? ''));
  const problems: ImportIssue[] = [];
  const warnings: ImportIssue[] = [];
  const year = rowYear(pkg, read, issue, problems);
  const dims: FactDimension[] = [];
  let code = '';
  pkg.dimensions.forEach((spec, i) => {
    const d = readDimension(spec, read, issue, problems, {
      complete: i === pkg.line,
      yearChecked: pkg.yearFrom?.dim === i && pkg.yearFrom.attr === spec.levels[0].attr,
    });
    if (!d) return;
    dims.push(d);
    if (i === pkg.line) code = fitCode(d.levels[d.levels.length - 1].code, MAX_CODE);
  });
  const adjusted = new SourceAdjustments();
  const labels = pkg.line === null ? {} : lineLabels(pkg.dimensions[pkg.line], read, adjusted);
  const figures = rowFigures(pkg.measures, res.name, row.values, issue, problems, warnings);
  if (problems.length) {
    ctx.refuse(problems);
    return null;
  }
  for (const w of warnings) ctx.warn(w);
  firstLabels(dims, state, ctx, issue, `${res.display}:${row.line}`);

  // A date of the fiscal year only says which budget the fact is in: the budget tells it already.
  const identity = dims.filter(
    (d) => !(d.type === 'PERIOD' && d.levels.length === 1 && d.levels[0].code === String(year)),
  );
  const place = occurrenceOf(pkg, ctx, state, row, `${year ?? ''}|${cellDigest(identity)}`, issue);
  if ('merge' in place) return { key: `merged ${row.resource}:${row.line}`, budgets: [], lines: [] };

  const record = `${res.relative}:line ${row.line}`.slice(0, MAX_RECORD);
  const budgets: Budget[] = [];
  const lines: LineWrite[] = [];
  for (const s of lineSlots(pkg.measures, res.name, year)) {
    const budget = budgetOf(pkg, ctx, state.budgets, s.year, s.currency, row);
    const id = factId(budget.id, s.direction, code, identity, place.occurrence);
    if (id.length > MAX_ID) {
      ctx.refuse([issue(null, code, `the line id ${id} is longer than ${MAX_ID} characters`)]);
      return null;
    }
    if (!budgets.includes(budget)) budgets.push(budget);
    lines.push(
      lineWrite(pkg, ctx, {
        id,
        budgetId: budget.id,
        direction: s.direction,
        code,
        labels,
        figures: figures.filter((f) => s.measures.includes(f.m)),
        slots: s.measures.map((m) => slotOf(m.phase, '', m.name)),
        dimensions: dims,
        record,
        line: row.line,
        adjustments: adjusted.list,
      }),
    );
  }
  return { key: lines[0]?.line.id ?? `no measure ${row.resource}:${row.line}`, budgets, lines };
}
