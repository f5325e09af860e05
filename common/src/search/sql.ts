import type { EntityManager, ObjectLiteral } from 'typeorm';
import { isMysql, type Queryable } from '../dialect';
import type { OrderTerm } from '../ordering';
import { parseSearch, type ParsedSearch, type SearchOptions } from './query';
import { ALL_FIELDS, ftsScopeToken, SEARCH_FTS_TABLE, SEARCH_TABLE } from './schema';

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
   * row looked up by primary key and its folded terms tested with `LIKE`, one pattern per term, without the
   * full-text index (which computes every match of the search first). Cheap per row, so a list walked in id
   * order stops after its page when matches are dense (a common word); never to be used to scan a large
   * table for rare matches.
   */
  matchesId: (id: string) => string;
  /**
   * `SELECT COUNT(*) AS n …`: how many entities of the type the search finds, counting at most `limit` when
   * given; the same entities as {@link matchSql}. SQLite counts from the FTS5 doclists alone (the `all` rows
   * of the type by their `scope` token), reading no row.
   */
  countSql: (limit?: number) => string;
  /**
   * MySQL only: `SELECT … AS n, … AS r, … AS last` and its parameters: of the next `k` entities of the type
   * in id order (after `after` if given), how many the search finds (`n`), how many were read (`r`) and the
   * last one's id, each `all` row tested as {@link matchesId} does (no FULLTEXT index): a bounded read, so a
   * probe can find that a common word has more matches than a limit without InnoDB computing all of them.
   */
  sampleSql?: (k: number, after: string | null) => { sql: string; parameters: Record<string, unknown> };
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
  likePatterns(n, search, parameters);
  if (!mysql)
    return {
      sql,
      matchSql,
      matchesId: sqliteMatchesId(n, search),
      countSql: sqliteCount(n),
      parameters,
      search,
    };
  const matchesId = mysqlMatchesId(n, search);
  const countSql = mysqlCount(n);
  const sampleSql = mysqlSample(n, search, parameters);
  return { sql, matchSql, matchesId, countSql, sampleSql, parameters, search };
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

/** MySQL: how many entities the search finds (at most `limit`). */
const mysqlCount = (n: string) => (limit?: number) =>
  `SELECT COUNT(*) AS n FROM (${mysqlMatches(n)}${limit === undefined ? '' : ` LIMIT ${Math.floor(limit)}`}) ${n}_cn`;

/**
 * MySQL: whether one entity's `all` row holds every term, read by primary key and tested without the
 * FULLTEXT index: each term is looked for among the row's space-separated terms with `LIKE` (`% term %`, or
 * `% term%` for a prefix), which finds what `MATCH … IN BOOLEAN MODE` finds in that row, because the row
 * holds folded terms only (runs of letters and digits of 3 to 84 characters, no stopword: exactly InnoDB's
 * tokens) and the column compares by code point. `MATCH` as a filter would make InnoDB compute the whole
 * full-text result first, once per statement, however few rows the page reads: for a word in a fifth of a
 * million rows, most of a second. A scalar subquery (at most one row: the primary key), because MariaDB
 * turns `EXISTS` into a semi-join.
 */
const mysqlMatchesId = (n: string, search: ParsedSearch) => (id: string) =>
  `(SELECT 1 FROM ${SEARCH_TABLE} ${n}_e WHERE ${n}_e.entity_type = :${n}_type ` +
  `AND ${n}_e.entity_id = ${id} AND ${n}_e.field = '${ALL_FIELDS}' AND ${mysqlHolds(n, search, `${n}_e`)}) = 1`;

/** MySQL: whether the `all` row `alias` holds every term (see {@link mysqlMatchesId}). */
const mysqlHolds = (n: string, search: ParsedSearch, alias: string) =>
  search.terms.map((_, i) => `CONCAT(' ', ${alias}.text, ' ') LIKE :${n}_like${i}`).join(' AND ');

/**
 * MySQL: {@link SearchSql.sampleSql}. The next `k` `all` rows of the type in primary key order (the type is
 * fixed, so by entity id: `ORDER BY` the whole key made MariaDB sort every row of the type), each reduced to
 * whether it holds the terms and its id, then summed: a derived table with a `LIMIT` stops the read after
 * `k` entities.
 */
const mysqlSample =
  (n: string, search: ParsedSearch, parameters: Record<string, unknown>) =>
  (k: number, after: string | null) => ({
    sql:
      `SELECT COALESCE(SUM(${n}_w.hit), 0) AS n, COUNT(*) AS r, MAX(${n}_w.entity_id) AS last FROM (` +
      `SELECT (${mysqlHolds(n, search, `${n}_p`)}) AS hit, ${n}_p.entity_id AS entity_id ` +
      `FROM ${SEARCH_TABLE} ${n}_p WHERE ${n}_p.entity_type = :${n}_type AND ${n}_p.field = '${ALL_FIELDS}' ` +
      `${after === null ? '' : `AND ${n}_p.entity_id > :${n}_after `}` +
      `ORDER BY ${n}_p.entity_id LIMIT ${Math.floor(k)}) ${n}_w`,
    parameters: { ...parameters, [`${n}_after`]: after },
  });

/** The `LIKE` patterns of {@link mysqlMatchesId}, one per term (folded terms hold no `%`, `_` or `\\`). */
function likePatterns(n: string, search: ParsedSearch, parameters: Record<string, unknown>): void {
  search.terms.forEach((t, i) => {
    parameters[`${n}_like${i}`] = `% ${t.text}${t.prefix ? '' : ' '}%`;
  });
}

/**
 * SQLite: the entities whose `all` row matches every phrase (FTS5; no bm25): the `all` rows of the entity
 * type are found by their `scope` token in the index (see {@link FTS_SCOPE_SQL}), so only the matches' own
 * rows are read (for their `entity_id`), not those of every field row holding the words.
 */
const sqliteMatches = (n: string) =>
  `SELECT ${n}_m.entity_id AS entity_id FROM ${SEARCH_FTS_TABLE} ${n}_m WHERE ${n}_m.${SEARCH_FTS_TABLE} ` +
  `MATCH :${n}_scoped`;

/**
 * SQLite: whether one entity's `all` row holds every term, read by primary key and tested with `LIKE` on its
 * folded terms, as on MySQL ({@link mysqlMatchesId}: the row holds exactly the terms FTS5 indexes; folded
 * text is lower case, so SQLite's ASCII-insensitive LIKE changes nothing). Looking the row's rowid up in the
 * rowids FTS5 matches read every match once per statement (~0.1 s for a word in 185,000 rows); asking
 * FTS5 row by row expanded a prefix term again for every row.
 */
const sqliteMatchesId = (n: string, search: ParsedSearch) => (id: string) =>
  `EXISTS (SELECT 1 FROM ${SEARCH_TABLE} ${n}_e WHERE ${n}_e.entity_type = :${n}_type ` +
  `AND ${n}_e.entity_id = ${id} AND ${n}_e.field = '${ALL_FIELDS}' AND ` +
  search.terms.map((_, i) => `(' ' || ${n}_e.text || ' ') LIKE :${n}_like${i}`).join(' AND ') +
  `)`;

/** SQLite: how many entities the search finds (at most `limit`), from the FTS5 doclists alone. */
const sqliteCount = (n: string) => (limit?: number) =>
  `SELECT COUNT(*) AS n FROM (SELECT ${n}_c.rowid FROM ${SEARCH_FTS_TABLE} ${n}_c ` +
  `WHERE ${n}_c.${SEARCH_FTS_TABLE} MATCH :${n}_scoped${limit === undefined ? '' : ` LIMIT ${Math.floor(limit)}`}) ${n}_cn`;

/**
 * Whether a search finds more than `limit` entities: reads at most `limit + 1` of them (no score), so it
 * costs about as much as ranking `limit` would save.
 */
export async function searchFindsMoreThan(
  manager: EntityManager,
  search: SearchSql,
  limit: number,
): Promise<boolean> {
  const over = Math.floor(limit) + 1;
  const read = search.sampleSql ? await commonInIdOrder(manager, search, over) : null;
  if (read !== null) return read;
  return (await countOf(manager, search, search.countSql(over))) > limit;
}

/**
 * MySQL: whether reading entities in id order (each `all` row tested with `LIKE`, {@link SearchSql.sampleSql})
 * finds at least `over` matches, within {@link PROBE_MAX_READ} entities: true when it does, false when it
 * read every entity of the type without, null (undecided) when the matches come too rarely to get there
 * (then the FULLTEXT index, fast for a rare word, decides). InnoDB
 * computes every match of a FULLTEXT search before its first row: seconds for a word in a fifth of a
 * million rows, which this reads ~55,000 rows to find common. Read in stages that grow at most fourfold,
 * each sized by the density of matches the last one found: matches clustered at the start of the id order
 * (a few hundred real commitments before 100,000 synthetic ones) stop it after a small stage, not a large
 * one. Exact either way: each match found is one; a table read to its end is counted whole.
 */
async function commonInIdOrder(
  manager: EntityManager,
  search: SearchSql,
  over: number,
): Promise<boolean | null> {
  const sample = search.sampleSql!;
  let size = PROBE_FIRST_READ;
  let read = 0;
  let hits = 0;
  let after: string | null = null;
  for (;;) {
    const stage = sample(size, after);
    const [sql, params] = manager.connection.driver.escapeQueryWithParameters(stage.sql, stage.parameters);
    const [row] = (await manager.query(sql, params)) as {
      n: number | string;
      r: number | string;
      last: string;
    }[];
    const n = Number(row.n);
    const r = Number(row.r);
    hits += n;
    read += r;
    if (hits >= over) return true;
    if (r < size) return false;
    if (n === 0) return null;
    after = row.last;
    const needed = Math.ceil((PROBE_MARGIN * (over - hits) * r) / n);
    if (read + needed > PROBE_MAX_READ) return null;
    size = Math.min(needed, size * 4);
  }
}

/** MySQL probe: the entities read first, in id order. */
const PROBE_FIRST_READ = 500;
/** MySQL probe: read enough entities to expect this many times the matches still needed. */
const PROBE_MARGIN = 1.25;
/** MySQL probe: the most entities read in id order; a search that needs more is probed by the FULLTEXT index. */
const PROBE_MAX_READ = 150000;

/**
 * How many entities a search finds, exactly, from the index alone ({@link SearchSql.countSql}): the
 * `totalCount` of a list with no other condition, whose rows are exactly the entities the index holds
 * documents of (every writer indexes and removes an entity's documents in the transaction that writes or
 * deletes it).
 */
export async function searchCount(manager: EntityManager, search: SearchSql): Promise<number> {
  return countOf(manager, search, search.countSql());
}

async function countOf(manager: EntityManager, search: SearchSql, countSql: string): Promise<number> {
  const [sql, params] = manager.connection.driver.escapeQueryWithParameters(countSql, search.parameters);
  const rows: { n: number | string }[] = await manager.query(sql, params);
  return Number(rows[0].n);
}

/** The search on SQLite: FTS5 phrases, scored by the weighted per-field bm25. */
function sqliteSearch(
  n: string,
  search: ParsedSearch,
  weight: FieldWeight,
  parameters: Record<string, unknown>,
): string {
  const phrase = (t: { text: string; prefix: boolean }) => `"${t.text}"${t.prefix ? '*' : ''}`;
  // The words are searched in the `text` column only: `scope` holds the entity type's token (hexadecimal,
  // which a query of digits and letters could otherwise match).
  const all = `text : (${search.terms.map(phrase).join(' AND ')})`;
  parameters[`${n}_any`] = `text : (${search.terms.map(phrase).join(' OR ')})`;
  parameters[`${n}_scoped`] = `${all} AND scope : "${ftsScopeToken(String(parameters[`${n}_type`]))}"`;
  // bm25() cannot be used under GROUP BY or an IN over the same table: materialize the matches first.
  const hits = `${n}_hits`;
  const matches = `${n}_matches`;
  return (
    `WITH ${hits} AS MATERIALIZED (` +
    `SELECT h.entity_id AS entity_id, h.field AS field, -bm25(h.${SEARCH_FTS_TABLE}) AS relevance ` +
    `FROM ${SEARCH_FTS_TABLE} h WHERE h.${SEARCH_FTS_TABLE} MATCH :${n}_any ` +
    `AND h.entity_type = :${n}_type AND h.field <> '${ALL_FIELDS}'), ` +
    `${matches} AS MATERIALIZED (${sqliteMatches(n)}) ` +
    `SELECT ${hits}.entity_id AS entity_id, ` +
    `CAST(ROUND(SUM(${hits}.relevance * ${weight(`${hits}.field`)}) * ${SCORE_SCALE}) AS INTEGER) AS score ` +
    `FROM ${hits} WHERE ${hits}.entity_id IN (SELECT entity_id FROM ${matches}) GROUP BY ${hits}.entity_id`
  );
}

/** The search on SQLite scored by the `all` row alone (`perField: false`): the bm25 of the all-words match. */
function sqliteAllRowSearch(n: string, search: ParsedSearch, parameters: Record<string, unknown>): string {
  const phrase = (t: { text: string; prefix: boolean }) => `"${t.text}"${t.prefix ? '*' : ''}`;
  // As in sqliteSearch: the words in the `text` column only. Membership and counts (sqliteMatches,
  // sqliteCount) read `_scoped`, the type's token in `scope` (which only `all` rows hold) added; the scores do
  // not: bm25 of a phrase held by every row of the type reads that phrase's whole doclist for its statistics
  // (29 ms at a million lines, against 0.2 ms for the words alone).
  const all = `text : (${search.terms.map(phrase).join(' AND ')})`;
  parameters[`${n}_all`] = all;
  parameters[`${n}_scoped`] = `${all} AND scope : "${ftsScopeToken(String(parameters[`${n}_type`]))}"`;
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
