import type { DataSource, EntityManager } from 'typeorm';
import { LANGUAGES, localizedFields, localizedProperty, type Language } from '@civic/common/localized';
import {
  entityDocuments,
  indexTerms,
  parseSearch,
  SEARCH_ARGUMENT,
  searchQuery,
  type ParsedSearch,
  type SearchDocumentInput,
  type SearchSql,
} from '@civic/common/search';
import { codeKey, loadCodes, type CodeEntry, type CodeRef } from './classifications';
import type { BudgetLine } from './entities/Budget';
import type { FactDimension } from './facts';

/*
 * What this subgraph indexes for full-text search (common/src/search/): the labels of budget lines in every
 * language, and the labels of their classifications' codes (every level of every dimension, from the code
 * dictionary when the line is written). Indexing (the seed, the importers, the migration's backfill) and
 * highlighting read the same fields, so a line found by a search always has a highlight. A code's labels
 * changed later (another import of its scheme) reach a line's document when the line is next written.
 * A line is indexed as one document (its `all` row: {@link LINE_INDEX}), not one per field plus one, and
 * ranked by it ({@link lineSearchSql}): a quarter of the rows an import writes into the FULLTEXT index, for
 * the same matches and nearly the same order (docs/performance.md, Imports, and
 * test/bench/line-search-relevance.bench.ts).
 */

/** The entity type of budget lines in `search_documents`. */
export const LINE_SEARCH_TYPE = 'BudgetLine';

/** How lines are indexed (`indexDocuments`' options): their `all` row only, which ranks them. */
export const LINE_INDEX = { perField: false } as const;

type LineText = Pick<BudgetLine, 'id' | 'labelAr' | 'labelFr' | 'labelEn' | 'labelEs'>;

/**
 * The searchable text of a line by field: its label in each language (`labelFr`...), in the given language
 * order (then the others), which is the order its highlights come in.
 */
export const lineSearchText = (
  line: LineText,
  languages: readonly Language[] = LANGUAGES,
): Record<string, string | null> => localizedFields(line, 'label', languages);

/** The field of a line's classification labels in one language: `classificationLabelFr`... */
const classificationField = (lang: Language) => localizedProperty('classificationLabel', lang);
/** The field of a line's classification labels in no named language. */
const CLASSIFICATION_SOURCE_FIELD = 'classificationSourceLabel';

/**
 * The searchable text of a line's classification labels by field, from the dictionary entries of its codes
 * (every level of every dimension, in the order of its dimensions, top level first): per language
 * (`classificationLabelAr`...) in the given language order, then `classificationSourceLabel`; each the
 * distinct labels joined by " ; ". Null fields where there are none.
 */
export function classificationSearchText(
  entries: readonly (CodeEntry | null)[],
  languages: readonly Language[] = LANGUAGES,
): Record<string, string | null> {
  const join = (labels: (string | null | undefined)[]) => {
    const distinct = [...new Set(labels.filter((t): t is string => !!t))];
    return distinct.length ? distinct.join(' ; ') : null;
  };
  const out: Record<string, string | null> = {};
  for (const lang of new Set([...languages, ...LANGUAGES]))
    out[classificationField(lang)] = join(entries.map((e) => e?.labels[lang]));
  out[CLASSIFICATION_SOURCE_FIELD] = join(entries.map((e) => e?.sourceLabel));
  return out;
}

/**
 * What `indexDocuments` is given for these lines (every label, so a cleared one leaves the index): their own
 * labels, and their classification labels when `codes` gives the dictionary entries of a line's codes
 * ({@link lineCodeEntries}; none for lines written without: the synthetic data, whose codes have no labels).
 */
export const lineDocuments = (
  lines: readonly LineText[],
  codes: ReadonlyMap<string, readonly (CodeEntry | null)[]> = new Map(),
): SearchDocumentInput[] =>
  entityDocuments(LINE_SEARCH_TYPE, lines, (l) => ({
    ...lineSearchText(l),
    ...classificationSearchText(codes.get(l.id) ?? []),
  }));

/**
 * The dictionary entries of the codes of lines' dimensions, by line (every level of each dimension, in the
 * dimensions' order): what {@link lineDocuments} indexes. Read after the lines' codes are written, in the
 * writer's transaction: one statement per 1,000 distinct codes of the batch.
 */
export async function lineCodeEntries(
  m: EntityManager,
  lines: readonly { id: string; dimensions: readonly FactDimension[] }[],
): Promise<Map<string, (CodeEntry | null)[]>> {
  const refsOf = (dims: readonly FactDimension[]): CodeRef[] =>
    dims.flatMap((d) => d.levels.map((level) => ({ scheme: d.scheme, code: level.code })));
  const distinct = new Map<string, CodeRef>();
  for (const l of lines) for (const r of refsOf(l.dimensions)) distinct.set(codeKey(r), r);
  const refs = [...distinct.values()];
  const entries = await loadCodes(m, refs);
  const byKey = new Map(refs.map((r, i) => [codeKey(r), entries[i]]));
  return new Map(lines.map((l) => [l.id, refsOf(l.dimensions).map((r) => byKey.get(codeKey(r)) ?? null)]));
}

/**
 * Whether some texts hold every term of a search (the last one as a prefix when the search says so), folded
 * as the index folds them: a line whose own labels do, matched by them, and its highlights need not read
 * its classification labels.
 */
export function holdsEveryTerm(text: Readonly<Record<string, string | null>>, search: ParsedSearch): boolean {
  const terms = new Set(Object.values(text).flatMap((t) => (t ? indexTerms(t) : [])));
  return search.terms.every((t) =>
    t.prefix ? [...terms].some((term) => term.startsWith(t.text)) : terms.has(t.text),
  );
}

/**
 * Reads a `filter.search` argument (null when absent): the terms every backend searches, as plain JSON so
 * equal searches batch together as DataLoader variants. Bad text is BAD_USER_INPUT naming `filter.search`;
 * runs no statement.
 */
export function parseLineSearch(text: string | null | undefined): ParsedSearch | null {
  return text == null ? null : parseSearch(text, { argument: SEARCH_ARGUMENT });
}

/** The search as a subquery yielding `entity_id` (a line id) and `score`, for this backend. */
export const lineSearchSql = (ds: DataSource, search: ParsedSearch): SearchSql =>
  searchQuery(ds, LINE_SEARCH_TYPE, search, LINE_INDEX);
