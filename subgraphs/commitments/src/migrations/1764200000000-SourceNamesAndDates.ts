import { TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { col } from '@civic/common/migration-columns';

/**
 * The names the sources give members and lead institutions, so commitment statistics can be labelled without
 * a query to the organizations subgraph; and indexes for the start and end date filters and orders.
 */
export class SourceNamesAndDates1764200000000 implements MigrationInterface {
  name = 'SourceNamesAndDates1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('action_plans', new TableColumn(col.varchar('member_name', 255, true)));
    await q.addColumn('commitments', new TableColumn(col.varchar('lead_organization_name', 255, true)));
    await q.createIndex(
      'commitments',
      new TableIndex({ name: 'IDX_commitments_start_date', columnNames: ['start_date'] }),
    );
    await q.createIndex(
      'commitments',
      new TableIndex({ name: 'IDX_commitments_end_date', columnNames: ['end_date'] }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('commitments', 'IDX_commitments_end_date');
    await q.dropIndex('commitments', 'IDX_commitments_start_date');
    await q.dropColumn('commitments', 'lead_organization_name');
    await q.dropColumn('action_plans', 'member_name');
  }
}
