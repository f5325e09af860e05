import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createImportTables, dropImportTables } from '@civic/common/import/runs';

const TABLES = ['organizations'];

/** Imports: where each record was imported from (file, checksum, line, time, content digest) and the runs. */
export class Imports1764400000000 implements MigrationInterface {
  name = 'Imports1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await createImportTables(q, TABLES);
  }

  async down(q: QueryRunner): Promise<void> {
    await dropImportTables(q, TABLES);
  }
}
