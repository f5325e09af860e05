import type { MigrationInterface, QueryRunner } from 'typeorm';
import { scopeSearchIndex, unscopeSearchIndex } from '@civic/common/search';

/**
 * SearchScope (SQLite only): the FTS5 search table gets its `scope` column, the entity type's token in each
 * entity's `all` row, so a search counts and probes its matches from the index alone (see
 * common/src/search/schema.ts). Rebuilds the FTS5 table from search_documents.
 */
export class SearchScope1796650000000 implements MigrationInterface {
  name = 'SearchScope1796650000000';

  async up(q: QueryRunner): Promise<void> {
    await scopeSearchIndex(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await unscopeSearchIndex(q);
  }
}
