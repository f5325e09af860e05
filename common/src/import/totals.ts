import type { DataSource } from 'typeorm';
import type { ImportRunTotals } from '../metrics';

/**
 * The import runs of a subgraph's database added up by importer and status, for its `/metrics` (common/src/
 * metrics.ts `imports`): how many runs, the rows they committed, the rows they refused (from each run's summary)
 * and when the last one finished. One statement over `import_runs`, which holds one row per run.
 */
export async function importRunTotals(ds: DataSource): Promise<ImportRunTotals[]> {
  const rows = (await ds.query(
    `SELECT importer, status, COUNT(*) AS runs, COALESCE(SUM(committed_rows), 0) AS committed,
            COALESCE(SUM(JSON_EXTRACT(summary, '$.refused')), 0) AS refused, MAX(finished_at) AS last
       FROM import_runs GROUP BY importer, status`,
  )) as {
    importer: string;
    status: string;
    runs: unknown;
    committed: unknown;
    refused: unknown;
    last: string | null;
  }[];
  return rows.map((r) => ({
    importer: r.importer,
    status: r.status,
    runs: Number(r.runs),
    committedRows: Number(r.committed),
    refusedRows: Number(r.refused),
    lastFinishedAt: r.last,
  }));
}
