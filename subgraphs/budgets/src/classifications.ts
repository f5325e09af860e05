import DataLoader from 'dataloader';
import type { DataSource, EntityManager } from 'typeorm';
import { chunk } from '@civic/common/db';
import { quoteName } from '@civic/common/dialect';
import { bestText, type Language, type LocalizedText } from '@civic/common/localized';
import type { BudgetLine, BudgetLineDimension } from './entities/Budget';
import { PATH_SEPARATOR } from './facts';

/*
 * Reading a line's classifications (its rows of budget_line_dimensions) and their codes' labels (budget_codes),
 * for `BudgetLine.classifications`, the summaries' classification keys and the highlights of a line found by
 * a classification label. What the resolvers receive: {@link ClassificationModel} and {@link CodeModel}.
 */

/** A code of a scheme, as the dictionary loader is asked for it. */
export interface CodeRef {
  scheme: string;
  code: string;
}

/** What the dictionary holds for a code: its labels (by language, and one in a language not named). */
export interface CodeEntry extends CodeRef {
  labels: LocalizedText;
  /** A label in a language the source does not name. */
  sourceLabel: string | null;
}

/** `BudgetClassification`'s parent: one dimension row of a line, with the line (its labels are a fallback). */
export interface ClassificationModel {
  line: BudgetLine;
  row: BudgetLineDimension;
}

/** `BudgetCode`'s parent: a code, its level and what the dictionary holds for it (null: nothing). */
export interface CodeModel extends CodeRef {
  level: number;
  entry: CodeEntry | null;
}

/** The key of a code in maps and loader caches (a code never holds U+0000). */
export const codeKey = (r: CodeRef) => `${r.scheme}\u0000${r.code}`;

/** The codes of a dimension row's levels, the top first: its path between separators. */
export const pathCodes = (row: Pick<BudgetLineDimension, 'path'>): string[] =>
  row.path.split(PATH_SEPARATOR).filter((c) => c !== '');

/** Whether a dictionary entry has any label at all. */
export const hasLabel = (e: CodeEntry | null): e is CodeEntry =>
  e !== null && (e.sourceLabel !== null || Object.values(e.labels).some((v) => v !== null));

/** A label for people: the first language of `order` with a label, else the label of no named language. */
export const chooseLabel = (
  labels: LocalizedText,
  sourceLabel: string | null,
  order: readonly Language[],
): string | null => bestText(labels, order) ?? sourceLabel;

const NO_LABELS: LocalizedText = { ar: null, fr: null, en: null, es: null };

/** A code's labels as GraphQL shows them (every language, null where none). */
export const entryLabels = (e: CodeEntry | null): LocalizedText => e?.labels ?? NO_LABELS;

/**
 * The labels of a line's classification: its code's in the dictionary, except for the line's own code in its
 * own classification when the dictionary has no label for it (Tunisian files label lines, not codes): then
 * the line's labels.
 */
export function classificationLabels(
  m: ClassificationModel,
  entry: CodeEntry | null,
): { labels: LocalizedText; sourceLabel: string | null } {
  const own = m.row.scheme === m.line.classification && m.row.code === m.line.code;
  if (own && !hasLabel(entry)) {
    const l = m.line;
    return { labels: { ar: l.labelAr, fr: l.labelFr, en: l.labelEn, es: l.labelEs }, sourceLabel: null };
  }
  return { labels: entryLabels(entry), sourceLabel: entry?.sourceLabel ?? null };
}

type Raw = Record<string, string | number | null>;
const text = (v: string | number | null | undefined) => (v == null ? null : String(v));

/**
 * The most codes one statement of {@link loadCodes} asks for. Each code is a term of one chain of ORs, which
 * SQLite parses into a tree as deep as the chain is long; past its limit of 1,000 it refuses the statement
 * ("Expression tree is too large").
 */
const CODES_PER_STATEMENT = 500;

/**
 * The dictionary entries of some codes, in one statement per {@link CODES_PER_STATEMENT} codes
 * (`(scheme = ? AND code = ?) OR ...`, each served by the primary key); in key order, null for a code the
 * dictionary does not hold.
 */
export async function loadCodes(
  source: DataSource | EntityManager,
  refs: readonly CodeRef[],
): Promise<(CodeEntry | null)[]> {
  const code = quoteName(source, 'code');
  const byKey = new Map<string, CodeEntry>();
  for (const part of chunk(refs, CODES_PER_STATEMENT)) {
    const rows: Raw[] = await source.query(
      `SELECT scheme, ${code} AS code, label_ar, label_fr, label_en, label_es, label FROM budget_codes
       WHERE ${part.map(() => `(scheme = ? AND ${code} = ?)`).join(' OR ')}`,
      part.flatMap((r) => [r.scheme, r.code]),
    );
    for (const r of rows) {
      const e: CodeEntry = {
        scheme: String(r.scheme),
        code: String(r.code),
        labels: { ar: text(r.label_ar), fr: text(r.label_fr), en: text(r.label_en), es: text(r.label_es) },
        sourceLabel: text(r.label),
      };
      byKey.set(codeKey(e), e);
    }
  }
  return refs.map((r) => byKey.get(codeKey(r)) ?? null);
}

/** Per request: the dictionary entries of codes, one statement per batch (of up to 500 codes). */
export const codeLoader = (ds: DataSource): DataLoader<CodeRef, CodeEntry | null, string> =>
  new DataLoader((refs) => loadCodes(ds, refs), {
    name: 'codeByKey',
    maxBatchSize: CODES_PER_STATEMENT,
    cacheKeyFn: codeKey,
  });

/** The codes of a line's dimension rows, every level of each, in the rows' order: what its labels are read for. */
export const rowCodes = (rows: readonly BudgetLineDimension[]): CodeRef[] =>
  rows.flatMap((r) => pathCodes(r).map((code) => ({ scheme: r.scheme, code })));
