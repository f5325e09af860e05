import type { EntitySchemaColumnOptions } from 'typeorm';

/** Where a record came from: the dataset, its URL and licence, and the row or key in the source file. */
export interface Provenance {
  dataset: string;
  url: string | null;
  license: string | null;
  record: string | null;
}

/** The provenance columns every table carries, as entity properties. */
export interface WithProvenance {
  sourceDataset: string;
  sourceUrl: string | null;
  sourceLicense: string | null;
  sourceRecord: string | null;
}

/** Column definitions for {@link WithProvenance}, spread into every EntitySchema. */
export const provenanceColumns: Record<keyof WithProvenance, EntitySchemaColumnOptions> = {
  sourceDataset: { type: 'varchar', length: 255, name: 'source_dataset' },
  sourceUrl: { type: 'varchar', length: 1024, name: 'source_url', nullable: true },
  sourceLicense: { type: 'varchar', length: 255, name: 'source_license', nullable: true },
  sourceRecord: { type: 'varchar', length: 255, name: 'source_record', nullable: true },
};

export function toProvenance(row: WithProvenance): Provenance {
  return {
    dataset: row.sourceDataset,
    url: row.sourceUrl,
    license: row.sourceLicense,
    record: row.sourceRecord,
  };
}

/** Provenance fields for a record, given its dataset description and the record key. */
export function fromSource(
  source: { dataset: string; url?: string | null; license?: string | null },
  record: string | null,
): WithProvenance {
  return {
    sourceDataset: source.dataset,
    sourceUrl: source.url ?? null,
    sourceLicense: source.license ?? null,
    sourceRecord: record,
  };
}
