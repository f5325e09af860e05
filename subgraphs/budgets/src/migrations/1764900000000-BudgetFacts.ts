import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { placeholders } from '@civic/common/db';
import { col, setKeyCollation, type KeyColumn } from '@civic/common/migration-columns';

const KEYS: KeyColumn[] = [
  { table: 'budget_amounts', column: 'measure', length: 64, nullable: false },
  { table: 'budget_line_dimensions', column: 'line_id', length: 191, nullable: false },
  { table: 'budget_line_dimensions', column: 'dimension', length: 64, nullable: false },
  { table: 'budget_line_dimensions', column: 'scheme', length: 191, nullable: false },
  { table: 'budget_line_dimensions', column: 'code', length: 191, nullable: false },
  { table: 'budget_line_dimensions', column: 'level_1', length: 191, nullable: false },
  { table: 'budget_line_dimensions', column: 'level_2', length: 191, nullable: false },
  { table: 'budget_line_dimensions', column: 'level_3', length: 191, nullable: false },
  { table: 'budget_codes', column: 'scheme', length: 191, nullable: false },
  { table: 'budget_codes', column: 'code', length: 191, nullable: false },
];

/**
 * Issue 14. A budget line is a fact with every dimension of its source (budget_line_dimensions, one row per
 * line and dimension, the code's first three levels as columns so a summary by any dimension and level is one
 * join and one GROUP BY), its codes' labels and parents in a dictionary (budget_codes), and its figures per
 * measure (a package may give several measures in one phase). Existing figures get measure ''. Existing lines
 * of the Tunisian nomenclature (the seed, the tn-municipal-budget importer, synthetic data) get their one
 * dimension here, from their code; lines an earlier Fiscal Data Package import stored get theirs from the next
 * import of their package (the importer's row digests cover the dimensions, so every line is rewritten once).
 */
export class BudgetFacts1764900000000 implements MigrationInterface {
  name = 'BudgetFacts1764900000000';

  async up(q: QueryRunner): Promise<void> {
    // Existing figures get measure '' (the default fills them); the column then joins the primary key and
    // keeps no default: every writer names the measure.
    const measure = new TableColumn({ ...col.varchar('measure', 64), default: "''" });
    await q.addColumn('budget_amounts', measure);
    await q.changeColumn('budget_amounts', measure, new TableColumn(col.key('measure', 64)));
    await q.createTable(
      new Table({
        name: 'budget_line_dimensions',
        columns: [
          col.key('line_id', 191),
          col.key('dimension', 64),
          col.varchar('type', 16),
          col.int('is_primary'),
          col.varchar('scheme', 191),
          col.varchar('code', 191),
          col.int('depth'),
          col.varchar('level_1', 191),
          col.varchar('level_2', 191),
          col.varchar('level_3', 191),
          col.varchar('path', 1024),
          col.int('position'),
        ],
        indices: [
          new TableIndex({
            name: 'IDX_budget_line_dimensions_scheme_code',
            columnNames: ['scheme', 'code'],
          }),
          new TableIndex({
            name: 'IDX_budget_line_dimensions_type_level1',
            columnNames: ['type', 'level_1'],
          }),
          // A summary joins each line to its primary row of a type: without this index SQLite's planner took
          // (type, level_1) for that join, reading every row of the type for each line (26 s for 10,000 lines).
          new TableIndex({
            name: 'IDX_budget_line_dimensions_line_type',
            columnNames: ['line_id', 'type', 'is_primary'],
          }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'budget_codes',
        columns: [
          col.key('scheme', 191),
          col.key('code', 191),
          col.varchar('type', 16),
          col.int('depth'),
          col.varchar('parent_code', 191, true),
          ...col.localized('label', 1024),
          col.varchar('label', 1024, true),
          ...col.provenance(),
          col.varchar('source_file', 1024, true),
          col.varchar('source_checksum', 64, true),
          col.int('source_line', true),
          col.varchar('imported_at', 24, true),
          col.varchar('row_digest', 64, true),
          col.text('source_adjustments', true),
        ],
      }),
    );
    await setKeyCollation(q, KEYS, 'binary');
    await backfillNomenclature(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('budget_codes');
    await q.dropTable('budget_line_dimensions');
    await q.query(`DELETE FROM budget_amounts WHERE measure <> ''`);
    await q.changeColumn(
      'budget_amounts',
      'measure',
      new TableColumn({ ...col.varchar('measure', 64), default: "''" }),
    );
    await q.dropColumn('budget_amounts', 'measure');
  }
}

/** The classification of Tunisian municipal budget lines, as stored in budget_lines.classification. */
const TN_NOMENCLATURE = 'tn-municipal-budget-nomenclature';
const SEP = '\u001f';
const PAGE = 2000;

/**
 * Gives every stored line of the Tunisian nomenclature its dimension row: `nomenclature`, ECONOMIC, its code's
 * dot-separated levels (Titre, Titre.Article, ...). Written here rather than through the importer's helper so
 * this migration means the same thing whatever later code does; keyset pages of 2,000 lines.
 */
async function backfillNomenclature(q: QueryRunner): Promise<void> {
  const codes = new Map<string, { depth: number; parent: string | null; dataset: string }>();
  let after = '';
  for (;;) {
    const rows: { id: string; code: string; ds: string }[] = await q.query(
      `SELECT id, code, source_dataset AS ds FROM budget_lines WHERE classification = ? AND id > ? ORDER BY id LIMIT ${PAGE}`,
      [TN_NOMENCLATURE, after],
    );
    if (!rows.length) break;
    const values = rows.map((r) => {
      const parts = String(r.code).split('.');
      const levels = parts.map((_, i) => parts.slice(0, i + 1).join('.'));
      levels.forEach((c, i) => {
        if (!codes.has(c)) codes.set(c, { depth: i + 1, parent: i ? levels[i - 1] : null, dataset: r.ds });
      });
      const at = (n: number) => levels[Math.min(n, levels.length) - 1];
      const path = `${SEP}${levels.join(SEP)}${SEP}`;
      return [
        r.id,
        'nomenclature',
        'ECONOMIC',
        1,
        TN_NOMENCLATURE,
        at(levels.length),
        levels.length,
        at(1),
        at(2),
        at(3),
        path,
        0,
      ];
    });
    await q.query(
      `INSERT INTO budget_line_dimensions (line_id, dimension, type, is_primary, scheme, code, depth, level_1, level_2, level_3, path, position) VALUES ${values.map(() => `(${placeholders(12)})`).join(', ')}`,
      values.flat(),
    );
    after = String(rows[rows.length - 1].id);
  }
  // The codes and their parents (the files label detail lines only: labels stay on the lines).
  const entries = [...codes];
  for (let i = 0; i < entries.length; i += PAGE) {
    const part = entries.slice(i, i + PAGE);
    await q.query(
      `INSERT INTO budget_codes (scheme, code, type, depth, parent_code, source_dataset) VALUES ${part.map(() => `(${placeholders(6)})`).join(', ')}`,
      part.flatMap(([code, c]) => [TN_NOMENCLATURE, code, 'ECONOMIC', c.depth, c.parent, c.dataset]),
    );
  }
}
