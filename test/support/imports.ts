import type { DataSource } from 'typeorm';
import type { SubgraphImporter } from '@civic/common/import/kinds';
import { runImport, type ImportOptions } from '@civic/common/import/pipeline';
import type { ImportReport, TableCounts } from '@civic/common/import/report';

/** One table's counts in a report, the unnamed ones zero. */
export const counts = (c: Partial<TableCounts>): TableCounts => ({
  inserted: 0,
  updated: 0,
  unchanged: 0,
  deleted: 0,
  ...c,
});

/**
 * Imports `path` as the CLI would, through one subgraph's importer of `kind` and its data source (no
 * database opened here): the defaults of `npm run import`, overridden by `options`.
 */
export function importWith(
  importers: readonly SubgraphImporter[],
  kind: string,
  ds: DataSource,
  path: string,
  options: Partial<ImportOptions> = {},
): Promise<ImportReport> {
  const params = options.params ?? {};
  const importer = importers.find((i) => i.kind === kind);
  if (!importer) throw new Error(`no importer of kind ${kind}`);
  return runImport(kind, path, [{ part: importer.part(params), ds }], {
    strict: false,
    dryRun: false,
    prune: false,
    batchSize: 2000,
    params,
    ...options,
  });
}
