import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createDataVersionTable, dropDataVersionTable } from '@civic/common/data-version';

/** The version of this subgraph's data, raised by every write (common/src/data-version.ts): the response cache's key. */
export class DataVersions1796605037203 implements MigrationInterface {
  name = 'DataVersions1796605037203';

  async up(q: QueryRunner): Promise<void> {
    await createDataVersionTable(q, 'organizations');
  }

  async down(q: QueryRunner): Promise<void> {
    await dropDataVersionTable(q);
  }
}
