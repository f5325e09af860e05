import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysql } from '@civic/common/dialect';
import {
  ALL_FIELDS,
  indexDocuments,
  SEARCH_FTS_TABLE,
  SEARCH_TABLE,
  settleSearchStatistics,
} from '@civic/common/search';
import type { BudgetLine } from '../entities/Budget';
import { LINE_SEARCH_TYPE, lineDocuments } from '../search';

/** Documents deleted per statement on MySQL (one undo segment of bounded size each). */
const DELETE_BATCH = 10_000;
/** Lines read per statement when `down` indexes their fields again. */
const BATCH = 1000;

type LabelRow = Pick<BudgetLine, 'id' | 'labelAr' | 'labelFr' | 'labelEn' | 'labelEs'>;

/**
 * A budget line is one search document now (its `all` row: LINE_INDEX in ../search.ts), ranked by it. A
 * database indexed before keeps each line's per-field rows, which no search reads any more but which weigh in
 * the index's statistics (InnoDB's relevance divides by the number of rows) and take room: at a million lines,
 * some three million rows. This removes them (on MySQL, then rebuilds the FULLTEXT index, which keeps deleted
 * documents until then) and settles the search statistics once (MySQL). `down` writes
 * them again from the lines, as the application wrote them before.
 */
export class LineSearchDocuments1796660000000 implements MigrationInterface {
  name = 'LineSearchDocuments1796660000000';

  async up(q: QueryRunner): Promise<void> {
    const which = `entity_type = ? AND field <> ?`;
    const params = [LINE_SEARCH_TYPE, ALL_FIELDS];
    if (isMysql(q)) {
      // In bounded statements: one DELETE of millions of rows holds them all in one undo log.
      for (;;) {
        const result = (await q.query(
          `DELETE FROM ${SEARCH_TABLE} WHERE ${which} LIMIT ${DELETE_BATCH}`,
          params,
        )) as {
          affectedRows?: number;
        };
        if (!result.affectedRows) break;
      }
      // InnoDB keeps a deleted document in its FULLTEXT index, listed as deleted, until the index is rebuilt:
      // every MATCH then filters those out (at a million lines, the 1.5 million ids this leaves made a rare
      // two-word search take 261 ms instead of 23). Rebuilding the table rebuilds the index (6 s there). The
      // stopwords a rebuild brings back are never indexed nor searched (common/src/search/fold.ts).
      await q.query(`ALTER TABLE ${SEARCH_TABLE} FORCE`);
      await settleSearchStatistics(q);
      return;
    }
    // The FTS5 row of a document has the document's rowid (index-writer.ts): delete by rowid.
    await q.query(
      `DELETE FROM ${SEARCH_FTS_TABLE} WHERE rowid IN (SELECT rowid FROM ${SEARCH_TABLE} WHERE ${which})`,
      params,
    );
    await q.query(`DELETE FROM ${SEARCH_TABLE} WHERE ${which}`, params);
  }

  async down(q: QueryRunner): Promise<void> {
    let after: string | null = null;
    for (;;) {
      const rows: LabelRow[] = await q.query(
        'SELECT id, label_ar AS labelAr, label_fr AS labelFr, label_en AS labelEn, label_es AS labelEs ' +
          `FROM budget_lines ${after === null ? '' : 'WHERE id > ? '}ORDER BY id LIMIT ${BATCH}`,
        after === null ? [] : [after],
      );
      if (!rows.length) break;
      await indexDocuments(q.manager, lineDocuments(rows));
      after = rows[rows.length - 1].id;
    }
    await settleSearchStatistics(q);
  }
}
