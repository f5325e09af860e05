/**
 * Full-text search over a subgraph's own entities, the same on MySQL (InnoDB FULLTEXT) and on the embedded
 * SQLite (FTS5).
 *
 * How it works. Text is folded by {@link foldText} in the application, the same way for what is indexed and
 * for what is asked: accents, case, Arabic diacritics and letter variants do not matter. Each entity gets
 * one row per searchable field in `search_documents` (its searchable terms, see {@link indexTerms}) plus one
 * row `field = 'all'` holding every field's terms: a query must find ALL its words in that row, so the
 * words may come from different fields ("Khénifra بني" finds the region named Béni Mellal-Khénifra in French
 * and بني ملال خنيفرة in Arabic); the per-field rows only rank (a field can weigh more than another). A type
 * whose per-field rows cost more to write than their ranking is worth is indexed and ranked by its `all` row
 * alone (`perField: false`: budget lines, a million rows written by imports).
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
 *
 * The folder, one file per concern: `fold.ts` (what a word is), `query.ts` (reading a user's search),
 * `schema.ts` (the table), `sql.ts` (a search as SQL, its scores), `migration.ts` (creating the tables),
 * `index-writer.ts` (writing documents), `highlight.ts` (why an entity matched), `found.ts` (how a node
 * remembers its search) and `connection.ts` (the searchable, ordered list every subgraph pages). This file
 * is the public API, `@civic/common/search`.
 */

export { foldText, foldTokens, indexTerms, MAX_TERM_LENGTH, MIN_TERM_LENGTH, STOPWORDS } from './fold';
export type { FoldedToken } from './fold';
export { MAX_QUERY_LENGTH, MAX_QUERY_TERMS, parseSearch } from './query';
export type { ParsedSearch, PrefixMode, SearchOptions } from './query';
export {
  ALL_FIELDS,
  MAX_DOCUMENT_BYTES,
  SEARCH_FTS_TABLE,
  SEARCH_FULLTEXT_INDEX,
  SEARCH_TABLE,
  SearchDocumentEntity,
} from './schema';
export type { SearchDocument } from './schema';
export { relevanceOrder, searchCount, searchFindsMoreThan, searchQuery, searchScores } from './sql';
export type { SearchQueryOptions, SearchSql } from './sql';
export {
  createSearchTables,
  defaultSearchStatistics,
  dropSearchTables,
  sampleSearchStatistics,
  scopeSearchIndex,
  SEARCH_STATS_SAMPLE_PAGES,
  settleSearchStatistics,
  unscopeSearchIndex,
} from './migration';
export { entityDocuments, indexDocuments, rebuildSearchIndex, removeDocuments } from './index-writer';
export type { SearchDocumentInput } from './index-writer';
export { highlight } from './highlight';
export type { HighlightOptions, SearchHighlight } from './highlight';
export { foundBy, foundHighlights, markFound, withFoundBy } from './found';
export {
  decodeRelevanceCursor,
  encodeRelevanceCursor,
  joinSearch,
  listSearch,
  relevanceField,
  RANK_LIMIT,
  relevanceTerm,
  SEARCH_ALIAS,
  SEARCH_ARGUMENT,
  searchableConnection,
  whereSearch,
} from './connection';
export type { RelevanceAfter, SearchableOptions } from './connection';
