import {
  Table,
  TableIndex,
  type MigrationInterface,
  type QueryRunner,
  type TableColumnOptions,
} from 'typeorm';
import { isMysql } from '@civic/common/dialect';
import { col, setKeyCollation, type KeyColumn } from '@civic/common/migration-columns';
import { BUDGET_PHASES } from '../entities/Budget';
import {
  asOfColumn,
  figureColumn,
  refreshLineFigures,
  refreshSummaries,
  refreshSummaryYears,
  SUMMARY_CELLS,
  SUMMARY_YEARS,
} from '../summaries';

/** Exact sums of integers of any size a budget's or a year's lines add up to. */
const sum = (name: string): TableColumnOptions => ({
  name,
  type: 'decimal',
  precision: 38,
  scale: 0,
  isNullable: true,
});

/** The key and sum columns both summary tables share (summaries.ts says what each grain holds). */
const cellColumns = (): TableColumnOptions[] => [
  col.varchar('grain', 16),
  col.varchar('direction', 16),
  col.varchar('classification', 64, true),
  col.varchar('code_level_1', 64, true),
  col.varchar('scheme', 191, true),
  col.varchar('level_1', 191, true),
  col.int('line_count'),
  ...BUDGET_PHASES.flatMap((p) => [sum(figureColumn(p)), col.varchar(asOfColumn(p), 10, true)]),
];

const keyColumns = (table: string): KeyColumn[] => [
  { table, column: 'grain', length: 16, nullable: false },
  { table, column: 'direction', length: 16, nullable: false },
  { table, column: 'classification', length: 64, nullable: true },
  { table, column: 'code_level_1', length: 64, nullable: true },
  { table, column: 'scheme', length: 191, nullable: true },
  { table, column: 'level_1', length: 191, nullable: true },
];

const figureIndex = (phase: (typeof BUDGET_PHASES)[number]) =>
  new TableIndex({
    name: `IDX_budget_lines_${figureColumn(phase)}`,
    columnNames: [figureColumn(phase), 'id'],
  });

const descIndex = (phase: (typeof BUDGET_PHASES)[number]) => `IDX_budget_lines_${figureColumn(phase)}_desc`;

/** Pages of the backfill. */
const LINES_PER_PAGE = 20000;
const BUDGETS_PER_PAGE = 1000;

/**
 * Issue 11: a line's figure per phase stored on the line with an index (ordering by amount is a range scan),
 * and exact sums per budget and per fiscal year (budget_summary_cells, budget_summary_years) that
 * `budgetSummary` reads instead of a million lines. Existing data is backfilled here, by the same code the
 * writers use afterwards (summaries.ts), so a database migrated and one written later hold the same sums.
 */
export class SummaryAggregates1796605040319 implements MigrationInterface {
  name = 'SummaryAggregates1796605040319';

  async up(q: QueryRunner): Promise<void> {
    // Added in place (TypeORM's addColumn rebuilds a SQLite table: a million lines copied for nothing).
    const added = BUDGET_PHASES.map((p) => `${figureColumn(p)} bigint NULL`);
    if (isMysql(q))
      await q.query(`ALTER TABLE budget_lines ${added.map((c) => `ADD COLUMN ${c}`).join(', ')}`);
    else for (const c of added) await q.query(`ALTER TABLE budget_lines ADD COLUMN ${c}`);
    await q.createTable(
      new Table({
        name: SUMMARY_CELLS,
        columns: [col.varchar('budget_id', 191), ...cellColumns()],
        indices: [
          new TableIndex({ name: 'IDX_budget_summary_cells_budget', columnNames: ['budget_id', 'grain'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: SUMMARY_YEARS,
        columns: [col.int('fiscal_year'), col.varchar('currency', 3), ...cellColumns()],
        indices: [
          new TableIndex({ name: 'IDX_budget_summary_years_grain', columnNames: ['grain', 'fiscal_year'] }),
        ],
      }),
    );
    await setKeyCollation(
      q,
      [
        { table: SUMMARY_CELLS, column: 'budget_id', length: 191, nullable: false },
        ...keyColumns(SUMMARY_CELLS),
        { table: SUMMARY_YEARS, column: 'currency', length: 3, nullable: false },
        ...keyColumns(SUMMARY_YEARS),
      ],
      'binary',
    );
    // The lines' figures, in id ranges (the index is built once they are all there).
    let after = '';
    for (;;) {
      const [last]: { id: string }[] = await q.query(
        `SELECT id FROM budget_lines WHERE id > ? ORDER BY id LIMIT 1 OFFSET ${LINES_PER_PAGE - 1}`,
        [after],
      );
      const range = last ? 'id > ? AND id <= ?' : 'id > ?';
      const ids: { id: string }[] = await q.query(
        `SELECT id FROM budget_lines WHERE ${range}`,
        last ? [after, last.id] : [after],
      );
      await refreshLineFigures(
        q,
        ids.map((r) => String(r.id)),
      );
      if (!last) break;
      after = String(last.id);
    }
    for (const p of BUDGET_PHASES) await q.createIndex('budget_lines', figureIndex(p));
    // An index is read in one direction per query: largest first with ties by id ascending needs its own
    // (without it SQLite 3.53 scans and sorts the million lines, and MySQL sorts them too).
    for (const p of BUDGET_PHASES)
      await q.query(`CREATE INDEX ${descIndex(p)} ON budget_lines (${figureColumn(p)} DESC, id)`);
    // The sums, a page of budgets at a time, then every year from them.
    let afterBudget = '';
    for (;;) {
      const rows: { id: string }[] = await q.query(
        `SELECT id FROM budgets WHERE id > ? ORDER BY id LIMIT ${BUDGETS_PER_PAGE}`,
        [afterBudget],
      );
      if (!rows.length) break;
      await refreshSummaries(
        q.manager,
        rows.map((r) => String(r.id)),
        false,
      );
      afterBudget = String(rows[rows.length - 1].id);
    }
    await refreshSummaryYears(q.manager, 'all');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable(SUMMARY_YEARS);
    await q.dropTable(SUMMARY_CELLS);
    for (const p of BUDGET_PHASES)
      await q.query(isMysql(q) ? `DROP INDEX ${descIndex(p)} ON budget_lines` : `DROP INDEX ${descIndex(p)}`);
    for (const p of BUDGET_PHASES) await q.dropIndex('budget_lines', figureIndex(p).name!);
    for (const p of BUDGET_PHASES) await q.dropColumn('budget_lines', figureColumn(p));
  }
}
