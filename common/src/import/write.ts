import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { chunk, placeholders } from '../db';
import { isMysql, quoteName as q } from '../dialect';
import type { WithProvenance } from '../provenance';
import type { ImportContext, WriteContext } from './pipeline';

/** A digest of a record's content (stable JSON of what the importer built), to tell unchanged rows. */
export function digest(content: unknown): string {
  return createHash('sha1').update(JSON.stringify(content)).digest('hex');
}

/** Database column names of {@link WithProvenance}, in the order of {@link provenanceValues}. */
export const PROVENANCE_COLUMNS = [
  'source_dataset',
  'source_url',
  'source_license',
  'source_record',
  'source_file',
  'source_checksum',
  'source_line',
  'imported_at',
  'row_digest',
  'source_adjustments',
] as const;

export const provenanceValues = (p: WithProvenance): unknown[] => [
  p.sourceDataset,
  p.sourceUrl,
  p.sourceLicense,
  p.sourceRecord,
  p.sourceFile,
  p.sourceChecksum,
  p.sourceLine,
  p.importedAt,
  p.rowDigest,
  p.sourceAdjustments ?? null,
];

/** What is stored of a record an import is about to write: its digest, file, line and dataset. */
export interface Stored {
  digest: string | null;
  checksum: string | null;
  line: number | null;
  dataset: string;
}

/** What is stored under each of `keys` (absent keys are not in the map), one statement per 1,000 keys. */
export async function storedRecords(
  m: EntityManager,
  table: string,
  keyColumn: string,
  keys: readonly string[],
): Promise<Map<string, Stored>> {
  const stored = new Map<string, Stored>();
  for (const part of chunk(keys, 1000)) {
    const found: { k: string; d: string | null; c: string | null; l: number | string | null; s: string }[] =
      await m.query(
        `SELECT ${q(m, keyColumn)} AS k, row_digest AS d, source_checksum AS c, source_line AS l, source_dataset AS s ` +
          `FROM ${q(m, table)} WHERE ${q(m, keyColumn)} IN (${placeholders(part.length)})`,
        part,
      );
    for (const f of found)
      stored.set(String(f.k), {
        digest: f.d,
        checksum: f.c,
        line: f.l === null ? null : Number(f.l),
        dataset: f.s,
      });
  }
  return stored;
}

/** How a row to write compares to what is stored under its key. */
export type Change = 'new' | 'changed' | 'unchanged' | 'resourced';

export interface Classified<T> {
  /** Rows to insert (no stored row). */
  fresh: T[];
  /** Rows to update: content changed, or the same content now cited from another file or line. */
  changed: T[];
  /** How many rows are stored exactly so (same content from the same file and line): nothing to write. */
  unchanged: number;
}

/**
 * Compares rows to the stored ones in one statement per 1,000 keys and sorts them into new, changed and
 * unchanged. A stored row already written by this very file from another line is a duplicate key: refused
 * with the first line, never overwritten. `key` gives a row's primary key, `row.provenance` its provenance.
 */
export async function classify<T>(
  m: EntityManager,
  w: WriteContext,
  table: string,
  keyColumn: string,
  rows: readonly T[],
  key: (r: T) => string,
  provenance: (r: T) => WithProvenance,
): Promise<Classified<T>> {
  return sortStored(w, rows, await storedRecords(m, table, keyColumn, rows.map(key)), key, provenance);
}

/**
 * {@link classify} given what is stored under each key: for a table whose key is not one column (the caller
 * reads `stored` itself, under the keys `key` gives).
 */
export function sortStored<T>(
  w: WriteContext,
  rows: readonly T[],
  stored: ReadonlyMap<string, Stored>,
  key: (r: T) => string,
  provenance: (r: T) => WithProvenance,
): Classified<T> {
  const out: Classified<T> = { fresh: [], changed: [], unchanged: 0 };
  const ctx: ImportContext = w.ctx;
  for (const r of rows) {
    const p = provenance(r);
    const s = stored.get(key(r));
    if (!s) out.fresh.push(r);
    else if (s.checksum === ctx.facts.checksum && s.line !== null && s.line !== p.sourceLine)
      w.refuse([ctx.issue(p.sourceLine, null, key(r), `duplicate key: the same record as line ${s.line}`)]);
    else if (s.digest === p.rowDigest && s.checksum === p.sourceChecksum && s.line === p.sourceLine)
      out.unchanged += 1;
    else out.changed.push(r);
  }
  return out;
}

/** Most parameters per statement: SQLite allows 32,766, MySQL 65,535. */
const MAX_PARAMS = 30_000;

/** Multi-row INSERTs of `rows` (value arrays in `columns` order), as few as the parameter limit allows. */
async function insertStatements(
  m: EntityManager,
  table: string,
  columns: readonly string[],
  rows: readonly unknown[][],
  suffix: string,
): Promise<void> {
  const cols = columns.map((c) => q(m, c)).join(', ');
  const rowMarks = `(${placeholders(columns.length)})`;
  for (const part of chunk(rows, Math.max(1, Math.floor(MAX_PARAMS / columns.length))))
    await m.query(
      `INSERT INTO ${q(m, table)} (${cols}) VALUES ${part.map(() => rowMarks).join(', ')}${suffix}`,
      part.flat(),
    );
}

/**
 * Inserts rows, or updates them where the key exists, in multi-row statements (MySQL ON DUPLICATE KEY
 * UPDATE, SQLite ON CONFLICT DO UPDATE). `rows` are value arrays in `columns` order.
 */
export async function upsertRows(
  m: EntityManager,
  table: string,
  columns: readonly string[],
  keyColumns: readonly string[],
  rows: readonly unknown[][],
): Promise<void> {
  if (!rows.length) return;
  const updates = columns.filter((c) => !keyColumns.includes(c));
  const onConflict = !updates.length
    ? ''
    : isMysql(m)
      ? ` ON DUPLICATE KEY UPDATE ${updates.map((c) => `${q(m, c)} = VALUES(${q(m, c)})`).join(', ')}`
      : ` ON CONFLICT (${keyColumns.map((c) => q(m, c)).join(', ')}) DO UPDATE SET ${updates.map((c) => `${q(m, c)} = excluded.${q(m, c)}`).join(', ')}`;
  await insertStatements(m, table, columns, rows, onConflict);
}

/** Plain multi-row INSERT, for rows known not to exist yet (faster than an upsert). */
export async function insertRows(
  m: EntityManager,
  table: string,
  columns: readonly string[],
  rows: readonly unknown[][],
): Promise<void> {
  if (rows.length) await insertStatements(m, table, columns, rows, '');
}

/** Deletes rows whose `column` is one of `values`, a statement per 1,000 values. */
export async function deleteWhereIn(
  m: EntityManager,
  table: string,
  column: string,
  values: readonly unknown[],
): Promise<void> {
  for (const part of chunk(values, 1000))
    await m.query(`DELETE FROM ${q(m, table)} WHERE ${q(m, column)} IN (${placeholders(part.length)})`, [
      ...part,
    ]);
}

/**
 * The records of a scope that this file did not write (stored from another file, an older export, or the
 * built-in seed): what the file no longer has. `scopeSql` is a WHERE condition on `table` with its params.
 */
export async function missingFromFile(
  m: EntityManager,
  ctx: ImportContext,
  table: string,
  keyColumn: string,
  scopeSql: string,
  scopeParams: readonly unknown[],
  sampleSize = 10,
): Promise<{ count: number; sample: string[] }> {
  const where = `(${scopeSql}) AND (source_checksum IS NULL OR source_checksum <> ?)`;
  const params = [...scopeParams, ctx.facts.checksum];
  const [{ n }] = await m.query(`SELECT COUNT(*) AS n FROM ${q(m, table)} WHERE ${where}`, params);
  const sample: { k: string }[] = Number(n)
    ? await m.query(
        `SELECT ${q(m, keyColumn)} AS k FROM ${q(m, table)} WHERE ${where} ORDER BY ${q(m, keyColumn)} LIMIT ${sampleSize}`,
        params,
      )
    : [];
  return { count: Number(n), sample: sample.map((s) => String(s.k)) };
}

/** The keys of {@link missingFromFile}, streamed a page at a time (for --prune). */
export async function* missingKeys(
  m: EntityManager,
  ctx: ImportContext,
  table: string,
  keyColumn: string,
  scopeSql: string,
  scopeParams: readonly unknown[],
  page = 1000,
): AsyncGenerator<string[]> {
  let after: string | null = null;
  for (;;) {
    const rows: { k: string }[] = await m.query(
      `SELECT ${q(m, keyColumn)} AS k FROM ${q(m, table)} WHERE (${scopeSql}) AND (source_checksum IS NULL OR source_checksum <> ?)` +
        `${after === null ? '' : ` AND ${q(m, keyColumn)} > ?`} ORDER BY ${q(m, keyColumn)} LIMIT ${page}`,
      [...scopeParams, ctx.facts.checksum, ...(after === null ? [] : [after])],
    );
    if (!rows.length) return;
    yield rows.map((r) => String(r.k));
    after = String(rows[rows.length - 1].k);
  }
}
