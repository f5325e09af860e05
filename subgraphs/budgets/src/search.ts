import type { DataSource } from 'typeorm';
import { localizedFields, type Language } from '../../../common/src/localized';
import {
  entityDocuments,
  highlight,
  parseSearch,
  searchQuery,
  type ParsedSearch,
  type SearchDocumentInput,
  type SearchHighlight,
  type SearchSql,
} from '../../../common/src/search';
import type { BudgetLine } from './entities/Budget';

/*
 * What this subgraph indexes for full-text search (common/src/search.ts): the labels of budget lines in every
 * language. Indexing (the seed, the synthetic generator, the migration's backfill) and highlighting read the
 * same fields, so a line found by a search always has a highlight.
 */

/** The entity type of budget lines in `search_documents`. */
export const LINE_SEARCH_TYPE = 'BudgetLine';

/** The alias the search subquery is joined under (its `score` orders by relevance). */
export const SEARCH_ALIAS = 'search';

type LineText = Pick<BudgetLine, 'id' | 'labelAr' | 'labelFr' | 'labelEn' | 'labelEs'>;

/** What `indexDocuments` is given for these lines (every label, so a cleared one leaves the index). */
export const lineDocuments = (lines: readonly LineText[]): SearchDocumentInput[] =>
  entityDocuments(LINE_SEARCH_TYPE, lines, (l) => localizedFields(l, 'label'));

/**
 * Reads a `filter.search` argument (null when absent): the terms every backend searches, as plain JSON so
 * equal searches batch together. Bad text is BAD_USER_INPUT naming `filter.search`; runs no statement.
 */
export function parseLineSearch(text: string | null | undefined): ParsedSearch | null {
  return text == null ? null : parseSearch(text, { argument: 'filter.search' });
}

/** The search as a subquery yielding `entity_id` (a line id) and `score`, for this backend. */
export const lineSearchSql = (ds: DataSource, search: ParsedSearch): SearchSql =>
  searchQuery(ds, LINE_SEARCH_TYPE, search);

/**
 * The name of the "most relevant first" ordering of one search. It goes into every cursor: a cursor of one
 * search is refused by another, whose scores would mean nothing for it.
 */
export const relevanceField = (search: ParsedSearch): string =>
  `RELEVANCE(${search.terms.map((t) => `${t.text}${t.prefix ? '*' : ''}`).join(' ')})`;

/** Where a line found by a search keeps that search, for its `searchHighlights`. */
const FOUND_BY = Symbol('foundBy');

/** A line as a searched list returns it: a copy carrying the search that found it. */
type FoundLine = BudgetLine & { [FOUND_BY]?: ParsedSearch };

/**
 * The nodes of a searched list, each a copy that carries the search that found it (the rows themselves may
 * be shared through a request's `lineById` cache with lists that were not searched, or searched otherwise).
 * Without a search, the nodes as they are.
 */
export function markFound(lines: readonly BudgetLine[], search: ParsedSearch | null): BudgetLine[] {
  if (!search) return [...lines];
  return lines.map((l): FoundLine => ({ ...l, [FOUND_BY]: search }));
}

/**
 * Why a line matched the search it was found by: one entry per label holding a searched word, in the
 * request's language order. [] for a line not found by a search. Computed from the row: no statement.
 */
export function lineHighlights(line: BudgetLine, languages: readonly Language[]): SearchHighlight[] {
  const search = (line as FoundLine)[FOUND_BY];
  if (!search) return [];
  // Every language is listed, the request's first: a label in a language it left out still explains the match.
  return highlight(localizedFields(line, 'label', languages), search);
}
