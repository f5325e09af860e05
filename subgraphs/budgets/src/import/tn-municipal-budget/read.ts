import { readCsv } from '@civic/common/import/csv';
import type { ImportContext, SourceRow } from '@civic/common/import/pipeline';
import { digest } from '@civic/common/import/write';
import { csvLayout, type Params, type Plan } from './layouts';
import { LABEL_COLUMN, lineCode } from './nomenclature';
import type { RunState } from './validate';

/**
 * Reads a planned file's records. Rows that are not records of their own are left out here (validate returns
 * null only for a refused row): a row repeated cell for cell (the Bou Arada monthly file repeats 15) is
 * merged, with a warning; with --year, a long file's rows of other years are skipped, and counted. After the
 * last row, what was trimmed or skipped is said once.
 */
export async function* readBudgetRows(
  pl: Plan,
  params: Params,
  state: RunState,
  ctx: ImportContext,
): AsyncGenerator<SourceRow<Record<string, string>>> {
  for (const w of pl.warnings) ctx.warn(ctx.issue(null, null, null, w));
  const rows = new Map<string, number>();
  for await (const rec of readCsv(ctx.path, ctx.file, ctx.facts, csvLayout(pl), ctx)) {
    const cells = digest(rec.values).slice(0, 16);
    const first = rows.get(cells);
    if (first !== undefined) {
      warnRepeat(rec.values, rec.line, first, ctx);
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
  warnSummary(state, params, ctx);
}

function warnRepeat(values: Record<string, string>, line: number, first: number, ctx: ImportContext) {
  const code = lineCode(values);
  const what = code.ok ? ` (${code.code})` : '';
  ctx.warn(
    ctx.issue(
      line,
      null,
      code.ok ? code.code : null,
      `repeats line ${first}${what} cell for cell; merged, not counted twice`,
    ),
  );
}

function warnSummary(state: RunState, params: Params, ctx: ImportContext) {
  if (state.trimmed)
    ctx.warn(
      ctx.issue(
        null,
        LABEL_COLUMN,
        null,
        `${state.trimmed} labels had spaces at either end, trimmed (nothing else changed; each line's source.adjustments keeps the cell)`,
      ),
    );
  if (state.otherYears)
    ctx.warn(
      ctx.issue(
        null,
        'Year',
        null,
        `${state.otherYears} rows of other years than --year ${params.year} not loaded`,
      ),
    );
}
