import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { col } from '@civic/common/migration-columns';

export class CreateBudgets1764000000000 implements MigrationInterface {
  name = 'CreateBudgets1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'budgets',
        columns: [
          col.key('id', 191),
          col.varchar('organization_id', 191),
          col.int('fiscal_year'),
          col.varchar('currency', 3),
          ...col.provenance(),
        ],
        indices: [
          new TableIndex({ name: 'IDX_budgets_org_year', columnNames: ['organization_id', 'fiscal_year'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'budget_lines',
        columns: [
          col.key('id', 191),
          col.varchar('budget_id', 191),
          col.varchar('direction', 16),
          col.varchar('code', 64),
          ...col.localized('label', 1024),
          col.varchar('classification', 64, true),
          ...col.provenance(),
        ],
        indices: [
          new TableIndex({
            name: 'IDX_budget_lines_budget_direction',
            columnNames: ['budget_id', 'direction'],
          }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'budget_amounts',
        columns: [
          col.key('line_id', 191),
          col.key('phase', 16),
          col.key('as_of', 10),
          col.bigint('amount_minor'),
          col.varchar('source_record', 255, true),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'commitment_budget_lines',
        columns: [col.key('commitment_id', 64), col.key('line_id', 191), ...col.provenance()],
        indices: [new TableIndex({ name: 'IDX_commitment_budget_lines_line', columnNames: ['line_id'] })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['commitment_budget_lines', 'budget_amounts', 'budget_lines', 'budgets']) {
      await q.dropTable(t);
    }
  }
}
