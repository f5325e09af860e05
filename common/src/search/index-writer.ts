import type { EntityManager } from 'typeorm';
import { chunk, placeholders } from '../db';
import { isMysql } from '../dialect';
import { indexTerms } from './fold';
import {
  ALL_FIELDS,
  ENTITY_ID_LENGTH,
  ENTITY_TYPE_LENGTH,
  FIELD_LENGTH,
  FTS_COLUMNS,
  FTS_VALUES,
  MAX_DOCUMENT_BYTES,
  SEARCH_FTS_TABLE,
  SEARCH_TABLE,
  type SearchDocument,
} from './schema';

/*
 * Writing the index: what seeds, importers and migrations call to (re)index a subgraph's own entities, in
 * the caller's transaction, on both backends.
 */

/** Joins terms with spaces, cut at a term boundary to fit {@link MAX_DOCUMENT_BYTES}. */
function documentText(terms: readonly string[]): string {
  let bytes = 0;
  const kept: string[] = [];
  for (const t of terms) {
    const b = Buffer.byteLength(t, 'utf8') + (kept.length ? 1 : 0);
    if (bytes + b > MAX_DOCUMENT_BYTES) break;
    bytes += b;
    kept.push(t);
  }
  return kept.join(' ');
}

/** What a subgraph indexes: the ORIGINAL text of one field of one entity (folded here). */
export interface SearchDocumentInput {
  entityType: string;
  entityId: string;
  field: string;
  text: string | null | undefined;
}

/**
 * The documents of some entities for {@link indexDocuments}: each row's searchable text by field. Give every
 * field, empty or not, so a text cleared since the last indexing leaves the index too.
 */
export function entityDocuments<T extends { id: string }>(
  entityType: string,
  rows: readonly T[],
  text: (row: T) => Record<string, string | null | undefined>,
): SearchDocumentInput[] {
  return rows.flatMap((row) =>
    Object.entries(text(row)).map(([field, value]) => ({ entityType, entityId: row.id, field, text: value })),
  );
}

const ROWS_PER_INSERT = 200;
const IDS_PER_DELETE = 500;

/** Runs in the caller's transaction when there is one, in a new one otherwise. */
function inTransaction<T>(manager: EntityManager, work: (m: EntityManager) => Promise<T>): Promise<T> {
  return manager.queryRunner?.isTransactionActive ? work(manager) : manager.transaction(work);
}

async function deleteEntities(m: EntityManager, entityType: string, ids: readonly string[]): Promise<void> {
  const sqlite = !isMysql(m);
  for (const part of chunk(ids, IDS_PER_DELETE)) {
    const marks = placeholders(part.length);
    const which = `entity_type = ? AND entity_id IN (${marks})`;
    // The FTS5 row of a document has the document's rowid (see indexDocuments): deleting by rowid goes
    // through the primary key instead of scanning the FTS table's UNINDEXED columns.
    if (sqlite)
      await m.query(
        `DELETE FROM ${SEARCH_FTS_TABLE} WHERE rowid IN (SELECT rowid FROM ${SEARCH_TABLE} WHERE ${which})`,
        [entityType, ...part],
      );
    await m.query(`DELETE FROM ${SEARCH_TABLE} WHERE ${which}`, [entityType, ...part]);
  }
}

function checkLength(what: string, value: string, max: number): void {
  if (!value || value.length > max)
    throw new Error(`indexDocuments: ${what} "${value}" must be 1 to ${max} characters`);
}

/** One entity's new documents: its searchable terms by field. */
interface EntityTerms {
  entityType: string;
  entityId: string;
  fields: Map<string, string[]>;
}

/** Groups the documents by entity, folding each text; refuses bad names and a field given twice. */
function termsByEntity(docs: readonly SearchDocumentInput[]): Map<string, EntityTerms> {
  const entities = new Map<string, EntityTerms>();
  for (const d of docs) {
    checkLength('entityType', d.entityType, ENTITY_TYPE_LENGTH);
    checkLength('entityId', d.entityId, ENTITY_ID_LENGTH);
    checkLength('field', d.field, FIELD_LENGTH);
    if (d.field === ALL_FIELDS) throw new Error(`indexDocuments: the field name "${ALL_FIELDS}" is reserved`);
    const key = JSON.stringify([d.entityType, d.entityId]);
    let e = entities.get(key);
    if (!e) entities.set(key, (e = { entityType: d.entityType, entityId: d.entityId, fields: new Map() }));
    if (e.fields.has(d.field))
      throw new Error(`indexDocuments: ${d.entityType} ${d.entityId} has the field "${d.field}" twice`);
    e.fields.set(d.field, d.text ? indexTerms(d.text) : []);
  }
  return entities;
}

/**
 * The rows of {@link SEARCH_TABLE} for these entities: one per non-empty field (unless `perField` is false),
 * plus the `all` row.
 */
function documentRows(entities: Iterable<EntityTerms>, perField: boolean): SearchDocument[] {
  const rows: SearchDocument[] = [];
  for (const e of entities) {
    const every: string[] = [];
    for (const [field, terms] of e.fields) {
      if (!terms.length) continue;
      if (perField)
        rows.push({ entityType: e.entityType, entityId: e.entityId, field, text: documentText(terms) });
      every.push(...terms);
    }
    if (every.length)
      rows.push({
        entityType: e.entityType,
        entityId: e.entityId,
        field: ALL_FIELDS,
        text: documentText(every),
      });
  }
  return rows;
}

/** The entity ids by entity type. */
function idsByType(entities: Iterable<EntityTerms>): Map<string, string[]> {
  const byType = new Map<string, string[]>();
  for (const e of entities) {
    const ids = byType.get(e.entityType);
    if (ids) ids.push(e.entityId);
    else byType.set(e.entityType, [e.entityId]);
  }
  return byType;
}

/** Inserts rows into {@link SEARCH_TABLE}, many per statement. */
async function insertRows(m: EntityManager, rows: readonly SearchDocument[]): Promise<void> {
  for (const part of chunk(rows, ROWS_PER_INSERT)) {
    const values = part.map(() => '(?, ?, ?, ?)').join(', ');
    const params = part.flatMap((r) => [r.entityType, r.entityId, r.field, r.text]);
    await m.query(
      `INSERT INTO ${SEARCH_TABLE} (entity_type, entity_id, field, text) VALUES ${values}`,
      params,
    );
  }
}

/** SQLite: copies the entities' new documents into FTS5 under their own rowids, found through the primary key. */
async function copyToFts(m: EntityManager, byType: ReadonlyMap<string, string[]>): Promise<void> {
  for (const [type, ids] of byType) {
    for (const part of chunk(ids, IDS_PER_DELETE)) {
      await m.query(
        `INSERT INTO ${SEARCH_FTS_TABLE} (${FTS_COLUMNS}) SELECT ${FTS_VALUES} FROM ${SEARCH_TABLE} ` +
          `WHERE entity_type = ? AND entity_id IN (${placeholders(part.length)})`,
        [type, ...part],
      );
    }
  }
}

/**
 * Replaces the indexed text of every entity named in `docs` by the given fields (a field not given is no
 * longer indexed; an entity whose fields are all empty is removed from the index), in one transaction with
 * multi-row statements. Text is folded here: pass the original. Returns the number of rows written.
 * `fresh`: the entities are known to have no indexed text yet (an importer's newly inserted rows), so the
 * delete of their old rows is skipped (on SQLite it costs a lookup per entity in the FTS5 table).
 * `perField: false`: only the `all` row of each entity is written (one row per entity instead of one per
 * field plus one), for a type searched with the same option (`searchQuery`), which then ranks by the `all`
 * row alone; default true.
 */
export async function indexDocuments(
  manager: EntityManager,
  docs: readonly SearchDocumentInput[],
  options: { fresh?: boolean; perField?: boolean } = {},
): Promise<number> {
  const entities = [...termsByEntity(docs).values()];
  const rows = documentRows(entities, options.perField ?? true);
  const byType = idsByType(entities);
  return inTransaction(manager, async (m) => {
    if (!options.fresh) for (const [type, ids] of byType) await deleteEntities(m, type, ids);
    await insertRows(m, rows);
    if (!isMysql(m)) await copyToFts(m, byType);
    return rows.length;
  });
}

/** Removes entities from the index (e.g. when they are deleted), in one transaction. */
export async function removeDocuments(
  manager: EntityManager,
  entityType: string,
  ids: readonly string[],
): Promise<void> {
  if (!ids.length) return;
  await inTransaction(manager, (m) => deleteEntities(m, entityType, ids));
}

/**
 * Rebuilds SQLite's FTS5 table from {@link SEARCH_TABLE}, for rows written there without this module.
 * Nothing to do on MySQL, whose FULLTEXT index is maintained by InnoDB.
 */
export async function rebuildSearchIndex(manager: EntityManager): Promise<void> {
  if (isMysql(manager)) return;
  await inTransaction(manager, async (m) => {
    await m.query(`DELETE FROM ${SEARCH_FTS_TABLE}`);
    await m.query(
      `INSERT INTO ${SEARCH_FTS_TABLE} (${FTS_COLUMNS}) SELECT ${FTS_VALUES} FROM ${SEARCH_TABLE}`,
    );
  });
}
