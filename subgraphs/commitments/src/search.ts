import type { DataSource, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import type { OrderTerm } from '../../../common/src/ordering';
import {
  entityDocuments,
  highlight,
  parseSearch,
  relevanceOrder,
  searchQuery,
  type ParsedSearch,
  type SearchHighlight,
  type SearchSql,
} from '../../../common/src/search';
import type { ActionPlan } from './entities/ActionPlan';
import type { Commitment } from './entities/Commitment';

/*
 * What this subgraph indexes for full-text search (common/src/search.ts), and how its lists search it.
 * Indexing (the seed, the synthetic generator, the migration's backfill) and highlighting read the same
 * fields, so a commitment found by a search always has a highlight.
 */

/** The entity types of this subgraph in `search_documents`. */
export const COMMITMENT_SEARCH_TYPE = 'Commitment';
export const ACTION_PLAN_SEARCH_TYPE = 'ActionPlan';

/** The alias the search subquery is joined under (its `score` orders by relevance). */
export const SEARCH_ALIAS = 'search';

/**
 * How much a word counts towards relevance by field: titles first, then the theme, then the long
 * description (whose many words would otherwise outweigh a title). Membership does not depend on it.
 */
export const COMMITMENT_SEARCH_WEIGHTS: Readonly<Record<string, number>> = {
  title: 3,
  titleFr: 3,
  titleEn: 3,
  titleAr: 3,
  titleEs: 3,
  shortTitle: 3,
  theme: 2,
  description: 1,
};

type CommitmentText = Pick<
  Commitment,
  'title' | 'titleFr' | 'titleEn' | 'titleAr' | 'titleEs' | 'shortTitle' | 'description' | 'theme'
>;

/**
 * The searchable text of a commitment by field, in highlight order. A title in one language that is the
 * source's title itself (OGP Local: `title` is the French name) is left out, so it neither counts twice
 * towards relevance nor shows twice in the highlights.
 */
export function commitmentSearchText(c: CommitmentText): Record<string, string | null> {
  const other = (t: string | null) => (t && t !== c.title ? t : null);
  return {
    title: c.title,
    titleFr: other(c.titleFr),
    titleEn: other(c.titleEn),
    titleAr: other(c.titleAr),
    titleEs: other(c.titleEs),
    shortTitle: c.shortTitle,
    description: c.description,
    theme: c.theme,
  };
}

/** The searchable text of an action plan: its member's name as the source writes it. */
export function actionPlanSearchText(p: Pick<ActionPlan, 'memberName'>): Record<string, string | null> {
  return { memberName: p.memberName };
}

/** What `indexDocuments` is given for these commitments (every field, so a cleared one leaves the index). */
export const commitmentDocuments = (rows: readonly (CommitmentText & { id: string })[]) =>
  entityDocuments(COMMITMENT_SEARCH_TYPE, rows, commitmentSearchText);

/** What `indexDocuments` is given for these action plans. */
export const actionPlanDocuments = (rows: readonly Pick<ActionPlan, 'id' | 'memberName'>[]) =>
  entityDocuments(ACTION_PLAN_SEARCH_TYPE, rows, actionPlanSearchText);

/** A list's search, ready to join: parsed once, so the page, its count and its highlights agree. */
export interface ListSearch {
  sql: SearchSql;
  parsed: ParsedSearch;
}

/**
 * Reads a `filter.search` argument (null when absent); bad text is BAD_USER_INPUT naming `filter.search`.
 * Parsing is the same for every backend; only the SQL differs.
 */
export function listSearch(
  ds: DataSource,
  entityType: string,
  text: string | null | undefined,
  weights?: Readonly<Record<string, number>>,
): ListSearch | null {
  if (text == null) return null;
  const parsed = parseSearch(text, { argument: 'filter.search' });
  return { parsed, sql: searchQuery(ds, entityType, parsed, { weights }) };
}

/** Keeps only the rows the search finds: an inner join on the search subquery, under {@link SEARCH_ALIAS}. */
export function joinSearch<T extends ObjectLiteral>(
  qb: SelectQueryBuilder<T>,
  search: ListSearch,
): SelectQueryBuilder<T> {
  return qb.innerJoin(
    `(${search.sql.sql})`,
    SEARCH_ALIAS,
    `${SEARCH_ALIAS}.entity_id = ${qb.alias}.id`,
    search.sql.parameters,
  );
}

/**
 * "Most relevant first" for a list joined to `search`, scored by `scores`. The searched terms are part of the
 * ordering's name, which goes into every cursor: a cursor of one search is refused by another (its scores
 * would mean nothing there).
 */
export function relevance<T extends ObjectLiteral & { id: string }>(
  search: ListSearch,
  scores: ReadonlyMap<string, number>,
): OrderTerm<T> {
  const terms = search.parsed.terms.map((t) => `${t.text}${t.prefix ? '*' : ''}`).join(' ');
  return { ...relevanceOrder<T>(SEARCH_ALIAS, scores), field: `RELEVANCE(${terms})` };
}

/**
 * The search each node of a list was found by, so its `searchHighlights` can be computed without SQL. Keyed
 * by the row objects a list query returned for one request (each query builds its own), so nothing outlives
 * the request or reaches another; a node loaded any other way has no entry and no highlights.
 */
const foundBy = new WeakMap<object, ParsedSearch>();

/** Remembers that these nodes were found by this search. */
export function rememberSearch(nodes: readonly object[], search: ListSearch | null): void {
  if (search) for (const n of nodes) foundBy.set(n, search.parsed);
}

/** Why a node matched the search it was found by; [] for a node not found by a search. */
export function searchHighlights(
  node: object,
  text: Readonly<Record<string, string | null>>,
): SearchHighlight[] {
  const search = foundBy.get(node);
  return search ? highlight(text, search) : [];
}
