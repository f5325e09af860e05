import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import type { Queryable } from '../dialect';
import {
  decodeOrderedCursor,
  encodeOrderedCursor,
  orderedConnection,
  orderSignature,
  type OrderTerm,
} from '../ordering';
import { notOurCursor, toPage, type Connection, type PageArgs } from '../pagination';
import { withFoundBy } from './found';
import type { ParsedSearch } from './query';
import { relevanceOrder, searchQuery, searchScores, type SearchQueryOptions, type SearchSql } from './sql';

/*
 * The searchable, ordered root list, the same in every subgraph: a filtered query, an optional `filter.search`
 * and an optional `orderBy`. Searched without an order, it is most relevant first. Written once so every
 * list names its relevance order alike (a cursor of one search is refused by another), spends nothing on
 * scores for `first: 0`, and hands out nodes that remember their search for `searchHighlights`.
 */

/** The alias the search subquery is joined under: `search.entity_id`, `search.score`. */
export const SEARCH_ALIAS = 'search';

/** The argument a list's search text comes in. */
export const SEARCH_ARGUMENT = 'filter.search';

/**
 * Reads a list's `filter.search` (text, or terms already parsed) into its SQL for this backend; null when
 * absent. Bad text is BAD_USER_INPUT naming `filter.search`; runs no statement.
 */
export function listSearch(
  source: Queryable,
  entityType: string,
  search: string | ParsedSearch | null | undefined,
  options: Omit<SearchQueryOptions, 'argument'> = {},
): SearchSql | null {
  if (search == null) return null;
  return searchQuery(source, entityType, search, { ...options, argument: SEARCH_ARGUMENT });
}

/** Keeps only the rows the search finds: an inner join on the search subquery, under {@link SEARCH_ALIAS}. */
export function joinSearch<T extends ObjectLiteral>(
  qb: SelectQueryBuilder<T>,
  search: SearchSql,
): SelectQueryBuilder<T> {
  return qb.innerJoin(
    `(${search.sql})`,
    SEARCH_ALIAS,
    `${SEARCH_ALIAS}.entity_id = ${qb.alias}.id`,
    search.parameters,
  );
}

/**
 * The name of the "most relevant first" order of one search, `RELEVANCE(<terms>)`. It goes into every cursor,
 * so a cursor of one search is refused by another (its scores would mean nothing there).
 */
export function relevanceField(search: ParsedSearch): string {
  return `RELEVANCE(${search.terms.map((t) => `${t.text}${t.prefix ? '*' : ''}`).join(' ')})`;
}

/** "Most relevant first" for a list joined to its search under {@link SEARCH_ALIAS}, scored by `scores`. */
export function relevanceTerm<T extends ObjectLiteral & { id: string }>(
  search: ParsedSearch,
  scores: ReadonlyMap<string, number>,
): OrderTerm<T> {
  return { ...relevanceOrder<T>(SEARCH_ALIAS, scores), field: relevanceField(search) };
}

/** The cursor signature of a relevance order, exactly as {@link orderedConnection} writes it. */
const relevanceSignature = (search: ParsedSearch) =>
  orderSignature([{ field: relevanceField(search), direction: 'DESC' }]);

/** Where a page in relevance order starts: after this score (most relevant first) and id. */
export interface RelevanceAfter {
  score: number;
  id: string;
}

/**
 * Reads the `after` cursor of a list in relevance order; refuses (BAD_USER_INPUT naming `after`) a cursor of
 * another search, of another order, or one tampered with. For lists paged outside
 * {@link searchableConnection} (a batched child list), so they accept exactly the cursors a root list does.
 */
export function decodeRelevanceCursor(after: string, search: ParsedSearch): RelevanceAfter {
  const [score, id] = decodeOrderedCursor(after, relevanceSignature(search), 2);
  if (typeof score !== 'number' || typeof id !== 'string') {
    throw notOurCursor(after);
  }
  return { score, id };
}

/** The cursor of a row of a list in relevance order (see {@link decodeRelevanceCursor}). */
export function encodeRelevanceCursor(search: ParsedSearch, score: number, id: string): string {
  return encodeOrderedCursor(relevanceSignature(search), [score, id]);
}

/**
 * A root list that can be searched and ordered, the one way every subgraph pages one. `qb` is the filtered
 * query WITHOUT the search: it is joined here. In the order asked (`terms`); with none, most relevant first
 * when searching, else id order. Arguments (`first`, and `after` against the order) are checked before any
 * statement; the scores (one statement, whatever the page size, for the cursors) are skipped when no row is
 * asked (`first: 0`); the nodes are copies that remember the search, for `searchHighlights`.
 */
export async function searchableConnection<T extends ObjectLiteral & { id: string }>(
  qb: SelectQueryBuilder<T>,
  args: PageArgs,
  terms: readonly OrderTerm<T>[],
  search: SearchSql | null,
): Promise<Connection<T>> {
  const { first } = toPage({ first: args.first });
  if (!search) return orderedConnection(qb, args, terms);
  joinSearch(qb, search);
  if (terms.length) return withFoundBy(await orderedConnection(qb, args, terms), search.search);
  if (args.after) decodeRelevanceCursor(args.after, search.search);
  const scores = first > 0 ? await searchScores(qb.connection.manager, search) : new Map<string, number>();
  const connection = await orderedConnection(qb, args, [relevanceTerm<T>(search.search, scores)]);
  return withFoundBy(connection, search.search);
}
