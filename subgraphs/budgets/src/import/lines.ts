import type { EntityManager } from 'typeorm';
import {
  classify,
  deleteWhereIn,
  insertRows,
  missingFromFile,
  missingKeys,
  PROVENANCE_COLUMNS,
  provenanceValues,
  upsertRows,
} from '@civic/common/import/write';
import type { ImportContext, WriteContext } from '@civic/common/import/pipeline';
import type { ImportIssue } from '@civic/common/import/report';
import { chunk, placeholders } from '@civic/common/db';
import { quoteName } from '@civic/common/dialect';
import { indexDocuments, removeDocuments } from '@civic/common/search';
import type { Budget, BudgetAmount, BudgetLine } from '../entities/Budget';
import { lineDimensionRows, type FactDimension } from '../facts';
import { LINE_INDEX, LINE_SEARCH_TYPE, lineDocuments } from '../search';
import {
  addToSummaries,
  lineFigureColumns,
  lineFigureValues,
  refreshLineFigures,
  refreshSummaries,
} from '../summaries';
import {
  dimensionValues,
  DIMENSION_COLUMNS,
  writeCodes,
  writtenCodeEntries,
  type CodeWriterState,
} from './codes';
import { contributeFigures, linesOfOtherFiles } from './contributions';

/*
 * The write path both budget importers share. A record of a budget file becomes a LineGroup: the budget
 * line(s) it gives (a per-year file's row gives one line per year, a data package's row one per direction),
 * each with the amounts the file gives for it, and the budgets those lines belong to. A batch is written with
 * one classify() of its lines (one SELECT per 1,000 ids), plain multi-row INSERTs for new lines and their
 * amounts and search documents, upserts for changed ones, all in the pipeline's transaction.
 */

/** One budget line as an importer writes it. */
export interface LineWrite {
  /** The line, with its full import provenance (rowDigest covers its amounts too). */
  line: BudgetLine;
  /** Its amounts in this file. */
  amounts: BudgetAmount[];
  /**
   * The amount slots ({@link slotOf}) this file's layout gives for the line, with or without a figure: a
   * changed line's amounts in these slots are replaced, those in other slots (another file's, e.g. the
   * execution figures of the monthly file when the per-year file is imported) are kept.
   */
  slots: readonly string[];
  /**
   * The fact's value in every dimension of its source (facts.ts), in the source's order; its row digest must
   * cover them (`dimensionsContent`). A changed line's dimension rows are replaced; its codes go to the
   * dictionary (budget_codes) with the line's provenance.
   */
  dimensions: readonly FactDimension[];
}

/** What one record of a budget file writes. */
export interface LineGroup {
  /** Duplicate key within the file (two records with the same key are the same lines). */
  key: string;
  budgets: Budget[];
  lines: LineWrite[];
}

/** The amount slot of a phase, date and measure, as {@link LineWrite.slots} lists them. */
export const slotOf = (phase: string, asOf: string, measure = '') => JSON.stringify([phase, asOf, measure]);

const LINE_COLUMNS = [
  'id',
  'budget_id',
  'direction',
  'code',
  'label_ar',
  'label_fr',
  'label_en',
  'label_es',
  'classification',
  ...PROVENANCE_COLUMNS,
] as const;

const lineValues = (l: BudgetLine): unknown[] => [
  l.id,
  l.budgetId,
  l.direction,
  l.code,
  l.labelAr,
  l.labelFr,
  l.labelEn,
  l.labelEs,
  l.classification,
  ...provenanceValues(l),
];

/** A new line's columns: its own, and its stored figures (its amounts are all in the batch). */
const NEW_LINE_COLUMNS = [...LINE_COLUMNS, ...lineFigureColumns()];

const newLineValues = (l: LineWrite): unknown[] => [...lineValues(l.line), ...lineFigureValues(l.amounts)];

const AMOUNT_COLUMNS = [
  'line_id',
  'phase',
  'as_of',
  'measure',
  'amount_minor',
  'source_record',
  'source_file',
  'source_checksum',
  'source_line',
  'source_column',
  'imported_at',
] as const;

const amountValues = (a: BudgetAmount): unknown[] => [
  a.lineId,
  a.phase,
  a.asOf,
  a.measure,
  String(a.amountMinor),
  a.sourceRecord,
  a.sourceFile,
  a.sourceChecksum,
  a.sourceLine,
  a.sourceColumn,
  a.importedAt,
];

/**
 * Where a figure read from this file comes from: the file, its checksum, the line and column of the cell, and
 * the run's time. `record` is what the figure cites (`<file>:line N column C`). A figure keeps this when
 * another file later rewrites its line without giving its slot (the monthly file's execution figures, under a
 * line the per-year file rewrites), so each figure cites the cell it was read from, whatever its line cites.
 */
export function amountSource(
  ctx: ImportContext,
  line: number,
  column: string,
  record: string,
): Pick<
  BudgetAmount,
  'sourceRecord' | 'sourceFile' | 'sourceChecksum' | 'sourceLine' | 'sourceColumn' | 'importedAt'
> {
  return {
    sourceRecord: record,
    sourceFile: ctx.file,
    sourceChecksum: ctx.facts.checksum,
    sourceLine: line,
    sourceColumn: column.slice(0, 191),
    importedAt: ctx.importedAt,
  };
}

const BUDGET_COLUMNS = ['id', 'organization_id', 'fiscal_year', 'currency', ...PROVENANCE_COLUMNS] as const;

/** What a run remembers between batches: the budgets it has already checked (each is counted once). */
export interface LineWriterState extends CodeWriterState {
  budgets: Map<string, { currency: string } | { refused: string }>;
  /**
   * The file complements lines that other files describe (the monthly execution files): a line another file
   * stored stays that file's, this one contributes its figures only (contributions.ts).
   */
  contributes: boolean;
  /** Lines another file holds that this file contributed figures to: not missing from it. */
  contributed: Set<string>;
}

export const newWriterState = (contributes = false): LineWriterState => ({
  budgets: new Map(),
  codes: new Map(),
  entries: new Map(),
  contributes,
  contributed: new Set(),
});

/**
 * Makes sure the batch's budgets exist: a missing one is inserted, a stored one is left as it is (a budget
 * holds lines of several files: the per-year, monthly and revenue files of a municipality) unless its
 * organization differs, which is updated. A budget stored in another currency cannot take this file's
 * amounts: the groups of its lines are refused (`state` remembers why).
 */
async function ensureBudgets(
  m: EntityManager,
  groups: readonly LineGroup[],
  w: WriteContext,
  state: LineWriterState,
): Promise<void> {
  const wanted = new Map<string, Budget>();
  for (const g of groups) for (const b of g.budgets) if (!state.budgets.has(b.id)) wanted.set(b.id, b);
  if (!wanted.size) return;
  const ids = [...wanted.keys()];
  const stored = new Map<string, { organizationId: string; currency: string }>();
  for (const part of chunk(ids, 1000)) {
    const rows: { id: string; o: string; c: string }[] = await m.query(
      `SELECT id, organization_id AS o, currency AS c FROM budgets WHERE id IN (${placeholders(part.length)})`,
      part,
    );
    for (const r of rows) stored.set(String(r.id), { organizationId: r.o, currency: r.c });
  }
  const fresh: Budget[] = [];
  const moved: Budget[] = [];
  for (const b of wanted.values()) {
    const s = stored.get(b.id);
    if (!s) fresh.push(b);
    else if (s.currency !== b.currency) {
      state.budgets.set(b.id, {
        refused: `budget ${b.id} is stored in ${s.currency}; this file's amounts are in ${b.currency}`,
      });
      continue;
    } else if (s.organizationId !== b.organizationId) moved.push(b);
    else w.count('budgets', 'unchanged', 1);
    state.budgets.set(b.id, { currency: b.currency });
  }
  const values = (b: Budget) => [b.id, b.organizationId, b.fiscalYear, b.currency, ...provenanceValues(b)];
  await insertRows(m, 'budgets', BUDGET_COLUMNS, fresh.map(values));
  await upsertRows(m, 'budgets', BUDGET_COLUMNS, ['id'], moved.map(values));
  w.count('budgets', 'inserted', fresh.length);
  w.count('budgets', 'updated', moved.length);
}

/**
 * Writes a batch of line groups: new lines inserted with their amounts and search documents; changed lines
 * (content, or the file or line they come from) updated, their amounts in the file's slots replaced and their
 * search documents rebuilt; unchanged lines counted, nothing written. A group a key of which this file
 * already wrote from another line (a duplicate across batches) is refused whole, as is a group whose budget
 * is stored in another currency: a record is never half written.
 */
export async function writeLineGroups(
  m: EntityManager,
  groups: readonly LineGroup[],
  w: WriteContext,
  state: LineWriterState,
): Promise<void> {
  await ensureBudgets(m, groups, w, state);
  const refusedGroups = new Set<LineGroup>();
  const groupOf = new Map<LineWrite, LineGroup>();
  const lines: LineWrite[] = [];
  for (const g of groups) {
    const bad = g.budgets.map((b) => state.budgets.get(b.id)).find((s) => s && 'refused' in s);
    if (bad && 'refused' in bad) {
      const l = g.lines[0]?.line;
      w.refuse([issueFor(w.ctx, l, 'currency', bad.refused)]);
      refusedGroups.add(g);
      continue;
    }
    for (const l of g.lines) {
      lines.push(l);
      groupOf.set(l, g);
    }
  }
  // classify() refuses each line of a duplicate record; the record is refused once.
  const refusing: WriteContext = {
    ...w,
    refuse(issues) {
      const g = issues.length ? groupOfLine(issues[0]) : undefined;
      if (g && refusedGroups.has(g)) return;
      if (g) refusedGroups.add(g);
      w.refuse(issues);
    },
  };
  const byKey = new Map(lines.map((l) => [l.line.id, l]));
  const groupOfLine = (i: ImportIssue) => {
    const l = i.value === null ? undefined : byKey.get(i.value);
    return l ? groupOf.get(l) : undefined;
  };
  const sorted = await classify(
    m,
    refusing,
    'budget_lines',
    'id',
    lines,
    (l) => l.line.id,
    (l) => l.line,
  );
  const keep = (l: LineWrite) => !refusedGroups.has(groupOf.get(l)!);
  const fresh = sorted.fresh.filter(keep);
  const changed = sorted.changed.filter(keep);
  // A file that complements others leaves their lines to them and only contributes figures (contributions.ts).
  const others = state.contributes
    ? await linesOfOtherFiles(
        m,
        w,
        changed.map((l) => l.line.id),
      )
    : new Set<string>();
  for (const id of others) state.contributed.add(id);

  await writeCodes(
    m,
    w,
    state,
    [...fresh, ...changed].filter((l) => !others.has(l.line.id)),
  );
  await insertLines(m, fresh, w, state);
  await updateLines(
    m,
    changed.filter((l) => !others.has(l.line.id)),
    w,
    state,
  );
  await contributeFigures(
    m,
    w,
    changed.filter((l) => others.has(l.line.id)),
    AMOUNT_COLUMNS,
    amountValues,
  );
  // The figures and sums of what this batch wrote, in its transaction (summaries.ts): the changed lines'
  // figures from the table, where other files' amounts may sit beside this one's; new lines had theirs inserted.
  await refreshLineFigures(
    m,
    changed.map((l) => l.line.id),
  );
  // Budgets with changed lines are recomputed; new lines of other budgets are added to their sums.
  const recomputed = new Set(changed.map((l) => l.line.budgetId));
  await refreshSummaries(m, [...recomputed]);
  await addToSummaries(
    m,
    fresh
      .filter((l) => !recomputed.has(l.line.budgetId))
      .map((l) => ({
        id: l.line.id,
        budgetId: l.line.budgetId,
        direction: l.line.direction,
        classification: l.line.classification,
        code: l.line.code,
        amounts: l.amounts,
        dimensions: lineDimensionRows(l.line.id, l.dimensions),
      })),
  );
  w.count('budget_lines', 'unchanged', sorted.unchanged);
  if (sorted.unchanged) {
    const changedOrFresh = new Set([...sorted.fresh, ...sorted.changed]);
    let amounts = 0;
    for (const l of lines) if (!changedOrFresh.has(l) && keep(l)) amounts += l.amounts.length;
    w.count('budget_amounts', 'unchanged', amounts);
  }
}

/** Inserts new lines with their amounts and search documents. */
async function insertLines(
  m: EntityManager,
  fresh: readonly LineWrite[],
  w: WriteContext,
  state: CodeWriterState,
): Promise<void> {
  if (!fresh.length) return;
  await insertRows(m, 'budget_lines', NEW_LINE_COLUMNS, fresh.map(newLineValues));
  const amounts = fresh.flatMap((l) => l.amounts);
  await insertRows(m, 'budget_amounts', AMOUNT_COLUMNS, amounts.map(amountValues));
  await insertDimensions(m, fresh, w, 'inserted');
  await indexDocuments(
    m,
    lineDocuments(
      fresh.map((l) => l.line),
      writtenCodeEntries(state, fresh),
    ),
    { ...LINE_INDEX, fresh: true },
  );
  w.count('budget_lines', 'inserted', fresh.length);
  w.count('budget_amounts', 'inserted', amounts.length);
}

/** Updates changed lines: their amounts in the file's slots replaced, their search documents rebuilt. */
async function updateLines(
  m: EntityManager,
  changed: readonly LineWrite[],
  w: WriteContext,
  state: CodeWriterState,
): Promise<void> {
  if (!changed.length) return;
  await upsertRows(
    m,
    'budget_lines',
    LINE_COLUMNS,
    ['id'],
    changed.map((l) => lineValues(l.line)),
  );
  await deleteSlots(m, changed);
  const amounts = changed.flatMap((l) => l.amounts);
  await insertRows(m, 'budget_amounts', AMOUNT_COLUMNS, amounts.map(amountValues));
  await deleteWhereIn(
    m,
    'budget_line_dimensions',
    'line_id',
    changed.map((l) => l.line.id),
  );
  await insertDimensions(m, changed, w, 'updated');
  await indexDocuments(
    m,
    lineDocuments(
      changed.map((l) => l.line),
      writtenCodeEntries(state, changed),
    ),
    LINE_INDEX,
  );
  w.count('budget_lines', 'updated', changed.length);
  w.count('budget_amounts', 'updated', amounts.length);
}

/** Inserts the dimension rows of lines (none stored for them: new lines, or changed ones once cleared). */
async function insertDimensions(
  m: EntityManager,
  lines: readonly LineWrite[],
  w: WriteContext,
  counted: 'inserted' | 'updated',
) {
  const rows = lines.flatMap((l) => lineDimensionRows(l.line.id, l.dimensions));
  if (!rows.length) return;
  await insertRows(m, 'budget_line_dimensions', DIMENSION_COLUMNS, rows.map(dimensionValues));
  w.count('budget_line_dimensions', counted, rows.length);
}

function issueFor(ctx: ImportContext, l: BudgetLine | undefined, column: string | null, reason: string) {
  const i = ctx.issue(l?.sourceLine ?? null, column, l?.id ?? null, reason);
  return l?.sourceFile ? { ...i, file: l.sourceFile } : i;
}

/** Deletes the amounts of changed lines in the slots their file gives, a statement per 500 lines and layout. */
async function deleteSlots(m: EntityManager, lines: readonly LineWrite[]): Promise<void> {
  const bySlots = new Map<string, { slots: readonly string[]; ids: string[] }>();
  for (const l of lines) {
    const k = l.slots.join('\u0000');
    let e = bySlots.get(k);
    if (!e) bySlots.set(k, (e = { slots: l.slots, ids: [] }));
    e.ids.push(l.line.id);
  }
  const phase = quoteName(m, 'phase');
  const asOf = quoteName(m, 'as_of');
  const measure = quoteName(m, 'measure');
  for (const { slots, ids } of bySlots.values()) {
    if (!slots.length) continue;
    const slotSql = slots.map(() => `(${phase} = ? AND ${asOf} = ? AND ${measure} = ?)`).join(' OR ');
    const slotParams = slots.flatMap((s) => JSON.parse(s) as string[]);
    for (const part of chunk(ids, 500))
      await m.query(
        `DELETE FROM budget_amounts WHERE line_id IN (${placeholders(part.length)}) AND (${slotSql})`,
        [...part, ...slotParams],
      );
  }
}

/** The lines of some budgets (and directions) that the file did not write: what it no longer has. */
export async function missingLines(
  m: EntityManager,
  ctx: ImportContext,
  budgetIds: readonly string[],
  directions: readonly string[],
  contributed: ReadonlySet<string> = new Set(),
): Promise<{ count: number; sample: string[] }> {
  if (!budgetIds.length || !directions.length) return { count: 0, sample: [] };
  const [sql, params] = scopeSql(budgetIds, directions);
  const all = await missingFromFile(m, ctx, 'budget_lines', 'id', sql, params);
  if (!contributed.size || !all.count) return all;
  // The lines this file contributed figures to are another file's, not missing: counted out, chunk by chunk.
  let count = all.count;
  for (const part of chunk([...contributed], 1000)) {
    const [{ n }] = await m.query(
      `SELECT COUNT(*) AS n FROM budget_lines WHERE (${sql}) AND source_checksum <> ? AND id IN (${placeholders(part.length)})`,
      [...params, ctx.facts.checksum, ...part],
    );
    count -= Number(n);
  }
  const sample: string[] = [];
  for await (const ids of missingKeys(m, ctx, 'budget_lines', 'id', sql, params)) {
    sample.push(...ids.filter((id) => !contributed.has(id)));
    if (sample.length >= 10) break;
  }
  return { count, sample: sample.slice(0, 10) };
}

/**
 * Deletes the lines of {@link missingLines} with their amounts, search documents and commitment links (a
 * link to a deleted line would point nowhere). Their budgets stay, even when left without lines.
 */
export async function pruneLines(
  m: EntityManager,
  ctx: ImportContext,
  budgetIds: readonly string[],
  directions: readonly string[],
  w: WriteContext,
  contributed: ReadonlySet<string> = new Set(),
): Promise<void> {
  if (!budgetIds.length || !directions.length) return;
  const [sql, params] = scopeSql(budgetIds, directions);
  let deleted = false;
  for await (const page of missingKeys(m, ctx, 'budget_lines', 'id', sql, params)) {
    const ids = page.filter((id) => !contributed.has(id));
    if (!ids.length) continue;
    const amounts = await countWhereIn(m, 'budget_amounts', 'line_id', ids);
    const links = await countWhereIn(m, 'commitment_budget_lines', 'line_id', ids);
    await deleteWhereIn(m, 'budget_amounts', 'line_id', ids);
    await deleteWhereIn(m, 'budget_line_dimensions', 'line_id', ids);
    await deleteWhereIn(m, 'commitment_budget_lines', 'line_id', ids);
    await deleteWhereIn(m, 'budget_lines', 'id', ids);
    await removeDocuments(m, LINE_SEARCH_TYPE, ids);
    w.count('budget_lines', 'deleted', ids.length);
    w.count('budget_amounts', 'deleted', amounts);
    if (links) w.count('commitment_budget_lines', 'deleted', links);
    deleted = true;
  }
  // The sums of the budgets that lost lines, in the same transaction.
  if (deleted) await refreshSummaries(m, budgetIds);
}

async function countWhereIn(m: EntityManager, table: string, column: string, values: readonly string[]) {
  const [{ n }] = await m.query(
    `SELECT COUNT(*) AS n FROM ${table} WHERE ${column} IN (${placeholders(values.length)})`,
    [...values],
  );
  return Number(n);
}

function scopeSql(budgetIds: readonly string[], directions: readonly string[]): [string, unknown[]] {
  return [
    `budget_id IN (${placeholders(budgetIds.length)}) AND direction IN (${placeholders(directions.length)})`,
    [...budgetIds, ...directions],
  ];
}
