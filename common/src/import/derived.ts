import type { EntityManager, EntitySchema, ObjectLiteral } from 'typeorm';
import type { WithProvenance } from '../provenance';
import type { WriteContext } from './pipeline';
import { insertRows, storedRecords, upsertRows } from './write';

/**
 * An entity's database columns, in its schema's order, and its rows as value arrays in that order, for
 * {@link upsertRows} / {@link insertRows} of write.ts. Booleans become 1/0, as TypeORM stores them (SQLite
 * cannot bind a boolean).
 */
export function entityRows<T extends ObjectLiteral>(
  m: EntityManager,
  entity: EntitySchema<T>,
  rows: readonly T[],
): { columns: string[]; keyColumns: string[]; values: unknown[][] } {
  const meta = m.connection.getMetadata(entity);
  const columns = meta.columns.map((c) => c.databaseName);
  const keyColumns = meta.primaryColumns.map((c) => c.databaseName);
  const props = meta.columns.map((c) => c.propertyName);
  const values = rows.map((r) =>
    props.map((p) => {
      const v = (r as Record<string, unknown>)[p];
      return typeof v === 'boolean' ? (v ? 1 : 0) : (v ?? null);
    }),
  );
  return { columns, keyColumns, values };
}

/**
 * Writes an entity's records as a classification sorted them: new ones inserted, changed ones upserted,
 * and counts the three (`unchanged` as a count or the records) under the entity's table.
 */
export async function writeEntities<T extends ObjectLiteral>(
  m: EntityManager,
  w: WriteContext,
  entity: EntitySchema<T>,
  c: { fresh: readonly T[]; changed: readonly T[]; unchanged: number | readonly unknown[] },
): Promise<void> {
  const table = m.connection.getMetadata(entity).tableName;
  if (c.fresh.length) {
    const { columns, values } = entityRows(m, entity, c.fresh);
    await insertRows(m, table, columns, values);
    w.count(table, 'inserted', c.fresh.length);
  }
  if (c.changed.length) {
    const { columns, keyColumns, values } = entityRows(m, entity, c.changed);
    await upsertRows(m, table, columns, keyColumns, values);
    w.count(table, 'updated', c.changed.length);
  }
  const unchanged = typeof c.unchanged === 'number' ? c.unchanged : c.unchanged.length;
  if (unchanged) w.count(table, 'unchanged', unchanged);
}

/** How a record derived from several rows compares to what is stored under its key. */
export interface ClassifiedDerived<T> {
  /** No stored record: insert. */
  fresh: T[];
  /** Stored from another file or line, or with other content: update. */
  changed: T[];
  /** Stored exactly so (same content, same file and line): nothing to write. */
  unchanged: T[];
  /**
   * Already written by this very file from an earlier line (the first row that names the record decides
   * its content): nothing to write; `digest` is what is stored, to tell a row that disagrees with it.
   */
  earlier: { row: T; line: number; digest: string | null }[];
  /** Stored from another dataset: left as it is (this import does not own it). */
  foreign: { row: T; dataset: string }[];
}

/**
 * Sorts records that several rows of a file derive (an action plan each of its commitments names, an
 * institution named by many commitments) by what is stored, in one statement per 1,000 keys. Unlike
 * `classify` (write.ts), a key this file already wrote from another line is no duplicate: the record was
 * written from the first row that names it, and that row's line and content stay, so neither the stored
 * record nor its digest depends on which batch a row falls into, and importing the same file again finds
 * every record unchanged. `rows` must have one record per key, from the first of the batch's rows naming it.
 * Records of `dataset` only are written: a stored record of another dataset is left alone.
 */
export async function classifyDerived<T>(
  m: EntityManager,
  w: WriteContext,
  table: string,
  keyColumn: string,
  rows: readonly T[],
  key: (r: T) => string,
  provenance: (r: T) => WithProvenance,
): Promise<ClassifiedDerived<T>> {
  const stored = await storedRecords(m, table, keyColumn, rows.map(key));
  const out: ClassifiedDerived<T> = { fresh: [], changed: [], unchanged: [], earlier: [], foreign: [] };
  const checksum = w.ctx.facts.checksum;
  for (const r of rows) {
    const p = provenance(r);
    const s = stored.get(key(r));
    if (!s) out.fresh.push(r);
    else if (s.dataset !== p.sourceDataset) out.foreign.push({ row: r, dataset: s.dataset });
    else if (s.checksum === checksum && s.line !== null && p.sourceLine !== null && s.line < p.sourceLine)
      out.earlier.push({ row: r, line: s.line, digest: s.digest });
    else if (s.checksum === checksum && s.line === p.sourceLine && s.digest === p.rowDigest)
      out.unchanged.push(r);
    else out.changed.push(r);
  }
  return out;
}

/**
 * The first record per key, in the order given (rows in line order: the first row naming a record decides
 * it). Returns the kept records and, for each later one, the record it lost to.
 */
export function firstPerKey<T>(
  rows: readonly T[],
  key: (r: T) => string,
): { first: T[]; later: { row: T; first: T }[] } {
  const seen = new Map<string, T>();
  const later: { row: T; first: T }[] = [];
  for (const r of rows) {
    const k = key(r);
    const f = seen.get(k);
    if (f === undefined) seen.set(k, r);
    else later.push({ row: r, first: f });
  }
  return { first: [...seen.values()], later };
}
