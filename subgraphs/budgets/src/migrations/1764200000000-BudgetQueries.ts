import { TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { setKeyCollation, type KeyColumn } from '@civic/common/migration-columns';

/** Codes compare by code point on MySQL as on SQLite, so CODE order and code-level groups agree. */
const CODE: KeyColumn[] = [{ table: 'budget_lines', column: 'code', length: 64, nullable: false }];

/**
 * For the budget queries: lines by code (CODE order, `codePrefix`, which is a LIKE prefix) and budgets by
 * fiscal year (FISCAL_YEAR order and year filters across organizations).
 */
export class BudgetQueries1764200000000 implements MigrationInterface {
  name = 'BudgetQueries1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await setKeyCollation(q, CODE, 'binary');
    await q.createIndex(
      'budget_lines',
      new TableIndex({ name: 'IDX_budget_lines_code', columnNames: ['code'] }),
    );
    await q.createIndex(
      'budgets',
      new TableIndex({ name: 'IDX_budgets_fiscal_year', columnNames: ['fiscal_year'] }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('budgets', 'IDX_budgets_fiscal_year');
    await q.dropIndex('budget_lines', 'IDX_budget_lines_code');
    await setKeyCollation(q, CODE, 'default');
  }
}
