import type { DataSource } from 'typeorm';
import { LANGUAGES, localizedFields, type Language } from '@civic/common/localized';
import {
  entityDocuments,
  parseSearch,
  SEARCH_ARGUMENT,
  searchQuery,
  type ParsedSearch,
  type SearchDocumentInput,
  type SearchSql,
} from '@civic/common/search';
import type { BudgetLine } from './entities/Budget';

/*
 * What this subgraph indexes for full-text search (common/src/search/): the labels of budget lines in every
 * language. Indexing (the seed, the importers, the migration's backfill) and highlighting read the same
 * fields, so a line found by a search always has a highlight.
 */

/** The entity type of budget lines in `search_documents`. */
export const LINE_SEARCH_TYPE = 'BudgetLine';

type LineText = Pick<BudgetLine, 'id' | 'labelAr' | 'labelFr' | 'labelEn' | 'labelEs'>;

/**
 * The searchable text of a line by field: its label in each language (`labelFr`...), in the given language
 * order (then the others), which is the order its highlights come in.
 */
export const lineSearchText = (
  line: LineText,
  languages: readonly Language[] = LANGUAGES,
): Record<string, string | null> => localizedFields(line, 'label', languages);

/** What `indexDocuments` is given for these lines (every label, so a cleared one leaves the index). */
export const lineDocuments = (lines: readonly LineText[]): SearchDocumentInput[] =>
  entityDocuments(LINE_SEARCH_TYPE, lines, (l) => lineSearchText(l));

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
  searchQuery(ds, LINE_SEARCH_TYPE, search);
