import { Table, TableIndex, type DataSource, type QueryRunner, type TableColumnOptions } from 'typeorm';
import { binaryCollation, isMysql } from '../dialect';
import { col } from '../migration-columns';
import { MAX_TERM_LENGTH, MIN_TERM_LENGTH } from './fold';
import {
  ENTITY_ID_LENGTH,
  ENTITY_TYPE_LENGTH,
  FIELD_LENGTH,
  FTS_COLUMNS,
  FTS_VALUES,
  SEARCH_FTS_TABLE,
  SEARCH_FULLTEXT_INDEX,
  SEARCH_TABLE,
} from './schema';

/*
 * The search tables' lifecycle: created and dropped by each subgraph's Search migration, their MySQL
 * statistics settled after each bulk write.
 */

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
 * ids do, so `entity_id = o.id` joins without a collation mix), on SQLite with the FTS5 table
 * {@link SEARCH_FTS_TABLE} (`unicode61 remove_diacritics 2`, with the `scope` column that
 * {@link scopeSearchIndex} gives a database created before it). The FTS5 table keeps its own copy of the
 * rows, written by {@link indexDocuments} and {@link removeDocuments} in the same transaction: triggers
 * keyed by rowid would break when TypeORM recreates the table (its way to alter a SQLite table drops
 * triggers and renumbers rowids). On MySQL it refuses a server whose `innodb_ft_min_token_size` is above 3.
 */
export async function createSearchTables(q: QueryRunner): Promise<void> {
  const mysql = isMysql(q);
  if (mysql) await assertFulltextSettings(q);
  // Ids compare by code point, as the subgraphs' own ids do (a join on entity_id needs the same collation).
  const collation = binaryCollation(q);
  const byCodePoint = (c: TableColumnOptions): TableColumnOptions =>
    collation ? { ...c, charset: 'utf8mb4', collation } : c;
  await q.createTable(
    new Table({
      name: SEARCH_TABLE,
      columns: [
        byCodePoint(col.key('entity_type', ENTITY_TYPE_LENGTH)),
        byCodePoint(col.key('entity_id', ENTITY_ID_LENGTH)),
        byCodePoint(col.key('field', FIELD_LENGTH)),
        byCodePoint(col.text('text')),
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
  if (!mysql) await createFtsTable(q, true);
}

/**
 * SQLite: creates {@link SEARCH_FTS_TABLE}, with the `scope` column ({@link FTS_SCOPE_SQL}) or, `scoped`
 * false, as it was before it (for {@link unscopeSearchIndex}).
 */
async function createFtsTable(q: QueryRunner, scoped: boolean): Promise<void> {
  await q.query(
    `CREATE VIRTUAL TABLE ${SEARCH_FTS_TABLE} USING fts5(text, ${scoped ? 'scope, ' : ''}entity_type UNINDEXED, ` +
      `entity_id UNINDEXED, field UNINDEXED, tokenize = 'unicode61 remove_diacritics 2')`,
  );
}

/** SQLite: whether {@link SEARCH_FTS_TABLE} has the `scope` column. */
async function ftsIsScoped(q: QueryRunner): Promise<boolean> {
  const columns = (await q.query(`PRAGMA table_xinfo(${SEARCH_FTS_TABLE})`)) as { name: string }[];
  return columns.some((c) => c.name === 'scope');
}

/**
 * Migration step (SQLite only): gives an FTS5 table created before the `scope` column
 * ({@link FTS_SCOPE_SQL}) that column: FTS5 tables cannot be altered, so it is created again and filled
 * from {@link SEARCH_TABLE} (every document; at a million budget lines, some minutes). Nothing to do when
 * the table has it already (created by this version of {@link createSearchTables}), nor on MySQL.
 */
export async function scopeSearchIndex(q: QueryRunner): Promise<void> {
  if (isMysql(q) || (await ftsIsScoped(q))) return;
  await q.query(`DROP TABLE ${SEARCH_FTS_TABLE}`);
  await createFtsTable(q, true);
  await q.query(`INSERT INTO ${SEARCH_FTS_TABLE} (${FTS_COLUMNS}) SELECT ${FTS_VALUES} FROM ${SEARCH_TABLE}`);
}

/** Migration step: {@link scopeSearchIndex} undone (the FTS5 table without `scope`, filled again). */
export async function unscopeSearchIndex(q: QueryRunner): Promise<void> {
  if (isMysql(q) || !(await ftsIsScoped(q))) return;
  await q.query(`DROP TABLE ${SEARCH_FTS_TABLE}`);
  await createFtsTable(q, false);
  await q.query(
    `INSERT INTO ${SEARCH_FTS_TABLE} (rowid, text, entity_type, entity_id, field) ` +
      `SELECT rowid, text, entity_type, entity_id, field FROM ${SEARCH_TABLE}`,
  );
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
  if (isMysql(source)) await source.query(`ANALYZE TABLE ${SEARCH_TABLE}`);
}

/**
 * Pages ANALYZE reads to estimate the search table's row count on MySQL: the whole table up to 64 MiB, a
 * sample of that size beyond. InnoDB's full-text relevance divides by that estimate; the default sample (20
 * pages) can put it far below the number of documents holding a common word, whose weight then comes out
 * near zero, so relevance order and scores would depend on which pages were sampled.
 */
export const SEARCH_STATS_SAMPLE_PAGES = 4096;

/**
 * Migration step (MySQL only): makes {@link settleSearchStatistics} estimate the search table's rows from
 * {@link SEARCH_STATS_SAMPLE_PAGES} pages, then settles them once.
 */
export async function sampleSearchStatistics(q: QueryRunner): Promise<void> {
  if (!isMysql(q)) return;
  await q.query(`ALTER TABLE ${SEARCH_TABLE} STATS_SAMPLE_PAGES = ${SEARCH_STATS_SAMPLE_PAGES}`);
  await settleSearchStatistics(q);
}

/** Migration step: back to the server's default sample ({@link sampleSearchStatistics} undone). */
export async function defaultSearchStatistics(q: QueryRunner): Promise<void> {
  if (isMysql(q)) await q.query(`ALTER TABLE ${SEARCH_TABLE} STATS_SAMPLE_PAGES = DEFAULT`);
}

/** Migration step: drops what {@link createSearchTables} created. */
export async function dropSearchTables(q: QueryRunner): Promise<void> {
  if (!isMysql(q)) await q.query(`DROP TABLE IF EXISTS ${SEARCH_FTS_TABLE}`);
  await q.dropTable(SEARCH_TABLE);
}
