import { EntitySchema, Table, TableColumn, TableIndex, type QueryRunner } from 'typeorm';
import { col } from '../migration-columns';

export const IMPORT_RUN_STATUSES = ['running', 'completed', 'failed', 'refused', 'abandoned'] as const;
export type ImportRunStatus = (typeof IMPORT_RUN_STATUSES)[number];

/**
 * One run of an importer against this subgraph's tables: what it read, how far its committed batches got
 * (the checkpoint a killed run resumes from) and how it ended. Written in the same transaction as each batch,
 * so the checkpoint never claims a row that was rolled back.
 */
export interface ImportRun {
  id: string;
  /** The importer, e.g. "tn-municipal-budget" (for a kind writing to several subgraphs, its part here). */
  importer: string;
  /** What the import covers within the importer (e.g. a municipality and year), '' when the whole kind. */
  scope: string;
  file: string;
  checksum: string;
  status: ImportRunStatus;
  startedAt: string;
  finishedAt: string | null;
  /** The last source line whose batch is committed (0 before the first batch). */
  committedLine: number;
  /** Rows written or confirmed unchanged so far. */
  committedRows: number;
  /** The final summary (counts, never the rows), JSON. */
  summary: string | null;
}

export const ImportRunEntity = new EntitySchema<ImportRun>({
  name: 'ImportRun',
  tableName: 'import_runs',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    importer: { type: 'varchar', length: 64 },
    scope: { type: 'varchar', length: 191 },
    file: { type: 'varchar', length: 1024 },
    checksum: { type: 'varchar', length: 64 },
    status: { type: 'varchar', length: 16 },
    startedAt: { type: 'varchar', length: 24, name: 'started_at' },
    finishedAt: { type: 'varchar', length: 24, name: 'finished_at', nullable: true },
    committedLine: { type: 'integer', name: 'committed_line' },
    committedRows: { type: 'integer', name: 'committed_rows' },
    summary: { type: 'text', nullable: true },
  },
  indices: [{ name: 'IDX_import_runs_importer_checksum', columns: ['importer', 'checksum'] }],
});

/** The import columns added to every table that carries provenance (see provenanceColumns). */
const importColumns = () => [
  col.varchar('source_file', 1024, true),
  col.varchar('source_checksum', 64, true),
  col.int('source_line', true),
  col.varchar('imported_at', 24, true),
  col.varchar('row_digest', 64, true),
];

/**
 * Migration step shared by the subgraphs: the import provenance columns on each of `tables` and the
 * import_runs table.
 */
export async function createImportTables(q: QueryRunner, provenanceTables: readonly string[]): Promise<void> {
  for (const t of provenanceTables)
    await q.addColumns(
      t,
      importColumns().map((c) => new TableColumn(c)),
    );
  await q.createTable(
    new Table({
      name: 'import_runs',
      columns: [
        col.key('id', 36),
        col.varchar('importer', 64),
        col.varchar('scope', 191),
        col.varchar('file', 1024),
        col.varchar('checksum', 64),
        col.varchar('status', 16),
        col.varchar('started_at', 24),
        col.varchar('finished_at', 24, true),
        col.int('committed_line'),
        col.int('committed_rows'),
        col.text('summary', true),
      ],
    }),
  );
  await q.createIndex(
    'import_runs',
    new TableIndex({ name: 'IDX_import_runs_importer_checksum', columnNames: ['importer', 'checksum'] }),
  );
}

export async function dropImportTables(q: QueryRunner, provenanceTables: readonly string[]): Promise<void> {
  await q.dropTable('import_runs');
  for (const t of provenanceTables) for (const c of importColumns()) await q.dropColumn(t, c.name);
}

/** The column of a record's source adjustments (provenanceColumns.sourceAdjustments): JSON text, null when none. */
const adjustmentsColumn = () => col.text('source_adjustments', true);

/** Migration step shared by the subgraphs: the source adjustments column on each of `tables`. */
export async function addAdjustmentColumns(
  q: QueryRunner,
  provenanceTables: readonly string[],
): Promise<void> {
  for (const t of provenanceTables) await q.addColumn(t, new TableColumn(adjustmentsColumn()));
}

export async function dropAdjustmentColumns(
  q: QueryRunner,
  provenanceTables: readonly string[],
): Promise<void> {
  for (const t of provenanceTables) await q.dropColumn(t, 'source_adjustments');
}
