import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import type { SubgraphImporter } from './kinds';
import { runImport } from './pipeline';
import type { ImportReport } from './report';

/** The folder holding the copies of the real datasets the project ships (see data/datasets/README.md). */
export const DATASETS_DIR = join(__dirname, '..', '..', '..', 'data', 'datasets');

/** Absolute path of a dataset file. */
export const datasetPath = (file: string, dir = DATASETS_DIR) => join(dir, file);

/**
 * A file the project ships (under data/datasets) and loads on seed: the seed is nothing but "import the
 * bundled files", through the same importers, pipeline and provenance as `npm run import`.
 */
export interface BundledFile {
  /** The import kind, as `npm run import` names it. */
  kind: string;
  /** The file inside data/datasets (`ogp/ogp-commitments-export.csv`): what the report and every record cite. */
  path: string;
  /** The kind's options (`--municipality` and the like), as the CLI would pass them. */
  params?: Readonly<Record<string, string>>;
}

/** Rows per transaction when seeding: the CLI's default batch size. */
export const SEED_BATCH_SIZE = 2000;

/**
 * Seeds one subgraph's database: each bundled file in turn through this subgraph's own importer of its kind.
 * A kind with parts in several subgraphs (the OGP export) is seeded by each of them, each writing its own
 * part. Throws, naming the file, when a file cannot be read or is refused whole; refused rows are reported,
 * as an import reports them, and do not stop the seed.
 */
export async function importBundled(
  ds: DataSource,
  importers: readonly SubgraphImporter[],
  files: readonly BundledFile[],
): Promise<ImportReport[]> {
  const reports: ImportReport[] = [];
  for (const f of files) {
    const importer = importers.find((i) => i.kind === f.kind);
    if (!importer) throw new Error(`no importer of kind "${f.kind}" for bundled file ${f.path}`);
    const params = f.params ?? {};
    const report = await runImport(
      f.kind,
      join(DATASETS_DIR, f.path),
      [{ part: importer.part(params), ds }],
      {
        cite: `data/datasets/${f.path}`,
        strict: false,
        dryRun: false,
        prune: false,
        batchSize: SEED_BATCH_SIZE,
        params,
      },
    );
    if (report.outcome === 'failed' || report.outcome === 'refused')
      throw new Error(`seeding ${f.kind} from ${f.path} failed: ${report.error ?? 'the file was refused'}`);
    reports.push(report);
  }
  return reports;
}
