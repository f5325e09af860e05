import { EntitySchema } from 'typeorm';

/*
 * Where search documents are stored: the table, its FTS5 companion on SQLite, its FULLTEXT index on MySQL,
 * and the sizes of its columns.
 */

/** The table of searchable text, one per subgraph database. */
export const SEARCH_TABLE = 'search_documents';
/** SQLite only: the FTS5 table over {@link SEARCH_TABLE}, written alongside it by index-writer.ts. */
export const SEARCH_FTS_TABLE = 'search_documents_fts';
/** MySQL only: the FULLTEXT index on `search_documents.text`. */
export const SEARCH_FULLTEXT_INDEX = 'FTX_search_documents_text';
/** The field holding every field's terms of an entity; reserved. */
export const ALL_FIELDS = 'all';
/**
 * SQLite only: what the FTS5 column `scope` holds for a row of {@link SEARCH_TABLE} (SQL over its columns):
 * for an entity's `all` row, one token naming its entity type (the hexadecimal of its UTF-8 bytes, one
 * token whatever characters the type has, see {@link ftsScopeToken}); nothing for the per-field rows. A
 * search then finds the `all` rows of one entity type from the index alone (`scope : <token>`), without
 * reading each match's `entity_type` and `field`: counts and probes read doclists only.
 */
export const FTS_SCOPE_SQL = `CASE field WHEN '${ALL_FIELDS}' THEN hex(entity_type) END`;
/** The token {@link FTS_SCOPE_SQL} writes for an entity type (SQLite's hex() of its UTF-8 text, folded to lower case). */
export const ftsScopeToken = (entityType: string): string => Buffer.from(entityType, 'utf8').toString('hex');
/** SQLite: the columns of {@link SEARCH_FTS_TABLE} a row is copied into, and their values from {@link SEARCH_TABLE}. */
export const FTS_COLUMNS = 'rowid, text, scope, entity_type, entity_id, field';
export const FTS_VALUES = `rowid, text, ${FTS_SCOPE_SQL}, entity_type, entity_id, field`;
/** `search_documents.text` is a TEXT column on MySQL: a document's terms are cut at a term boundary to fit. */
export const MAX_DOCUMENT_BYTES = 65535;

/** Column sizes of {@link SEARCH_TABLE}: the keys of one document. */
export const ENTITY_TYPE_LENGTH = 32;
export const ENTITY_ID_LENGTH = 191;
export const FIELD_LENGTH = 32;

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
