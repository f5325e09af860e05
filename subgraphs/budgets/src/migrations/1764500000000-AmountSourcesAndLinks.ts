import { TableColumn, type MigrationInterface, type QueryRunner, type TableColumnOptions } from 'typeorm';
import { col } from '@civic/common/migration-columns';

/** Where each figure came from: its file, checksum, line and column, and when it was imported. */
const AMOUNT_SOURCE: TableColumnOptions[] = [
  col.varchar('source_file', 1024, true),
  col.varchar('source_checksum', 64, true),
  col.int('source_line', true),
  col.varchar('source_column', 191, true),
  col.varchar('imported_at', 24, true),
];

/** What a `commitment-budget-links` file says of a link besides its two ends. */
const LINK_FIELDS: TableColumnOptions[] = [
  col.varchar('share', 16, true),
  { ...col.bigint('amount_minor'), isNullable: true },
  col.varchar('note', 1024, true),
  col.varchar('reference', 1024, true),
];

/**
 * Issue 13. Figures cite their own cell: a line's figures may come from several files (Bou Arada's 2018
 * execution figures from the monthly file, the rest of the line from the per-year file), so each keeps the
 * file and line it was read from. Commitment links get what their importer reads: a share or an amount of
 * the line, a note and a reference. Existing figures and links keep null until an import writes them again
 * (the importers' row digests cover the new fields, so the next import of each file rewrites its lines).
 */
export class AmountSourcesAndLinks1764500000000 implements MigrationInterface {
  name = 'AmountSourcesAndLinks1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns(
      'budget_amounts',
      AMOUNT_SOURCE.map((c) => new TableColumn(c)),
    );
    await q.addColumns(
      'commitment_budget_lines',
      LINK_FIELDS.map((c) => new TableColumn(c)),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const c of LINK_FIELDS) await q.dropColumn('commitment_budget_lines', c.name);
    for (const c of AMOUNT_SOURCE) await q.dropColumn('budget_amounts', c.name);
  }
}
