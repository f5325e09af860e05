import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  createSearchTables,
  dropSearchTables,
  indexDocuments,
  settleSearchStatistics,
} from '@civic/common/search';
import type { BudgetLine } from '../entities/Budget';
import { LINE_INDEX, lineDocuments } from '../search';

/** Lines read per statement while indexing what is already stored. */
const BATCH = 1000;

type LabelRow = Pick<BudgetLine, 'id' | 'labelAr' | 'labelFr' | 'labelEn' | 'labelEs'>;

/**
 * Full-text search over budget lines: the search tables (common/src/search/), and the lines already stored
 * indexed into them. The index is derived data, so the backfill indexes the fields the application indexes
 * today (../search.ts), exactly as the seed and the generator do.
 */
export class Search1764300000000 implements MigrationInterface {
  name = 'Search1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await createSearchTables(q);
    // In id order (ids compare by code point on both backends), a batch at a time: memory stays flat
    // however many lines there are.
    let after: string | null = null;
    for (;;) {
      const rows: LabelRow[] = await q.query(
        'SELECT id, label_ar AS labelAr, label_fr AS labelFr, label_en AS labelEn, label_es AS labelEs ' +
          `FROM budget_lines ${after === null ? '' : 'WHERE id > ? '}ORDER BY id LIMIT ${BATCH}`,
        after === null ? [] : [after],
      );
      if (!rows.length) break;
      await indexDocuments(q.manager, lineDocuments(rows), LINE_INDEX);
      after = rows[rows.length - 1].id;
    }
    await settleSearchStatistics(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await dropSearchTables(q);
  }
}
