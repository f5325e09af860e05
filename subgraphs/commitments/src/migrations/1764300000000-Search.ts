import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  createSearchTables,
  dropSearchTables,
  indexDocuments,
  settleSearchStatistics,
} from '@civic/common/search';
import { actionPlanDocuments, commitmentDocuments } from '../search';

/** Rows read per statement while indexing what is already stored. */
const BATCH = 1000;

/**
 * Full-text search over commitments and action plans: the search tables (common/src/search/), and the rows
 * already stored indexed into them. The index is derived data, so the backfill indexes the fields the
 * application indexes today (../search.ts), exactly as the seed and the generator do. On MySQL the search
 * table's statistics, which relevance scores depend on, change only when settled (see ../search.ts).
 */
export class Search1764300000000 implements MigrationInterface {
  name = 'Search1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await createSearchTables(q);
    await backfill(
      q,
      'SELECT id, title, title_fr AS titleFr, title_en AS titleEn, title_ar AS titleAr, title_es AS titleEs, ' +
        'short_title AS shortTitle, description, theme FROM commitments',
      commitmentDocuments,
    );
    await backfill(q, 'SELECT id, member_name AS memberName FROM action_plans', actionPlanDocuments);
    // MySQL has committed already (DDL commits implicitly): settling the statistics loses no atomicity.
    await settleSearchStatistics(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await dropSearchTables(q);
  }
}

/** Indexes the rows of `select` in batches in id order (ids compare by code point on both backends). */
async function backfill<T extends { id: string }>(
  q: QueryRunner,
  select: string,
  documents: (rows: T[]) => Parameters<typeof indexDocuments>[1],
): Promise<void> {
  let after: string | null = null;
  for (;;) {
    const rows: T[] = await q.query(
      `${select} ${after === null ? '' : 'WHERE id > ? '}ORDER BY id LIMIT ${BATCH}`,
      after === null ? [] : [after],
    );
    if (!rows.length) return;
    await indexDocuments(q.manager, documents(rows));
    after = rows[rows.length - 1].id;
  }
}
