import { SourceAdjustments } from '@civic/common/import/adjust';
import type { ImportContext } from '@civic/common/import/pipeline';
import type { ImportIssue } from '@civic/common/import/report';
import { digest } from '@civic/common/import/write';
import type { SourceAdjustment } from '@civic/common/provenance';
import type { Language } from '@civic/common/localized';
import type { Budget, BudgetAmount, BudgetDirection, BudgetLine } from '../../entities/Budget';
import { amountSource, type LineGroup, type LineWrite } from '../lines';
import { DIRECTION_CODE } from '../tn-municipal-budget/nomenclature';
import { rowAmounts, type Figure } from './amounts';
import { lineCode, lineLabels, type IssueAt, type ReadAttr } from './classification';
import { MAX_ID, MAX_RECORD } from './limits';
import type { Package } from './package';
import type { FdpRow } from './read';

/*
 * A row to what it writes: the budget of its fiscal year, and one line per direction of the package's
 * measures, with the row's amounts. Every problem of a row is reported together, and the row refused.
 */

/** The budget of a package for a year: `fdp-bou-arada-2018-approved-expenditure-2018`. */
export const fdpBudgetId = (packageSlug: string, year: number) => `fdp-${packageSlug}-${year}`;

/** A row's fiscal year: its date attribute's year (checked against --year), else the package's year. */
function rowYear(pkg: Package, read: ReadAttr, issue: IssueAt, problems: ImportIssue[]): number | null {
  if (!pkg.date) return pkg.year;
  const raw = read(pkg.date);
  const m = /^\s*(\d{4})(?:[-/]\d{1,2}(?:[-/]\d{1,2})?)?\s*$/.exec(raw);
  if (!m)
    problems.push(
      issue(
        pkg.date.source,
        raw,
        `${JSON.stringify(raw)} is not a fiscal year (2018) or a date (2018-01-01)`,
      ),
    );
  else if (pkg.year !== null && Number(m[1]) !== pkg.year)
    problems.push(issue(pkg.date.source, raw, `fiscal year ${m[1]} is not --year ${pkg.year}`));
  else return Number(m[1]);
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
  record: string;
  line: number;
  /** Labels stored otherwise than their cells wrote them (trimmed): kept in the line's provenance. */
  adjustments: readonly SourceAdjustment[];
}

/** One line of a row, with its amounts and provenance (the digest covers the amounts too). */
function lineWrite(pkg: Package, ctx: ImportContext, p: LineParts): LineWrite {
  const amounts: BudgetAmount[] = p.figures.map(({ m, minor }) => ({
    lineId: p.id,
    phase: m.phase,
    asOf: '',
    amountMinor: minor,
    ...amountSource(ctx, p.line, m.source, `${p.record} column ${m.source}`.slice(0, MAX_RECORD)),
  }));
  const { ar = null, fr = null, en = null, es = null } = p.labels;
  const content = [
    p.budgetId,
    p.direction,
    p.code,
    ar,
    fr,
    en,
    es,
    pkg.classification,
    pkg.source,
    // With the column each figure cites, so a line stored before figures had their own source is rewritten once.
    amounts.map((a) => [a.phase, a.amountMinor, a.sourceRecord, a.sourceColumn]),
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
    classification: pkg.classification,
    ...ctx.provenance(pkg.source, p.line, p.record, digest(content), p.adjustments),
  };
  return { line, amounts, slots: pkg.slots[p.direction] };
}

/** The budget of a year, made once per run (the first row giving it is its provenance). */
function budgetOf(
  pkg: Package,
  ctx: ImportContext,
  budgetCache: Map<string, Budget>,
  year: number,
  row: FdpRow,
): Budget {
  const budgetId = fdpBudgetId(pkg.slug, year);
  let budget = budgetCache.get(budgetId);
  if (!budget) {
    const b = { id: budgetId, organizationId: pkg.organization, fiscalYear: year, currency: pkg.currency };
    const relative = pkg.resources[row.resource].relative;
    budget = { ...b, ...ctx.provenance(pkg.source, row.line, relative, digest(b)), sourceLine: null };
    budgetCache.set(budgetId, budget);
  }
  return budget;
}

/**
 * A row to its line group (keyed by year and code: two rows with the same code in a year are a duplicate),
 * or null when refused: every problem of the row (year, code, labels, amounts) is reported at once.
 */
export function validateRow(
  pkg: Package,
  row: FdpRow,
  ctx: ImportContext,
  budgetCache: Map<string, Budget>,
): LineGroup | null {
  const res = pkg.resources[row.resource];
  const issue: IssueAt = (column, value, reason) => ({
    ...ctx.issue(row.line, column, value, reason),
    file: res.display,
  });
  const read: ReadAttr = (a) => (a.constant !== null ? a.constant : (row.values[a.source!] ?? ''));
  const problems: ImportIssue[] = [];
  const year = rowYear(pkg, read, issue, problems);
  const code = lineCode(pkg, read, issue, problems);
  const adjusted = new SourceAdjustments();
  const labels = lineLabels(pkg, read, issue, problems, adjusted);
  const adjustments = adjusted.list;
  const amounts = rowAmounts(pkg.measures, res.name, row.values, issue, problems);
  if (problems.length || year === null) {
    ctx.refuse(problems);
    return null;
  }
  const budgetId = fdpBudgetId(pkg.slug, year);
  const record = `${res.relative}:line ${row.line}`.slice(0, MAX_RECORD);
  const lines: LineWrite[] = [];
  for (const [direction, figures] of amounts) {
    const id = `${budgetId}-${DIRECTION_CODE[direction]}-${code}`;
    if (id.length > MAX_ID) {
      const at = pkg.code[pkg.code.length - 1].source;
      ctx.refuse([issue(at, code, `the line id ${id} is longer than ${MAX_ID} characters`)]);
      return null;
    }
    lines.push(
      lineWrite(pkg, ctx, {
        id,
        budgetId,
        direction,
        code,
        labels,
        figures,
        record,
        line: row.line,
        adjustments,
      }),
    );
  }
  const budget = budgetOf(pkg, ctx, budgetCache, year, row);
  return { key: `${year}|${code}`, budgets: [budget], lines };
}
