import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { isMysql, type Queryable } from '../dialect';
import { badInput } from '../errors';
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
import {
  relevanceOrder,
  searchCount,
  searchFindsMoreThan,
  searchQuery,
  searchScores,
  type SearchQueryOptions,
  type SearchSql,
} from './sql';

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

/**
 * Keeps only the rows the search finds, without scores: `id IN (…)` over the all-words match. For a list in
 * another order than relevance, and for counts: the same rows as {@link joinSearch}, for less.
 */
export function whereSearch<T extends ObjectLiteral>(
  qb: SelectQueryBuilder<T>,
  search: SearchSql,
): SelectQueryBuilder<T> {
  // MariaDB: a join on the derived match (the full-text search runs once, then each match is joined by
  // primary key), as the scored search always was; `IN` may be run as a dependent subquery that redoes the
  // full-text search for every row of the list. SQLite reads the `IN` list once.
  if (isMysql(qb.connection))
    return qb.innerJoin(
      `(${search.matchSql})`,
      MATCH_ALIAS,
      `${MATCH_ALIAS}.entity_id = ${qb.alias}.id`,
      search.parameters,
    );
  return qb.andWhere(`${qb.alias}.id IN (${search.matchSql})`, search.parameters);
}

/** The alias {@link whereSearch} joins the match under on MySQL. */
const MATCH_ALIAS = 'search_match';

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

/**
 * The cursor signature of a search that finds too many entities to rank (more than the rank limit, see
 * {@link searchableConnection}), listed in id order: `MATCHES(<terms>):ASC`. A cursor says which of the two
 * orders it was made in, and the next page follows that order.
 */
const commonSignature = (search: ParsedSearch) =>
  orderSignature([
    {
      field: `MATCHES(${search.terms.map((t) => `${t.text}${t.prefix ? '*' : ''}`).join(' ')})`,
      direction: 'ASC',
    },
  ]);

/**
 * How many entities a search may find and still be ranked (most relevant first). Above it the search is
 * "common": its matches are listed in id order, because ranking means scoring every match (every field row
 * of every matching entity) on every page, which grows with the matches: a word in 200,000 budget lines took
 * seconds. The set found is the same either way.
 */
export const RANK_LIMIT = 10000;

const RANKED_NO_MORE =
  'Argument "after" is a cursor of a search ranked by relevance, but the search now finds too many matches to ' +
  'rank (they are listed in id order): ask for the first page again, without "after"';

/** Options of {@link searchableConnection}. */
export interface SearchableOptions {
  /** Default {@link RANK_LIMIT}. */
  rankLimit?: number;
}

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
 * Which order a searched list without `orderBy` is in, from its `after` cursor: the order the cursor was made
 * in ('ranked' or 'common'); null without a cursor. A cursor of another search or order is refused
 * (BAD_USER_INPUT naming `after`), as is one tampered with.
 */
function cursorMode(after: string | null | undefined, search: ParsedSearch): 'ranked' | 'common' | null {
  if (!after) return null;
  try {
    decodeRelevanceCursor(after, search);
    return 'ranked';
  } catch (ranked) {
    try {
      decodeCommonCursor(after, search);
      return 'common';
    } catch {
      throw ranked;
    }
  }
}

/** The id after which a page of a common search starts (see {@link commonSignature}). */
function decodeCommonCursor(after: string, search: ParsedSearch): string {
  const [id] = decodeOrderedCursor(after, commonSignature(search), 1);
  if (typeof id !== 'string') throw notOurCursor(after);
  return id;
}

/** Whether a list's query keeps every row of its table: no condition, no join. */
const unfiltered = (qb: SelectQueryBuilder<ObjectLiteral>) =>
  qb.expressionMap.wheres.length === 0 && qb.expressionMap.joinAttributes.length === 0;

/**
 * The exact number of rows of the list `qb` (without the search) that the search finds. A list of every row
 * of its table: the number of entities the search finds, from the index alone ({@link searchCount}: on
 * SQLite from FTS5 doclists, no row read). With another condition: the rows it keeps that match, counted
 * by membership (`id IN` the match, no score), which reads every match.
 */
function searchTotal<T extends ObjectLiteral>(qb: SelectQueryBuilder<T>, search: SearchSql): Promise<number> {
  if (unfiltered(qb)) return searchCount(qb.connection.manager, search);
  return whereSearch(qb.clone(), search).getCount();
}

/**
 * A page of a common search: the matches in id order, keyset on id. Without another filter on the list
 * (`qb` has no condition), the lines are walked in id order and each tested by primary key
 * ({@link SearchSql.matchesId}): with more than `rankLimit` matches among all entities, a page of `first`
 * reads about `(first + 1) × entities / rankLimit` rows at most on average, whatever the number of matches.
 * With another filter the matches may be sparse among the rows it keeps, so the match set is read once
 * (`IN`, no score) and joined. The count is exact: every match, no score.
 */
async function commonConnection<T extends ObjectLiteral & { id: string }>(
  qb: SelectQueryBuilder<T>,
  args: PageArgs,
  search: SearchSql,
): Promise<Connection<T>> {
  const page = toPage({ first: args.first });
  const sig = commonSignature(search.search);
  const afterId = args.after ? decodeCommonCursor(args.after, search.search) : null;
  const filtered = qb.expressionMap.wheres.length > 0;
  const q = qb.clone();
  if (filtered) whereSearch(q, search);
  else q.andWhere(search.matchesId(`${q.alias}.id`), search.parameters);
  if (afterId !== null) q.andWhere(`${q.alias}.id > :search_after_id`, { search_after_id: afterId });
  q.orderBy(`${q.alias}.id`, 'ASC').limit(page.first + 1);
  const rows = page.first ? await q.getMany() : [];
  const nodes = rows.slice(0, page.first);
  const edges = nodes.map((node) => ({ cursor: encodeOrderedCursor(sig, [node.id]), node }));
  return {
    totalCount: () => searchTotal(qb, search),
    edges,
    nodes,
    pageInfo: {
      hasNextPage: rows.length > page.first,
      endCursor: edges.length ? edges[edges.length - 1].cursor : null,
    },
  };
}

/**
 * A root list that can be searched and ordered, the one way every subgraph pages one. `qb` is the filtered
 * query WITHOUT the search: it is added here. In the order asked (`terms`; the search is then a membership
 * test, no score); with none, when searching, most relevant first if the search finds at most `rankLimit`
 * entities (a probe reads at most `rankLimit + 1` of them), else (a common word) in id order; without a
 * search, id order. The set of nodes and `totalCount` (exact, every match) are the same in both orders; a
 * cursor carries its order, and the next page keeps it. Arguments (`first`, and `after` against the order)
 * are checked before any statement; nothing is probed or scored when no row is asked (`first: 0`); the nodes
 * are copies that remember the search, for `searchHighlights`.
 */
export async function searchableConnection<T extends ObjectLiteral & { id: string }>(
  qb: SelectQueryBuilder<T>,
  args: PageArgs,
  terms: readonly OrderTerm<T>[],
  search: SearchSql | null,
  options: SearchableOptions = {},
): Promise<Connection<T>> {
  const { first } = toPage({ first: args.first });
  if (!search) return orderedConnection(qb, args, terms);
  if (terms.length)
    return withFoundBy(await orderedConnection(whereSearch(qb, search), args, terms), search.search);
  const rankLimit = options.rankLimit ?? RANK_LIMIT;
  let mode = cursorMode(args.after, search.search);
  if (mode !== 'common' && first > 0) {
    const common = await searchFindsMoreThan(qb.connection.manager, search, rankLimit);
    // A ranked cursor of a search that has since become common (rows were written): ranking it now would
    // score every match, so the list starts again in id order, from its first page.
    if (common && mode === 'ranked') throw badInput(RANKED_NO_MORE, 'after');
    mode = common ? 'common' : 'ranked';
  }
  if (mode === 'common') return withFoundBy(await commonConnection(qb, args, search), search.search);
  // Ranked: at most rankLimit matches (or a cursor of a ranked page), scored for the cursors and the order.
  const count = qb.clone();
  joinSearch(qb, search);
  const scores = first > 0 ? await searchScores(qb.connection.manager, search) : new Map<string, number>();
  const connection = await orderedConnection(qb, args, [relevanceTerm<T>(search.search, scores)]);
  return withFoundBy({ ...connection, totalCount: () => searchTotal(count, search) }, search.search);
}
