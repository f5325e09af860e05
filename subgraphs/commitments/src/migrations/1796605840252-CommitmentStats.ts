import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { col, setKeyCollation } from '@civic/common/migration-columns';
import { refreshCommitmentStats, STAT_CELLS } from '../stats';

/**
 * Issue 11: commitment counts by country, scales, policy area and OGP value (stats.ts), which
 * `commitmentStats` over every commitment reads; filled here from the existing commitments, by the code the
 * writers use afterwards.
 */
export class CommitmentStats1796605840252 implements MigrationInterface {
  name = 'CommitmentStats1796605840252';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: STAT_CELLS,
        columns: [
          col.varchar('grain', 16),
          col.int('planned'),
          col.varchar('country', 2, true),
          col.varchar('value', 128, true),
          col.varchar('potential_impact', 32, true),
          col.varchar('completion_midterm', 32, true),
          col.varchar('completion_end_of_term', 32, true),
          col.int('n'),
        ],
        indices: [
          new TableIndex({ name: 'IDX_commitment_stat_cells_grain', columnNames: ['grain', 'planned'] }),
        ],
      }),
    );
    await setKeyCollation(
      q,
      [
        { table: STAT_CELLS, column: 'grain', length: 16, nullable: false },
        { table: STAT_CELLS, column: 'country', length: 2, nullable: true },
        { table: STAT_CELLS, column: 'value', length: 128, nullable: true },
        { table: STAT_CELLS, column: 'potential_impact', length: 32, nullable: true },
        { table: STAT_CELLS, column: 'completion_midterm', length: 32, nullable: true },
        { table: STAT_CELLS, column: 'completion_end_of_term', length: 32, nullable: true },
      ],
      'binary',
    );
    await refreshCommitmentStats(q.manager);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable(STAT_CELLS);
  }
}
