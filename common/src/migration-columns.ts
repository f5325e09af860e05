import type { QueryRunner, TableColumnOptions } from 'typeorm';
import { binaryCollation } from './dialect';
import { LANGUAGES } from './localized';

/**
 * Column builders for hand-written migrations. Migrations are written with TypeORM's Table API (not generated)
 * so one migration runs on MySQL and on SQLite; the drift check proves they match the entities on both.
 */
export const col = {
  varchar: (name: string, length: number, nullable = false): TableColumnOptions => ({
    name,
    type: 'varchar',
    length: String(length),
    isNullable: nullable,
  }),
  key: (name: string, length: number): TableColumnOptions => ({
    name,
    type: 'varchar',
    length: String(length),
    isPrimary: true,
  }),
  int: (name: string, nullable = false): TableColumnOptions => ({
    name,
    type: 'integer',
    isNullable: nullable,
  }),
  bigint: (name: string): TableColumnOptions => ({ name, type: 'bigint' }),
  text: (name: string, nullable = false): TableColumnOptions => ({
    name,
    type: 'text',
    isNullable: nullable,
  }),
  boolean: (name: string, nullable = false): TableColumnOptions => ({
    name,
    type: 'boolean',
    isNullable: nullable,
  }),
  /** One nullable varchar column per language: `<prefix>_ar`, `<prefix>_fr`, ... */
  localized: (prefix: string, length = 512): TableColumnOptions[] =>
    LANGUAGES.map((l) => col.varchar(`${prefix}_${l}`, length, true)),
  /** The provenance columns every table carries. */
  provenance: (): TableColumnOptions[] => [
    col.varchar('source_dataset', 255),
    col.varchar('source_url', 1024, true),
    col.varchar('source_license', 255, true),
    col.varchar('source_record', 255, true),
  ],
};

/** A varchar key column whose collation a migration sets on MySQL. */
export interface KeyColumn {
  table: string;
  column: string;
  length: number;
  nullable: boolean;
}

/**
 * Makes key columns compare by code point on MySQL (see binaryCollation in dialect.ts), as SQLite does, so that id order, keyset
 * cursors and pages are the same on both backends and the primary-key index serves id order. SQLite is
 * already binary: nothing to do there.
 */
export async function setKeyCollation(q: QueryRunner, columns: KeyColumn[], mode: 'binary' | 'default') {
  const codePoint = binaryCollation(q);
  if (!codePoint) return;
  const collation = mode === 'binary' ? codePoint : 'utf8mb4_unicode_ci';
  for (const c of columns) {
    await q.query(
      `ALTER TABLE \`${c.table}\` MODIFY \`${c.column}\` varchar(${c.length}) CHARACTER SET utf8mb4 COLLATE ${collation} ${c.nullable ? 'NULL' : 'NOT NULL'}`,
    );
  }
}
