/**
 * Full-text search over a subgraph's own entities, the same on MySQL (InnoDB FULLTEXT) and on the embedded
 * SQLite (FTS5).
 *
 * How it works. Text is folded by {@link foldText} in the application, the same way for what is indexed and
 * for what is asked: accents, case, Arabic diacritics and letter variants do not matter. Each entity gets
 * one row per searchable field in `search_documents` (its searchable terms, see {@link indexTerms}) plus one
 * row `field = 'all'` holding every field's terms: a query must find ALL its words in that row, so the
 * words may come from different fields ("Khénifra بني" finds the region named Béni Mellal-Khénifra in French
 * and بني ملال خنيفرة in Arabic); the per-field rows only rank (a field can weigh more than another).
 *
 * Both backends see exactly the same terms, so they find the same entities (only the scores differ):
 * - words shorter than {@link MIN_TERM_LENGTH} (3) characters are neither indexed nor searched, because
 *   InnoDB's `innodb_ft_min_token_size` is 3 (MySQL and MariaDB default). "El Kef" searches "kef";
 * - InnoDB's default stopwords ({@link STOPWORDS}: the, for, with, about, what, who, will…) are neither
 *   indexed nor searched, because InnoDB would drop them (and an index rebuild by `OPTIMIZE TABLE` or
 *   `ALTER TABLE … FORCE` brings the stopword list back even when the index was created without it);
 * - words longer than {@link MAX_TERM_LENGTH} (84, `innodb_ft_max_token_size`) are not indexed either;
 * - a term is a run of letters and digits after folding; anything else separates terms ("Mellal-Khénifra"
 *   is two terms, "l'eau" is "l" and "eau").
 * Arabic works on both: InnoDB's default parser splits Arabic on spaces like Latin text (no ngram parser,
 * which MariaDB does not have). Arabic is folded like Lucene's Arabic normalizer (no harakat or tatweel,
 * one alef, ى → ي, ة → ه) and the article ال (also وال بال كال فال لل) is taken off a word that keeps
 * at least 3 letters, so "الكاف" and "كاف" find each other. There is no other stemming: "audit" does not
 * find "audits" unless it is the last word of the query, which matches as a prefix by default.
 */
import {
  EntitySchema,
  Table,
  TableIndex,
  type DataSource,
  type EntityManager,
  type ObjectLiteral,
  type QueryRunner,
  type TableColumnOptions,
} from 'typeorm';
import { chunk } from './db';
import { badInput } from './errors';
import { binaryCollation, col } from './migration-columns';
import type { OrderTerm } from './ordering';

/** The table of searchable text, one per subgraph database. */
export const SEARCH_TABLE = 'search_documents';
/** SQLite only: the FTS5 table over {@link SEARCH_TABLE}, written alongside it by this module. */
export const SEARCH_FTS_TABLE = 'search_documents_fts';
/** MySQL only: the FULLTEXT index on `search_documents.text`. */
export const SEARCH_FULLTEXT_INDEX = 'FTX_search_documents_text';
/** The field holding every field's terms of an entity; reserved. */
export const ALL_FIELDS = 'all';
/** Shorter words are not indexed (InnoDB `innodb_ft_min_token_size`, default 3). */
export const MIN_TERM_LENGTH = 3;
/** Longer words are not indexed (InnoDB `innodb_ft_max_token_size`, default 84). */
export const MAX_TERM_LENGTH = 84;
/** A query longer than this is refused (a pasted title fits). */
export const MAX_QUERY_LENGTH = 300;
/** A query with more distinct terms than this is refused. */
export const MAX_QUERY_TERMS = 20;
/** `search_documents.text` is a TEXT column on MySQL: a document's terms are cut at a term boundary to fit. */
export const MAX_DOCUMENT_BYTES = 65535;

/**
 * InnoDB's default full-text stopwords (INFORMATION_SCHEMA.INNODB_FT_DEFAULT_STOPWORD, the same on MySQL 8
 * and MariaDB 10/11). Those of 3 letters or more are dropped from indexed text and queries on both backends.
 */
export const STOPWORDS: ReadonlySet<string> = new Set(
  (
    'a about an are as at be by com de en for from how i in is it la of on or that the this to und was what ' +
    'when where who will with www'
  ).split(' '),
);

const ENTITY_TYPE_LENGTH = 32;
const ENTITY_ID_LENGTH = 191;
const FIELD_LENGTH = 32;
/** Scores are whole numbers (the backend's relevance × 10⁶, rounded), so cursors compare them exactly. */
const SCORE_SCALE = 1000000;

// ---------------------------------------------------------------------------------------------------------
// Folding

/**
 * Letters that lowercasing and NFKD leave apart from their plain form, mapped to it. Arabic: tatweel goes,
 * alef wasla, alef maksura, teh marbuta and the Persian yeh and keheh take their plain form (أ إ آ ؤ ئ lose
 * their hamza with the other marks), digits become ASCII. Latin: the letters French, German and the Nordic
 * languages write without a decomposition.
 */
const FOLD_MAP: Readonly<Record<string, string>> = {
  '\u0640': '', // ـ tatweel
  '\u0671': '\u0627', // ٱ → ا
  '\u0649': '\u064a', // ى → ي
  '\u06cc': '\u064a', // ی → ي
  '\u0629': '\u0647', // ة → ه
  '\u06d5': '\u0647', // ە → ه
  '\u06a9': '\u0643', // ک → ك
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  đ: 'd',
  ð: 'd',
  ł: 'l',
  þ: 'th',
  ı: 'i',
  // Arabic-Indic and extended Arabic-Indic digits ٠-٩ ۰-۹
  ...Object.fromEntries(
    Array.from({ length: 10 }, (_, d) => [
      [String.fromCharCode(0x0660 + d), String(d)],
      [String.fromCharCode(0x06f0 + d), String(d)],
    ]).flat(),
  ),
};

const MARK = /\p{M}/u;
const TERM_CHAR = /[\p{L}\p{N}]/u;
const MODIFIER_LETTER = /\p{Lm}/u;
const foldCache = new Map<string, string>();

/**
 * Folds one character (code point) to zero or more characters, each a letter, a digit or a space.
 * Modifier letters (the ʿ and ʼ of transliterations, the tatweel) go like marks: "Saʿid" is "said".
 * Characters outside the Basic Multilingual Plane separate terms: InnoDB's parser does not count them as
 * word characters (MariaDB 10.11), so neither may SQLite.
 */
function foldChar(c: string): string {
  const cached = foldCache.get(c);
  if (cached !== undefined) return cached;
  let out = '';
  for (const d of c.normalize('NFKD').toLowerCase().normalize('NFKD')) {
    if (MARK.test(d) || MODIFIER_LETTER.test(d)) continue;
    for (const e of FOLD_MAP[d] ?? d) out += TERM_CHAR.test(e) && e.codePointAt(0)! <= 0xffff ? e : ' ';
  }
  foldCache.set(c, out);
  return out;
}

/** A folded word of a text, with where it comes from in the original (UTF-16 offsets, end exclusive). */
export interface FoldedToken {
  text: string;
  start: number;
  end: number;
}

/**
 * Splits a text into folded words, each mapped back to its span in the original text. A character that
 * folds to nothing (a combining mark, a haraka, a tatweel) belongs to the character before it, so a span
 * covers the whole original word.
 */
export function foldTokens(original: string): FoldedToken[] {
  const tokens: FoldedToken[] = [];
  let current: FoldedToken | null = null;
  for (let i = 0; i < original.length;) {
    const c = String.fromCodePoint(original.codePointAt(i)!);
    const next = i + c.length;
    const folded = foldChar(c);
    if (!folded && current) current.end = next;
    for (const f of folded) {
      if (f === ' ') {
        if (current) tokens.push(current);
        current = null;
      } else if (current) {
        current.text += f;
        current.end = next;
      } else {
        current = { text: f, start: i, end: next };
      }
    }
    i = next;
  }
  if (current) tokens.push(current);
  return tokens;
}

/**
 * The folded form of a text, the same for indexing and for querying: compatibility decomposition (NFKD),
 * no combining marks (accents, Arabic harakat), lowercase, Arabic letter variants unified (أ إ آ ٱ → ا,
 * ى → ي, ة → ه, no tatweel), Arabic-Indic digits as ASCII, and every run of anything but letters and digits
 * as one space. `foldText("Béni Mellal-Khénifra") === "beni mellal khenifra"`.
 */
export function foldText(text: string): string {
  return foldTokens(text)
    .map((t) => t.text)
    .join(' ');
}

const ARABIC_ARTICLES = [
  '\u0648\u0627\u0644',
  '\u0628\u0627\u0644',
  '\u0643\u0627\u0644',
  '\u0641\u0627\u0644',
];
const ARABIC_ARTICLE = '\u0627\u0644'; // ال
const ARABIC_LI_ARTICLE = '\u0644\u0644'; // لل

const length = (s: string) => [...s].length;

/** Takes the Arabic article off a folded word when at least 3 letters stay. */
function stripArticle(word: string): string {
  for (const prefix of [...ARABIC_ARTICLES, ARABIC_ARTICLE, ARABIC_LI_ARTICLE]) {
    if (word.startsWith(prefix) && length(word) - prefix.length >= MIN_TERM_LENGTH) {
      return word.slice(prefix.length);
    }
  }
  return word;
}

/** The search term of a folded word, or null when the word is not indexed (too short or long, stopword). */
function termOf(word: string): string | null {
  const term = stripArticle(word);
  const n = length(term);
  if (n < MIN_TERM_LENGTH || n > MAX_TERM_LENGTH || STOPWORDS.has(term)) return null;
  return term;
}

/**
 * The terms of a text that are indexed and searchable, in order: its folded words, without the Arabic
 * article, without words shorter than 3 or longer than 84 characters and without stopwords.
 */
export function indexTerms(text: string): string[] {
  const out: string[] = [];
  for (const t of foldTokens(text)) {
    const term = termOf(t.text);
    if (term) out.push(term);
  }
  return out;
}

/** Joins terms with spaces, cut at a term boundary to fit {@link MAX_DOCUMENT_BYTES}. */
function documentText(terms: readonly string[]): string {
  let bytes = 0;
  const kept: string[] = [];
  for (const t of terms) {
    const b = Buffer.byteLength(t, 'utf8') + (kept.length ? 1 : 0);
    if (bytes + b > MAX_DOCUMENT_BYTES) break;
    bytes += b;
    kept.push(t);
  }
  return kept.join(' ');
}

// ---------------------------------------------------------------------------------------------------------
// Queries

/** Which words of a query also match longer words: the last one (search as you type), all, or none. */
export type PrefixMode = 'last' | 'all' | 'none';

export interface SearchOptions {
  /** The argument named in errors; default `filter.search`. */
  argument?: string;
  /** Default `last`: "Beni Mell" finds "Béni Mellal". */
  prefix?: PrefixMode;
}

/** A query as searched: its distinct terms, each matching a whole word or (prefix) the start of one. */
export interface ParsedSearch {
  terms: readonly { text: string; prefix: boolean }[];
}

function termsOf(query: string, prefix: PrefixMode): ParsedSearch {
  // The last occurrence of a repeated word counts, so the word being typed stays last.
  const words = indexTerms(query);
  const distinct = words.filter((w, i) => words.lastIndexOf(w) === i);
  return {
    terms: distinct.map((text, i) => ({
      text,
      prefix: prefix === 'all' || (prefix === 'last' && i === distinct.length - 1),
    })),
  };
}

/**
 * Reads a search query into the terms every backend searches (see {@link indexTerms}). Refuses, naming the
 * argument, a query too long, with too many words, or with no word that can be searched.
 */
export function parseSearch(query: string, options: SearchOptions = {}): ParsedSearch {
  const argument = options.argument ?? 'filter.search';
  if (query.length > MAX_QUERY_LENGTH) {
    throw badInput(
      `Argument "${argument}" is ${query.length} characters long; at most ${MAX_QUERY_LENGTH} are allowed`,
      argument,
    );
  }
  const parsed = termsOf(query, options.prefix ?? 'last');
  if (!parsed.terms.length) {
    throw badInput(
      `Argument "${argument}" has no word that can be searched: words need at least ${MIN_TERM_LENGTH} letters ` +
        `or digits, and very common English words (the, for, with, from, that, this…) are not indexed; got "${query}"`,
      argument,
    );
  }
  if (parsed.terms.length > MAX_QUERY_TERMS) {
    throw badInput(
      `Argument "${argument}" has ${parsed.terms.length} distinct words; at most ${MAX_QUERY_TERMS} are allowed`,
      argument,
    );
  }
  return parsed;
}

type Source = DataSource | EntityManager | QueryRunner;

function dbType(source: Source): string {
  return 'connection' in source ? source.connection.options.type : source.options.type;
}

function isMysql(source: Source): boolean {
  const type = dbType(source);
  return type === 'mysql' || type === 'mariadb';
}

export interface SearchQueryOptions extends SearchOptions {
  /**
   * How much a match in a field counts towards the score, by field name (default 1); e.g. `{ title: 3 }`
   * ranks a word in the title above the same word in a description. Membership does not depend on it.
   */
  weights?: Readonly<Record<string, number>>;
  /** Prefix of the parameter and CTE names, for two searches in one statement; default `search`. */
  name?: string;
}

/** A search as SQL: a subquery yielding `entity_id` and `score` (higher is more relevant), one row each. */
export interface SearchSql {
  /** `SELECT entity_id, score …`, with TypeORM named parameters (`:search_all`…): wrap it in parentheses. */
  sql: string;
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
  source: Source,
  entityType: string,
  query: string | ParsedSearch,
  options: SearchQueryOptions = {},
): SearchSql {
  const search = typeof query === 'string' ? parseSearch(query, options) : query;
  if (!search.terms.length) throw new Error('searchQuery: the search has no term');
  const n = options.name ?? 'search';
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(n)) throw new Error(`searchQuery: invalid name "${n}"`);
  const parameters: Record<string, unknown> = { [`${n}_type`]: entityType };
  const weights = Object.entries(options.weights ?? {});
  const cases = weights.map(([field, w], i) => {
    if (!Number.isFinite(w) || w < 0) throw new Error(`searchQuery: weight of "${field}" must be >= 0`);
    parameters[`${n}_w${i}`] = field;
    return `WHEN :${n}_w${i} THEN ${w}`;
  });
  const weight = (column: string) => (cases.length ? `(CASE ${column} ${cases.join(' ')} ELSE 1 END)` : '1');

  if (isMysql(source)) {
    // Folded terms are letters and digits only: no boolean-mode operator can come from the user.
    parameters[`${n}_all`] = search.terms.map((t) => `+${t.text}${t.prefix ? '*' : ''}`).join(' ');
    parameters[`${n}_any`] = search.terms.map((t) => `${t.text}${t.prefix ? '*' : ''}`).join(' ');
    const d = `${n}_d`;
    const a = `${n}_a`;
    // Driven by the all-words match on the one 'all' row per entity (the FULLTEXT index finds few rows for a
    // narrow search), then the entity's per-field rows by primary key for the weighted score; matching the
    // any-word condition first would visit every row holding any of the words.
    const sql =
      `SELECT ${a}.entity_id AS entity_id, ` +
      `ROUND(SUM(MATCH (${d}.text) AGAINST (:${n}_any IN BOOLEAN MODE) * ${weight(`${d}.field`)}) * ${SCORE_SCALE}) AS score ` +
      `FROM ${SEARCH_TABLE} ${a} ` +
      `JOIN ${SEARCH_TABLE} ${d} ON ${d}.entity_type = ${a}.entity_type AND ${d}.entity_id = ${a}.entity_id ` +
      `AND ${d}.field <> '${ALL_FIELDS}' ` +
      `WHERE ${a}.entity_type = :${n}_type AND ${a}.field = '${ALL_FIELDS}' ` +
      `AND MATCH (${a}.text) AGAINST (:${n}_all IN BOOLEAN MODE) ` +
      `GROUP BY ${a}.entity_id`;
    return { sql, parameters, search };
  }

  const phrase = (t: { text: string; prefix: boolean }) => `"${t.text}"${t.prefix ? '*' : ''}`;
  parameters[`${n}_all`] = search.terms.map(phrase).join(' AND ');
  parameters[`${n}_any`] = search.terms.map(phrase).join(' OR ');
  // bm25() cannot be used under GROUP BY or an IN over the same table: materialize the matches first.
  const hits = `${n}_hits`;
  const all = `${n}_matches`;
  const sql =
    `WITH ${hits} AS MATERIALIZED (` +
    `SELECT h.entity_id AS entity_id, h.field AS field, -bm25(h.${SEARCH_FTS_TABLE}) AS relevance ` +
    `FROM ${SEARCH_FTS_TABLE} h WHERE h.${SEARCH_FTS_TABLE} MATCH :${n}_any ` +
    `AND h.entity_type = :${n}_type AND h.field <> '${ALL_FIELDS}'), ` +
    `${all} AS MATERIALIZED (` +
    `SELECT m.entity_id AS entity_id FROM ${SEARCH_FTS_TABLE} m WHERE m.${SEARCH_FTS_TABLE} MATCH :${n}_all ` +
    `AND m.entity_type = :${n}_type AND m.field = '${ALL_FIELDS}') ` +
    `SELECT ${hits}.entity_id AS entity_id, ` +
    `CAST(ROUND(SUM(${hits}.relevance * ${weight(`${hits}.field`)}) * ${SCORE_SCALE}) AS INTEGER) AS score ` +
    `FROM ${hits} WHERE ${hits}.entity_id IN (SELECT entity_id FROM ${all}) GROUP BY ${hits}.entity_id`;
  return { sql, parameters, search };
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

// ---------------------------------------------------------------------------------------------------------
// Storage

/** A row of {@link SEARCH_TABLE}: the searchable terms of one field of one entity. */
export interface SearchDocument {
  entityType: string;
  entityId: string;
  field: string;
  /** The field's terms (see {@link indexTerms}), space-separated; never the original text. */
  text: string;
}

/**
 * The entity of {@link SEARCH_TABLE}, for a subgraph's DataSource entities. The FULLTEXT index exists on
 * MySQL only and is created by {@link createSearchTables}: declared with `synchronize: false`, the drift
 * check neither asks for it on SQLite nor drops it on MySQL.
 */
export const SearchDocumentEntity = new EntitySchema<SearchDocument>({
  name: 'SearchDocument',
  tableName: SEARCH_TABLE,
  columns: {
    entityType: { type: 'varchar', length: ENTITY_TYPE_LENGTH, name: 'entity_type', primary: true },
    entityId: { type: 'varchar', length: ENTITY_ID_LENGTH, name: 'entity_id', primary: true },
    field: { type: 'varchar', length: FIELD_LENGTH, primary: true },
    text: { type: 'text' },
  },
  indices: [{ name: SEARCH_FULLTEXT_INDEX, columns: ['text'], fulltext: true, synchronize: false }],
});

/** Refuses a MySQL server whose full-text settings would index fewer words than SQLite. */
async function assertFulltextSettings(q: QueryRunner): Promise<void> {
  const [row] = (await q.query(
    'SELECT @@innodb_ft_min_token_size AS min_size, @@innodb_ft_max_token_size AS max_size',
  )) as { min_size: number | string; max_size: number | string }[];
  if (Number(row.min_size) > MIN_TERM_LENGTH) {
    throw new Error(
      `innodb_ft_min_token_size is ${row.min_size}: search indexes words of ${MIN_TERM_LENGTH} characters, ` +
        `set it to ${MIN_TERM_LENGTH} (the default) in the server configuration`,
    );
  }
  if (Number(row.max_size) < MAX_TERM_LENGTH) {
    throw new Error(
      `innodb_ft_max_token_size is ${row.max_size}: search indexes words of up to ${MAX_TERM_LENGTH} characters, ` +
        `set it to ${MAX_TERM_LENGTH} (the default) in the server configuration`,
    );
  }
}

/**
 * Migration step: creates {@link SEARCH_TABLE}; on MySQL with a FULLTEXT index on `text` and the binary
 * collation of `binaryCollation` (terms are already folded; ids compare by code point as the subgraphs'
 * ids do, so `entity_id = o.id` joins without a collation mix), on SQLite with the FTS5
 * table {@link SEARCH_FTS_TABLE} (`unicode61 remove_diacritics 2`). The FTS5 table keeps its own copy of the
 * rows, written by {@link indexDocuments} and {@link removeDocuments} in the same transaction: triggers
 * keyed by rowid would break when TypeORM recreates the table (its way to alter a SQLite table drops
 * triggers and renumbers rowids). On MySQL it refuses a server whose `innodb_ft_min_token_size` is above 3.
 */
export async function createSearchTables(q: QueryRunner): Promise<void> {
  const mysql = isMysql(q);
  if (mysql) await assertFulltextSettings(q);
  // Ids compare by code point, as the subgraphs' own ids do (a join on entity_id needs the same collation).
  const collation = binaryCollation(q.connection.options.type);
  const binary = (c: TableColumnOptions): TableColumnOptions =>
    collation ? { ...c, charset: 'utf8mb4', collation } : c;
  await q.createTable(
    new Table({
      name: SEARCH_TABLE,
      columns: [
        binary(col.key('entity_type', ENTITY_TYPE_LENGTH)),
        binary(col.key('entity_id', ENTITY_ID_LENGTH)),
        binary(col.key('field', FIELD_LENGTH)),
        binary(col.text('text')),
      ],
      ...(mysql
        ? {
            engine: 'InnoDB',
            indices: [
              new TableIndex({ name: SEARCH_FULLTEXT_INDEX, columnNames: ['text'], isFulltext: true }),
            ],
          }
        : {}),
    }),
  );
  // Relevance scores must not move on their own: see settleSearchStatistics.
  if (mysql) await q.query(`ALTER TABLE ${SEARCH_TABLE} STATS_PERSISTENT = 1, STATS_AUTO_RECALC = 0`);
  if (!mysql) {
    await q.query(
      `CREATE VIRTUAL TABLE ${SEARCH_FTS_TABLE} USING fts5(text, entity_type UNINDEXED, entity_id UNINDEXED, ` +
        `field UNINDEXED, tokenize = 'unicode61 remove_diacritics 2')`,
    );
  }
}

/*
 * MySQL's relevance scores depend on table statistics: InnoDB scores a full-text match with the row count its
 * statistics estimate, and by default re-samples them in the background some seconds after a bulk write.
 * Every score then changes, and relevance cursors handed out before (which carry scores) skip or repeat rows.
 * So the search table's statistics are persistent and not recalculated automatically (createSearchTables),
 * but once, by settleSearchStatistics, after each bulk write. SQLite's bm25 reads exact counts kept by FTS5.
 */

/**
 * MySQL only: recalculates the search table's statistics once, after a bulk write has committed (ANALYZE
 * TABLE commits any open transaction: call it outside one). Scores change now, not when InnoDB decides.
 */
export async function settleSearchStatistics(source: DataSource | QueryRunner): Promise<void> {
  const type = 'connection' in source ? source.connection.options.type : source.options.type;
  if (type === 'mysql' || type === 'mariadb') await source.query(`ANALYZE TABLE ${SEARCH_TABLE}`);
}

/** Migration step: drops what {@link createSearchTables} created. */
export async function dropSearchTables(q: QueryRunner): Promise<void> {
  if (!isMysql(q)) await q.query(`DROP TABLE IF EXISTS ${SEARCH_FTS_TABLE}`);
  await q.dropTable(SEARCH_TABLE);
}

/** What a subgraph indexes: the ORIGINAL text of one field of one entity (folded here). */
export interface SearchDocumentInput {
  entityType: string;
  entityId: string;
  field: string;
  text: string | null | undefined;
}

/**
 * The documents of some entities for {@link indexDocuments}: each row's searchable text by field. Give every
 * field, empty or not, so a text cleared since the last indexing leaves the index too.
 */
export function entityDocuments<T extends { id: string }>(
  entityType: string,
  rows: readonly T[],
  text: (row: T) => Record<string, string | null | undefined>,
): SearchDocumentInput[] {
  return rows.flatMap((row) =>
    Object.entries(text(row)).map(([field, value]) => ({ entityType, entityId: row.id, field, text: value })),
  );
}

const ROWS_PER_INSERT = 200;
const IDS_PER_DELETE = 500;

/** Runs in the caller's transaction when there is one, in a new one otherwise. */
function inTransaction<T>(manager: EntityManager, work: (m: EntityManager) => Promise<T>): Promise<T> {
  return manager.queryRunner?.isTransactionActive ? work(manager) : manager.transaction(work);
}

async function deleteEntities(m: EntityManager, entityType: string, ids: readonly string[]): Promise<void> {
  const sqlite = !isMysql(m);
  for (const part of chunk(ids, IDS_PER_DELETE)) {
    const marks = part.map(() => '?').join(', ');
    const which = `entity_type = ? AND entity_id IN (${marks})`;
    // The FTS5 row of a document has the document's rowid (see indexDocuments): deleting by rowid goes
    // through the primary key instead of scanning the FTS table's UNINDEXED columns.
    if (sqlite)
      await m.query(
        `DELETE FROM ${SEARCH_FTS_TABLE} WHERE rowid IN (SELECT rowid FROM ${SEARCH_TABLE} WHERE ${which})`,
        [entityType, ...part],
      );
    await m.query(`DELETE FROM ${SEARCH_TABLE} WHERE ${which}`, [entityType, ...part]);
  }
}

function checkLength(what: string, value: string, max: number): void {
  if (!value || value.length > max)
    throw new Error(`indexDocuments: ${what} "${value}" must be 1 to ${max} characters`);
}

/**
 * Replaces the indexed text of every entity named in `docs` by the given fields (a field not given is no
 * longer indexed; an entity whose fields are all empty is removed from the index), in one transaction with
 * multi-row statements. Text is folded here: pass the original. Returns the number of rows written.
 * `fresh`: the entities are known to have no indexed text yet (an importer's newly inserted rows), so the
 * delete of their old rows is skipped (on SQLite it costs a lookup per entity in the FTS5 table).
 */
export async function indexDocuments(
  manager: EntityManager,
  docs: readonly SearchDocumentInput[],
  options: { fresh?: boolean } = {},
): Promise<number> {
  const entities = new Map<string, { entityType: string; entityId: string; fields: Map<string, string[]> }>();
  for (const d of docs) {
    checkLength('entityType', d.entityType, ENTITY_TYPE_LENGTH);
    checkLength('entityId', d.entityId, ENTITY_ID_LENGTH);
    checkLength('field', d.field, FIELD_LENGTH);
    if (d.field === ALL_FIELDS) throw new Error(`indexDocuments: the field name "${ALL_FIELDS}" is reserved`);
    const key = JSON.stringify([d.entityType, d.entityId]);
    let e = entities.get(key);
    if (!e) entities.set(key, (e = { entityType: d.entityType, entityId: d.entityId, fields: new Map() }));
    if (e.fields.has(d.field))
      throw new Error(`indexDocuments: ${d.entityType} ${d.entityId} has the field "${d.field}" twice`);
    e.fields.set(d.field, d.text ? indexTerms(d.text) : []);
  }
  const rows: SearchDocument[] = [];
  for (const e of entities.values()) {
    const every: string[] = [];
    for (const [field, terms] of e.fields) {
      if (!terms.length) continue;
      rows.push({ entityType: e.entityType, entityId: e.entityId, field, text: documentText(terms) });
      every.push(...terms);
    }
    if (every.length)
      rows.push({
        entityType: e.entityType,
        entityId: e.entityId,
        field: ALL_FIELDS,
        text: documentText(every),
      });
  }
  const byType = new Map<string, string[]>();
  for (const e of entities.values()) {
    const ids = byType.get(e.entityType);
    if (ids) ids.push(e.entityId);
    else byType.set(e.entityType, [e.entityId]);
  }

  return inTransaction(manager, async (m) => {
    if (!options.fresh) for (const [type, ids] of byType) await deleteEntities(m, type, ids);
    for (const part of chunk(rows, ROWS_PER_INSERT)) {
      const values = part.map(() => '(?, ?, ?, ?)').join(', ');
      const params = part.flatMap((r) => [r.entityType, r.entityId, r.field, r.text]);
      await m.query(
        `INSERT INTO ${SEARCH_TABLE} (entity_type, entity_id, field, text) VALUES ${values}`,
        params,
      );
    }
    // SQLite: copy the new documents into FTS5 under their own rowids, found through the primary key.
    if (!isMysql(m)) {
      for (const [type, ids] of byType) {
        for (const part of chunk(ids, IDS_PER_DELETE)) {
          await m.query(
            `INSERT INTO ${SEARCH_FTS_TABLE} (rowid, text, entity_type, entity_id, field) ` +
              `SELECT rowid, text, entity_type, entity_id, field FROM ${SEARCH_TABLE} ` +
              `WHERE entity_type = ? AND entity_id IN (${part.map(() => '?').join(', ')})`,
            [type, ...part],
          );
        }
      }
    }
    return rows.length;
  });
}

/** Removes entities from the index (e.g. when they are deleted), in one transaction. */
export async function removeDocuments(
  manager: EntityManager,
  entityType: string,
  ids: readonly string[],
): Promise<void> {
  if (!ids.length) return;
  await inTransaction(manager, (m) => deleteEntities(m, entityType, ids));
}

/**
 * Rebuilds SQLite's FTS5 table from {@link SEARCH_TABLE}, for rows written there without this module.
 * Nothing to do on MySQL, whose FULLTEXT index is maintained by InnoDB.
 */
export async function rebuildSearchIndex(manager: EntityManager): Promise<void> {
  if (isMysql(manager)) return;
  await inTransaction(manager, async (m) => {
    await m.query(`DELETE FROM ${SEARCH_FTS_TABLE}`);
    await m.query(
      `INSERT INTO ${SEARCH_FTS_TABLE} (rowid, text, entity_type, entity_id, field) ` +
        `SELECT rowid, text, entity_type, entity_id, field FROM ${SEARCH_TABLE}`,
    );
  });
}

// ---------------------------------------------------------------------------------------------------------
// Highlights

/** Why an entity matched: a field and a short passage of its original text with the matching words marked. */
export interface SearchHighlight {
  field: string;
  snippet: string;
}

export interface HighlightOptions extends SearchOptions {
  /** About how many characters of the original text a snippet shows; default 80. */
  width?: number;
  /** Around each matching word; default `<mark>` and `</mark>`. */
  open?: string;
  close?: string;
  /**
   * Default true: the rest of the snippet is HTML-escaped, so the snippet is a safe HTML fragment. Guillemets
   * were not chosen as markers because French text uses them as quotation marks.
   */
  escapeHtml?: boolean;
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);

interface Hit {
  start: number;
  end: number;
  term: number;
}

/** The words of a text that match the search, as spans of the original text. */
function hitsIn(text: string, search: ParsedSearch): Hit[] {
  const hits: Hit[] = [];
  for (const token of foldTokens(text)) {
    const term = termOf(token.text);
    if (!term) continue;
    const i = search.terms.findIndex((t) => (t.prefix ? term.startsWith(t.text) : term === t.text));
    if (i < 0) continue;
    const last = hits[hits.length - 1];
    // One original character can fold to two words ("½"): never mark the same text twice.
    if (last && token.start < last.end) continue;
    hits.push({ start: token.start, end: token.end, term: i });
  }
  return hits;
}

/** The window of about `width` characters showing the most distinct terms, on word boundaries. */
function snippetWindow(text: string, hits: readonly Hit[], width: number): { start: number; end: number } {
  if (text.length <= width) return { start: 0, end: text.length };
  const lead = Math.floor(width / 4);
  const from = (h: Hit) => Math.max(0, h.start - lead);
  let anchor = hits[0];
  let most = 0;
  for (const h of hits) {
    const start = from(h);
    const count = new Set(hits.filter((o) => o.start >= start && o.end <= start + width).map((o) => o.term))
      .size;
    if (count > most) [anchor, most] = [h, count];
  }
  const rawStart = from(anchor);
  const rawEnd = Math.max(rawStart + width, anchor.end);
  const words = foldTokens(text);
  // Start at the first word not cut by the window (never after the matching word), end after the last word
  // that fits; only punctuation or spaces before or after is shown as is.
  let start = Math.min(words.find((w) => w.start >= rawStart)?.start ?? anchor.start, anchor.start);
  if (!words.some((w) => w.start < start)) start = 0;
  let end = anchor.end;
  for (const w of words) if (w.end <= rawEnd && w.end > end) end = w.end;
  if (!words.some((w) => w.end > end)) end = text.length;
  return { start, end };
}

/**
 * Why each field matched: for every field whose ORIGINAL text holds a word of the search, a passage of
 * about 80 characters around the matches with each matching word (the whole original word, accents and
 * harakat included) wrapped in `<mark>…</mark>`, the rest HTML-escaped, and `…` where the text was cut.
 * Fields come in the order of `original`; a field without a match is left out. Words match as the backends
 * match them (folded, same terms), so an entity found by {@link searchQuery} has at least one highlight.
 */
export function highlight(
  original: Readonly<Record<string, string | null | undefined>>,
  query: string | ParsedSearch,
  options: HighlightOptions = {},
): SearchHighlight[] {
  const search = typeof query === 'string' ? termsOf(query, options.prefix ?? 'last') : query;
  if (!search.terms.length) return [];
  const width = options.width ?? 80;
  const open = options.open ?? '<mark>';
  const close = options.close ?? '</mark>';
  const escape = options.escapeHtml === false ? (s: string) => s : escapeHtml;
  const out: SearchHighlight[] = [];
  for (const [field, text] of Object.entries(original)) {
    if (!text) continue;
    const hits = hitsIn(text, search);
    if (!hits.length) continue;
    const w = snippetWindow(text, hits, width);
    let snippet = '';
    let at = w.start;
    for (const h of hits) {
      if (h.start < w.start || h.end > w.end) continue;
      snippet += escape(text.slice(at, h.start)) + open + escape(text.slice(h.start, h.end)) + close;
      at = h.end;
    }
    snippet += escape(text.slice(at, w.end));
    snippet = snippet.replace(/\s+/g, ' ').trim();
    out.push({
      field,
      snippet: `${w.start > 0 ? '…' : ''}${snippet}${w.end < text.length ? '…' : ''}`,
    });
  }
  return out;
}
