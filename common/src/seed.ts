import type { EntityManager, EntitySchema, ObjectLiteral } from 'typeorm';
import { chunk } from './db';

/** What one dataset load did: rows loaded per table, rows refused with why, and warnings on rows kept. */
export interface SeedReport {
  dataset: string;
  loaded: Record<string, number>;
  /** Rows that could not be loaded: `record` identifies the row in the source file. */
  refused: { record: string; reason: string }[];
  /** Rows loaded with a caveat (a date that could not be read, an unknown value kept as null...). */
  warnings: { record: string; message: string }[];
}

export function emptyReport(dataset: string): SeedReport {
  return { dataset, loaded: {}, refused: [], warnings: [] };
}

/**
 * Inserts or updates rows by primary key, in multi-row statements, so a seed can run again without
 * duplicating anything. Works on MySQL (ON DUPLICATE KEY UPDATE) and SQLite (ON CONFLICT DO UPDATE).
 */
export async function upsertAll<T extends ObjectLiteral>(
  manager: EntityManager,
  entity: EntitySchema<T>,
  rows: T[],
  batchSize = 200,
): Promise<number> {
  if (!rows.length) return 0;
  const meta = manager.connection.getMetadata(entity);
  const keys = meta.primaryColumns.map((c) => c.propertyName);
  for (const part of chunk(rows, batchSize)) {
    await manager
      .getRepository(entity)
      .upsert(part as never, { conflictPaths: keys, skipUpdateIfNoValuesChanged: false });
  }
  return rows.length;
}

/** Prints a seed report for a person: counts, then every refused row with its reason. */
export function formatReport(r: SeedReport): string {
  const counts = Object.entries(r.loaded)
    .map(([t, n]) => `${n} ${t}`)
    .join(', ');
  const lines = [
    `${r.dataset}: loaded ${counts || 'nothing'}; ${r.refused.length} refused, ${r.warnings.length} warnings`,
  ];
  for (const x of r.refused) lines.push(`  refused ${x.record}: ${x.reason}`);
  return lines.join('\n');
}
