import type { MigrationInterface, QueryRunner } from 'typeorm';
import { addAdjustmentColumns, dropAdjustmentColumns } from '@civic/common/import/runs';

const TABLES = ['action_plans', 'commitments'];

/** Source adjustments: each value a record stores otherwise than its source cell wrote it, and why (JSON). */
export class SourceAdjustments1764600000000 implements MigrationInterface {
  name = 'SourceAdjustments1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await addAdjustmentColumns(q, TABLES);
  }

  async down(q: QueryRunner): Promise<void> {
    await dropAdjustmentColumns(q, TABLES);
  }
}
