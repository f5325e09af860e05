import type { EntitySchemaColumnOptions } from 'typeorm';

/**
 * Where a record came from: the dataset, its URL and licence, the row or key in the source file and, for a
 * record loaded by an importer, the file, its SHA-256, the line and when it was imported.
 */
export interface Provenance {
  dataset: string;
  url: string | null;
  license: string | null;
  record: string | null;
  file: string | null;
  checksum: string | null;
  line: number | null;
  importedAt: string | null;
  /** Every value stored otherwise than its source cell wrote it: empty when the record is as written. */
  adjustments: SourceAdjustment[];
}

/**
 * Why a stored text value differs from its source cell (schema/common.graphql describes each for clients;
 * common/src/import/adjust.ts is the one place that makes these changes).
 */
export const SOURCE_ADJUSTMENT_REASONS = [
  'TRIMMED',
  'SPACES_FOLDED',
  'INVISIBLE_REMOVED',
  'PREFIX_REMOVED',
  'WRONG_SCRIPT_MOVED',
  'WRONG_SCRIPT_DROPPED',
  'CORRECTED',
] as const;
export type SourceAdjustmentReason = (typeof SOURCE_ADJUSTMENT_REASONS)[number];

/** One value stored otherwise than its source cell wrote it, and why. */
export interface SourceAdjustment {
  /** Where the value is in the source record: a CSV column or a JSON path (`name.fr`). */
  column: string;
  /** The field of the record (as the API names it: `names.ar`, `labels.ar`) holding it; null when dropped. */
  field: string | null;
  /** The cell exactly as the source wrote it. */
  asWritten: string;
  /** What is stored and shown; null when nothing is. */
  stored: string | null;
  reasons: SourceAdjustmentReason[];
}

/** The provenance columns every table carries, as entity properties. */
export interface WithProvenance {
  sourceDataset: string;
  sourceUrl: string | null;
  sourceLicense: string | null;
  sourceRecord: string | null;
  /** The imported file's name as given to the importer (null for the built-in seed). */
  sourceFile: string | null;
  /** SHA-256 (hex) of the whole imported file. */
  sourceChecksum: string | null;
  /** The line of the record in that file (1 = the first line, the header of a CSV). */
  sourceLine: number | null;
  /** When the record was last written by an importer, ISO 8601 UTC. */
  importedAt: string | null;
  /**
   * A digest of the record's content as the importer built it (not exposed): an import compares it to tell
   * an unchanged row (nothing written) from a changed one.
   */
  rowDigest: string | null;
  /**
   * The record's {@link SourceAdjustment}s as JSON; null when every value is as the source wrote it. The row
   * digest covers them (see ImportContext.provenance).
   */
  sourceAdjustments: string | null;
}

/** Column definitions for {@link WithProvenance}, spread into every EntitySchema. */
export const provenanceColumns: Record<keyof WithProvenance, EntitySchemaColumnOptions> = {
  sourceDataset: { type: 'varchar', length: 255, name: 'source_dataset' },
  sourceUrl: { type: 'varchar', length: 1024, name: 'source_url', nullable: true },
  sourceLicense: { type: 'varchar', length: 255, name: 'source_license', nullable: true },
  sourceRecord: { type: 'varchar', length: 255, name: 'source_record', nullable: true },
  sourceFile: { type: 'varchar', length: 1024, name: 'source_file', nullable: true },
  sourceChecksum: { type: 'varchar', length: 64, name: 'source_checksum', nullable: true },
  sourceLine: { type: 'integer', name: 'source_line', nullable: true },
  importedAt: { type: 'varchar', length: 24, name: 'imported_at', nullable: true },
  rowDigest: { type: 'varchar', length: 64, name: 'row_digest', nullable: true },
  sourceAdjustments: { type: 'text', name: 'source_adjustments', nullable: true },
};

/** The import part of {@link WithProvenance}: what the built-in seed leaves null. */
export type ImportProvenance = Pick<
  WithProvenance,
  'sourceFile' | 'sourceChecksum' | 'sourceLine' | 'importedAt' | 'rowDigest' | 'sourceAdjustments'
>;

export const NO_IMPORT: ImportProvenance = {
  sourceFile: null,
  sourceChecksum: null,
  sourceLine: null,
  importedAt: null,
  rowDigest: null,
  sourceAdjustments: null,
};

export function toProvenance(row: WithProvenance): Provenance {
  return {
    dataset: row.sourceDataset,
    url: row.sourceUrl,
    license: row.sourceLicense,
    record: row.sourceRecord,
    file: row.sourceFile ?? null,
    checksum: row.sourceChecksum ?? null,
    line: row.sourceLine == null ? null : Number(row.sourceLine),
    importedAt: row.importedAt ?? null,
    adjustments: parseAdjustments(row.sourceAdjustments),
  };
}

/** The stored JSON of a record's adjustments, read back ([] for none). */
export function parseAdjustments(json: string | null | undefined): SourceAdjustment[] {
  if (!json) return [];
  const list: unknown = JSON.parse(json);
  return Array.isArray(list) ? (list as SourceAdjustment[]) : [];
}

/** Provenance fields for a record of the built-in seed, given its dataset description and the record key. */
export function fromSource(
  source: { dataset: string; url?: string | null; license?: string | null },
  record: string | null,
): WithProvenance {
  return {
    sourceDataset: source.dataset,
    sourceUrl: source.url ?? null,
    sourceLicense: source.license ?? null,
    sourceRecord: record,
    ...NO_IMPORT,
  };
}
