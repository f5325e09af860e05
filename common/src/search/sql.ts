import type { EntityManager, ObjectLiteral } from 'typeorm';
import { isMysql, type Queryable } from '../dialect';
import type { OrderTerm } from '../ordering';
import { parseSearch, type ParsedSearch, type SearchOptions } from './query';
import { ALL_FIELDS, SEARCH_FTS_TABLE, SEARCH_TABLE } from './schema';

/*
 * A parsed search as SQL for the backend at hand (InnoDB FULLTEXT or FTS5), its scores, and its relevance
 * order. The two backends find the same entities; only the scores differ.
 */

/** Scores are whole numbers (the backend's relevance × 10⁶, rounded), so cursors compare them exactly. */
const SCORE_SCALE = 1000000;

export interface SearchQueryOptions extends SearchOptions {
  /**
   * How much a match in a field counts towards the score, by field name (default 1); e.g. `{ title: 3 }`
   * ranks a word in the title above the same word in a description. Membership does not depend on it.
   */
  weights?: Readonly<Record<string, number>>;
  /** Prefix of the parameter and CTE names, for two searches in one statement; default `search`. */
  name?: string;
  /**
   * Default true: the score is the weighted sum of the per-field matches. False, for an entity type indexed
   * with `indexDocuments(…, { perField: false })` (its `all` row only): the score is the relevance of the
   * all-words match on the `all` row (InnoDB relevance or FTS5 bm25); no `weights`. Membership is the same.
   */
  perField?: boolean;
}

/** A search as SQL: a subquery yielding `entity_id` and `score` (higher is more relevant), one row each. */
export interface SearchSql {
  /** `SELECT entity_id, score …`, with TypeORM named parameters (`:search_all`…): wrap it in parentheses. */
  sql: string;
  /**
   * The same entities without scores: `SELECT entity_id …` from the all-words match on the `all` rows alone
   * (the per-field rows, which only rank, are not read), with the same parameters. For membership (`IN`) and
   * counts, which need no score.
   */
  matchSql: string;
  /**
   * The same membership as a condition on one entity id (an SQL expression, e.g. `o.id`): the entity's `all`
   * row looked up by primary key and tested against the search (SQLite: its rowid among the rowids FTS5
   * matches; MySQL: `MATCH` as a filter in a scalar subquery). Cheap per row, so a list walked in id order
   * stops after its page when matches are dense (a common word); never to be used to scan a large table for
   * rare matches.
   */
  matchesId: (id: string) => string;
  /** For `qb.setParameters(…)`; or `driver.escapeQueryWithParameters` for a raw query. */
  parameters: Record<string, unknown>;
  search: ParsedSearch;
}

/**
 * The entities of one type whose text holds every term of the query (in any of their fields), with a
 * relevance score: a subquery to join on the entity's id, e.g.
 * `qb.innerJoin(`(${s.sql})`, 'search', 'search.entity_id = o.id').setParameters(s.parameters)`.
 * MySQL matches `MATCH(text) AGAINST('+beni +mellal*' IN BOOLEAN MODE)`, SQLite FTS5 `"beni" AND "mellal"*`;
 * both on the entity's `all` row, and score by the weighted per-field matches of any term (InnoDB relevance
 * or FTS5 bm25). Throws BAD_USER_INPUT as {@link parseSearch} does.
 */
export function searchQuery(
  source: Queryable,
  entityType: string,
  query: string | ParsedSearch,
  options: SearchQueryOptions = {},
): SearchSql {
  const search = typeof query === 'string' ? parseSearch(query, options) : query;
  if (!search.terms.length) throw new Error('searchQuery: the search has no term');
  const n = options.name ?? 'search';
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(n)) throw new Error(`searchQuery: invalid name "${n}"`);
  const parameters: Record<string, unknown> = { [`${n}_type`]: entityType };
  const weight = fieldWeight(n, options.weights ?? {}, parameters);
  const mysql = isMysql(source);
  const perField = options.perField ?? true;
  if (!perField && options.weights && Object.keys(options.weights).length)
    throw new Error('searchQuery: weights need per-field documents (perField: false has none)');
  const sql = !perField
    ? mysql
      ? mysqlAllRowSearch(n, search, parameters)
      : sqliteAllRowSearch(n, search, parameters)
    : mysql
      ? mysqlSearch(n, search, weight, parameters)
      : sqliteSearch(n, search, weight, parameters);
  const matchSql = mysql ? mysqlMatches(n) : sqliteMatches(n);
  const matchesId = mysql ? mysqlMatchesId(n) : sqliteMatchesId(n);
  return { sql, matchSql, matchesId, parameters, search };
}

/** The weight of a field as SQL over a field column (a CASE of the given weights, 1 for any other field). */
type FieldWeight = (column: string) => string;

/** Builds {@link FieldWeight}, adding the field names to `parameters`; refuses a negative or infinite weight. */
function fieldWeight(
  n: string,
  weights: Readonly<Record<string, number>>,
  parameters: Record<string, unknown>,
): FieldWeight {
  const cases = Object.entries(weights).map(([field, w], i) => {
    if (!Number.isFinite(w) || w < 0) throw new Error(`searchQuery: weight of "${field}" must be >= 0`);
    parameters[`${n}_w${i}`] = field;
    return `WHEN :${n}_w${i} THEN ${w}`;
  });
  return (column) => (cases.length ? `(CASE ${column} ${cases.join(' ')} ELSE 1 END)` : '1');
}

/**
 * The most one field's InnoDB relevance counts. Relevance divides by the table's row estimate; an estimate of 0
 * (a search table reopened from persistent statistics never settled, as after a restart in the middle of an
 * import) makes it infinite, and any arithmetic on it fails ("DOUBLE value is out of range"). Clamped, such a
 * search still finds every row, all equally relevant until the statistics are settled; real scores stay far
 * below this (test/e2e/search-engine.test.ts lowers the estimate to 0 and still finds a common word).
 */
const MAX_RELEVANCE = 1_000_000;

/** The search on MySQL: InnoDB FULLTEXT in boolean mode, scored by the weighted per-field relevance. */
function mysqlSearch(
  n: string,
  search: ParsedSearch,
  weight: FieldWeight,
  parameters: Record<string, unknown>,
): string {
  // Folded terms are letters and digits only: no boolean-mode operator can come from the user.
  parameters[`${n}_all`] = search.terms.map((t) => `+${t.text}${t.prefix ? '*' : ''}`).join(' ');
  parameters[`${n}_any`] = search.terms.map((t) => `${t.text}${t.prefix ? '*' : ''}`).join(' ');
  const d = `${n}_d`;
  const a = `${n}_a`;
  // Driven by the all-words match on the one 'all' row per entity (the FULLTEXT index finds few rows for a
  // narrow search), then the entity's per-field rows by primary key for the weighted score; matching the
  // any-word condition first would visit every row holding any of the words.
  return (
    `SELECT ${a}.entity_id AS entity_id, ` +
    `ROUND(SUM(LEAST(MATCH (${d}.text) AGAINST (:${n}_any IN BOOLEAN MODE), ${MAX_RELEVANCE}) * ${weight(`${d}.field`)}) * ${SCORE_SCALE}) AS score ` +
    `FROM ${SEARCH_TABLE} ${a} ` +
    `JOIN ${SEARCH_TABLE} ${d} ON ${d}.entity_type = ${a}.entity_type AND ${d}.entity_id = ${a}.entity_id ` +
    `AND ${d}.field <> '${ALL_FIELDS}' ` +
    `WHERE ${a}.entity_type = :${n}_type AND ${a}.field = '${ALL_FIELDS}' ` +
    `AND MATCH (${a}.text) AGAINST (:${n}_all IN BOOLEAN MODE) ` +
    `GROUP BY ${a}.entity_id`
  );
}

/**
 * The search on MySQL scored by the `all` row alone (`perField: false`): one full-text search, the all-words
 * match, whose relevance is the score.
 */
function mysqlAllRowSearch(n: string, search: ParsedSearch, parameters: Record<string, unknown>): string {
  parameters[`${n}_all`] = search.terms.map((t) => `+${t.text}${t.prefix ? '*' : ''}`).join(' ');
  const a = `${n}_a`;
  const match = `MATCH (${a}.text) AGAINST (:${n}_all IN BOOLEAN MODE)`;
  return (
    `SELECT ${a}.entity_id AS entity_id, ROUND(LEAST(${match}, ${MAX_RELEVANCE}) * ${SCORE_SCALE}) AS score ` +
    `FROM ${SEARCH_TABLE} ${a} WHERE ${a}.entity_type = :${n}_type AND ${a}.field = '${ALL_FIELDS}' AND ${match}`
  );
}

/** MySQL: the entities whose `all` row holds every term (the FULLTEXT index finds them; no relevance). */
const mysqlMatches = (n: string) =>
  `SELECT ${n}_m.entity_id AS entity_id FROM ${SEARCH_TABLE} ${n}_m ` +
  `WHERE ${n}_m.entity_type = :${n}_type AND ${n}_m.field = '${ALL_FIELDS}' ` +
  `AND MATCH (${n}_m.text) AGAINST (:${n}_all IN BOOLEAN MODE)`;

/**
 * MySQL: whether one entity's `all` row holds every term, read by primary key. MATCH is then a filter, not
 * the access path: InnoDB runs the full-text search once per statement and tests each row's document id
 * against its result (no row of another entity is read). A scalar subquery (at most one row: the primary
 * key), because MariaDB turns `EXISTS` into a semi-join driven by the whole full-text match.
 */
const mysqlMatchesId = (n: string) => (id: string) =>
  `(SELECT 1 FROM ${SEARCH_TABLE} ${n}_e WHERE ${n}_e.entity_type = :${n}_type ` +
  `AND ${n}_e.entity_id = ${id} AND ${n}_e.field = '${ALL_FIELDS}' ` +
  `AND MATCH (${n}_e.text) AGAINST (:${n}_all IN BOOLEAN MODE)) = 1`;

/** SQLite: the entities whose `all` row matches every phrase (FTS5; no bm25). */
const sqliteMatches = (n: string) =>
  `SELECT ${n}_m.entity_id AS entity_id FROM ${SEARCH_FTS_TABLE} ${n}_m WHERE ${n}_m.${SEARCH_FTS_TABLE} ` +
  `MATCH :${n}_all AND ${n}_m.entity_type = :${n}_type AND ${n}_m.field = '${ALL_FIELDS}'`;

/**
 * SQLite: whether one entity's `all` row matches every phrase: its rowid through the primary key of
 * {@link SEARCH_TABLE} (the FTS5 row has the document's rowid, see index-writer.ts), looked up in the rowids
 * FTS5 matches. That list is read once per statement (doclists only, no content row); asking FTS5 row by row
 * instead would expand a prefix term (the last word of a query) again for every row.
 */
const sqliteMatchesId = (n: string) => (id: string) =>
  `(SELECT ${n}_e.rowid FROM ${SEARCH_TABLE} ${n}_e WHERE ${n}_e.entity_type = :${n}_type ` +
  `AND ${n}_e.entity_id = ${id} AND ${n}_e.field = '${ALL_FIELDS}') ` +
  `IN (SELECT ${n}_f.rowid FROM ${SEARCH_FTS_TABLE} ${n}_f WHERE ${n}_f.${SEARCH_FTS_TABLE} MATCH :${n}_all)`;

/**
 * Whether a search finds more than `limit` entities: reads at most `limit + 1` of them (no score), so it
 * costs about as much as ranking `limit` would save.
 */
export async function searchFindsMoreThan(
  manager: EntityManager,
  search: SearchSql,
  limit: number,
): Promise<boolean> {
  const [sql, params] = manager.connection.driver.escapeQueryWithParameters(
    `SELECT COUNT(*) AS n FROM (${search.matchSql} LIMIT ${Math.floor(limit) + 1}) p`,
    search.parameters,
  );
  const rows: { n: number | string }[] = await manager.query(sql, params);
  return Number(rows[0].n) > limit;
}

/** The search on SQLite: FTS5 phrases, scored by the weighted per-field bm25. */
function sqliteSearch(
  n: string,
  search: ParsedSearch,
  weight: FieldWeight,
  parameters: Record<string, unknown>,
): string {
  const phrase = (t: { text: string; prefix: boolean }) => `"${t.text}"${t.prefix ? '*' : ''}`;
  parameters[`${n}_all`] = search.terms.map(phrase).join(' AND ');
  parameters[`${n}_any`] = search.terms.map(phrase).join(' OR ');
  // bm25() cannot be used under GROUP BY or an IN over the same table: materialize the matches first.
  const hits = `${n}_hits`;
  const all = `${n}_matches`;
  return (
    `WITH ${hits} AS MATERIALIZED (` +
    `SELECT h.entity_id AS entity_id, h.field AS field, -bm25(h.${SEARCH_FTS_TABLE}) AS relevance ` +
    `FROM ${SEARCH_FTS_TABLE} h WHERE h.${SEARCH_FTS_TABLE} MATCH :${n}_any ` +
    `AND h.entity_type = :${n}_type AND h.field <> '${ALL_FIELDS}'), ` +
    `${all} AS MATERIALIZED (` +
    `SELECT m.entity_id AS entity_id FROM ${SEARCH_FTS_TABLE} m WHERE m.${SEARCH_FTS_TABLE} MATCH :${n}_all ` +
    `AND m.entity_type = :${n}_type AND m.field = '${ALL_FIELDS}') ` +
    `SELECT ${hits}.entity_id AS entity_id, ` +
    `CAST(ROUND(SUM(${hits}.relevance * ${weight(`${hits}.field`)}) * ${SCORE_SCALE}) AS INTEGER) AS score ` +
    `FROM ${hits} WHERE ${hits}.entity_id IN (SELECT entity_id FROM ${all}) GROUP BY ${hits}.entity_id`
  );
}

/** The search on SQLite scored by the `all` row alone (`perField: false`): the bm25 of the all-words match. */
function sqliteAllRowSearch(n: string, search: ParsedSearch, parameters: Record<string, unknown>): string {
  const phrase = (t: { text: string; prefix: boolean }) => `"${t.text}"${t.prefix ? '*' : ''}`;
  parameters[`${n}_all`] = search.terms.map(phrase).join(' AND ');
  const hits = `${n}_hits`;
  // Materialized, as in sqliteSearch: bm25() only works where FTS5 drives the query.
  return (
    `WITH ${hits} AS MATERIALIZED (` +
    `SELECT h.entity_id AS entity_id, -bm25(h.${SEARCH_FTS_TABLE}) AS relevance ` +
    `FROM ${SEARCH_FTS_TABLE} h WHERE h.${SEARCH_FTS_TABLE} MATCH :${n}_all ` +
    `AND h.entity_type = :${n}_type AND h.field = '${ALL_FIELDS}') ` +
    `SELECT ${hits}.entity_id AS entity_id, CAST(ROUND(${hits}.relevance * ${SCORE_SCALE}) AS INTEGER) AS score ` +
    `FROM ${hits}`
  );
}

/**
 * Runs a search on its own: every matching entity id with its score (one statement). What
 * {@link relevanceOrder} needs to put the score in cursors.
 */
export async function searchScores(manager: EntityManager, search: SearchSql): Promise<Map<string, number>> {
  const [sql, params] = manager.connection.driver.escapeQueryWithParameters(
    `SELECT s.entity_id AS entity_id, s.score AS score FROM (${search.sql}) s`,
    search.parameters,
  );
  const rows: { entity_id: string; score: number | string }[] = await manager.query(sql, params);
  return new Map(rows.map((r) => [r.entity_id, Number(r.score)]));
}

/**
 * The `orderBy` term "most relevant first" for `orderedConnection`, over a search joined as `alias`
 * (`search.score`); the scores of {@link searchScores} give each row's cursor value.
 */
export function relevanceOrder<T extends ObjectLiteral & { id: string }>(
  alias: string,
  scores: ReadonlyMap<string, number>,
): OrderTerm<T> {
  return {
    field: 'RELEVANCE',
    direction: 'DESC',
    key: { sql: `${alias}.score`, value: (row) => scores.get(row.id) ?? null, text: false },
  };
}
