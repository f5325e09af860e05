import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  createSearchTables,
  dropSearchTables,
  indexDocuments,
  settleSearchStatistics,
  type SearchDocumentInput,
} from '@civic/common/search';

/** Organizations read per statement while backfilling, so memory stays flat however many there are. */
const BATCH = 2000;

interface NameRow {
  id: string;
  name_fr: string | null;
  name_ar: string | null;
  name_en: string | null;
  name_es: string | null;
}

/**
 * Full-text search over organization names (common/src/search/): creates `search_documents` and indexes
 * the organizations already there. The document fields are spelled out here rather than taken from the
 * application code, so this migration does the same thing whatever the code becomes later.
 */
export class Search1764300000000 implements MigrationInterface {
  name = 'Search1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await createSearchTables(q);
    // Keyset over the id (binary-collated on MySQL since BinaryKeys, so `>` and ORDER BY agree).
    for (let after = ''; ;) {
      const rows: NameRow[] = await q.query(
        'SELECT id, name_fr, name_ar, name_en, name_es FROM organizations WHERE id > ? ORDER BY id LIMIT ?',
        [after, BATCH],
      );
      if (!rows.length) break;
      const docs: SearchDocumentInput[] = rows.flatMap((r) =>
        (
          [
            ['nameFr', r.name_fr],
            ['nameEn', r.name_en],
            ['nameAr', r.name_ar],
            ['nameEs', r.name_es],
          ] as const
        ).map(([field, text]) => ({ entityType: 'Organization', entityId: r.id, field, text })),
      );
      await indexDocuments(q.manager, docs);
      after = rows[rows.length - 1].id;
    }
    await settleSearchStatistics(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await dropSearchTables(q);
  }
}
