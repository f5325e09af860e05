import type { EntityManager } from 'typeorm';
import { chunk } from '@civic/common/db';
import { quoteName } from '@civic/common/dialect';
import type { WriteContext } from '@civic/common/import/pipeline';
import {
  digest,
  insertRows,
  PROVENANCE_COLUMNS,
  provenanceValues,
  upsertRows,
} from '@civic/common/import/write';
import type { CodeEntry } from '../classifications';
import type { BudgetCode, BudgetLineDimension } from '../entities/Budget';
import type { LineWrite } from './lines';

/*
 * The code dictionary (budget_codes) an import fills from its facts' dimensions: one row per scheme and code,
 * with its level, parent and labels, and the provenance of the first row of the run that gave it. A code the
 * run already wrote is not written again; one given again with other labels keeps the first (a warning names
 * the line). A stored code whose content differs (another import of the scheme) is updated.
 */

export const DIMENSION_COLUMNS = [
  'line_id',
  'dimension',
  'type',
  'is_primary',
  'scheme',
  'code',
  'depth',
  'level_1',
  'level_2',
  'level_3',
  'path',
  'position',
] as const;

export const dimensionValues = (d: BudgetLineDimension): unknown[] => [
  d.lineId,
  d.dimension,
  d.type,
  d.isPrimary,
  d.scheme,
  d.code,
  d.depth,
  d.level1,
  d.level2,
  d.level3,
  d.path,
  d.position,
];

const CODE_COLUMNS = [
  'scheme',
  'code',
  'type',
  'depth',
  'parent_code',
  'label_ar',
  'label_fr',
  'label_en',
  'label_es',
  'label',
  ...PROVENANCE_COLUMNS,
] as const;

const codeValues = (c: BudgetCode): unknown[] => [
  c.scheme,
  c.code,
  c.type,
  c.depth,
  c.parentCode,
  c.labelAr,
  c.labelFr,
  c.labelEn,
  c.labelEs,
  c.label,
  ...provenanceValues(c),
];

/**
 * What a run remembers of the codes it wrote: their content (see {@link contentKey}), and their dictionary
 * entry as the run left it in budget_codes (the first content the run gave), by scheme and code.
 */
export interface CodeWriterState {
  codes: Map<string, string>;
  entries: Map<string, CodeEntry>;
}

const codeKey = (scheme: string, code: string) => `${scheme}\u0000${code}`;

/**
 * The dictionary entry of codes a run wrote, by line (every level of each dimension, in the dimensions'
 * order), from what the run remembers instead of reading budget_codes back: after {@link writeCodes}, a code
 * of the batch is stored with the first content the run gave it (inserted, updated, or found equal), which is
 * what `state.entries` holds. The same map `lineCodeEntries` (../search.ts) reads from the table.
 */
export function writtenCodeEntries(
  state: CodeWriterState,
  lines: readonly LineWrite[],
): Map<string, (CodeEntry | null)[]> {
  return new Map(
    lines.map((l) => [
      l.line.id,
      l.dimensions.flatMap((d) =>
        d.levels.map((level) => state.entries.get(codeKey(d.scheme, level.code)) ?? null),
      ),
    ]),
  );
}

type Dimension = LineWrite['dimensions'][number];
type Level = Dimension['levels'][number];

/**
 * A code's content as one string (its type, level, parent and labels), cheap enough to compare for every level
 * of every line: most lines repeat codes an earlier line gave, and only a new one is digested and written.
 */
const contentKey = (d: Dimension, level: Level, i: number) =>
  [
    d.type,
    i + 1,
    i ? d.levels[i - 1].code : '',
    level.labels?.ar ?? '',
    level.labels?.fr ?? '',
    level.labels?.en ?? '',
    level.labels?.es ?? '',
    level.label ?? '',
  ].join('\u0000');

/** The row of budget_codes for one level of a line's dimension, with the line's provenance. */
function codeRow(l: LineWrite, d: Dimension, level: Level, i: number): BudgetCode {
  const content = {
    scheme: d.scheme,
    code: level.code,
    type: d.type,
    depth: i + 1,
    parentCode: i ? d.levels[i - 1].code : null,
    labelAr: level.labels?.ar ?? null,
    labelFr: level.labels?.fr ?? null,
    labelEn: level.labels?.en ?? null,
    labelEs: level.labels?.es ?? null,
    label: level.label ?? null,
  };
  return {
    ...l.line,
    ...content,
    rowDigest: digest([content, l.line.sourceDataset, l.line.sourceUrl, l.line.sourceLicense]),
    sourceAdjustments: null,
  } as BudgetCode;
}

/** Writes the codes of a batch's lines that this run has not written yet. */
export async function writeCodes(
  m: EntityManager,
  w: WriteContext,
  state: CodeWriterState,
  lines: readonly LineWrite[],
): Promise<void> {
  const wanted = new Map<string, { content: string; row: () => BudgetCode }>();
  for (const l of lines)
    for (const d of l.dimensions)
      d.levels.forEach((level, i) => {
        const k = codeKey(d.scheme, level.code);
        const content = contentKey(d, level, i);
        const seen = state.codes.get(k) ?? wanted.get(k)?.content;
        if (seen === undefined) wanted.set(k, { content, row: () => codeRow(l, d, level, i) });
        else if (seen !== content && !state.codes.has(`${k}\u0000warned`)) {
          state.codes.set(`${k}\u0000warned`, '');
          w.ctx.warn(
            w.ctx.issue(
              l.line.sourceLine,
              null,
              level.code,
              `code ${level.code} of ${d.scheme} is given here with another label or parent than on an earlier line: the first is kept`,
            ),
          );
        }
      });
  if (!wanted.size) return;
  const rows = new Map([...wanted].map(([k, c]) => [k, c.row()]));
  const stored = await storedCodeDigests(m, [...rows.values()]);
  const fresh: BudgetCode[] = [];
  const changed: BudgetCode[] = [];
  for (const [k, c] of rows) {
    state.codes.set(k, wanted.get(k)!.content);
    state.entries.set(k, {
      scheme: c.scheme,
      code: c.code,
      labels: { ar: c.labelAr, fr: c.labelFr, en: c.labelEn, es: c.labelEs },
      sourceLabel: c.label,
    });
    const s = stored.get(k);
    if (s === undefined) fresh.push(c);
    else if (s !== c.rowDigest) changed.push(c);
  }
  await insertRows(m, 'budget_codes', CODE_COLUMNS, fresh.map(codeValues));
  await upsertRows(m, 'budget_codes', CODE_COLUMNS, ['scheme', 'code'], changed.map(codeValues));
  w.count('budget_codes', 'inserted', fresh.length);
  w.count('budget_codes', 'updated', changed.length);
  w.count('budget_codes', 'unchanged', rows.size - fresh.length - changed.length);
}

/** The stored digests of some codes, by scheme and code: one statement per 500 codes of a scheme. */
async function storedCodeDigests(
  m: EntityManager,
  codes: readonly BudgetCode[],
): Promise<Map<string, string>> {
  const byScheme = new Map<string, string[]>();
  for (const c of codes) {
    const list = byScheme.get(c.scheme);
    if (list) list.push(c.code);
    else byScheme.set(c.scheme, [c.code]);
  }
  const out = new Map<string, string>();
  const code = quoteName(m, 'code');
  for (const [scheme, list] of byScheme)
    for (const part of chunk(list, 500)) {
      const rows: { c: string; d: string | null }[] = await m.query(
        `SELECT ${code} AS c, row_digest AS d FROM budget_codes WHERE scheme = ? AND ${code} IN (${part.map(() => '?').join(', ')})`,
        [scheme, ...part],
      );
      for (const r of rows) out.set(codeKey(scheme, String(r.c)), r.d ?? '');
    }
  return out;
}
