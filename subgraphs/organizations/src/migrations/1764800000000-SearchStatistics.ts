import type { MigrationInterface, QueryRunner } from 'typeorm';
import { defaultSearchStatistics, sampleSearchStatistics } from '@civic/common/search';

/**
 * SearchStatistics (MySQL only): the search table's row estimate, which full-text relevance divides by, is
 * read from enough pages to be exact for small tables (see common/src/search/migration.ts).
 */
export class SearchStatistics1764800000000 implements MigrationInterface {
  name = 'SearchStatistics1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await sampleSearchStatistics(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await defaultSearchStatistics(q);
  }
}
