import type { DataSource, EntityManager, QueryRunner } from 'typeorm';

/*
 * The one place that knows how MySQL (and MariaDB) and the embedded SQLite differ. Code that writes SQL asks
 * here instead of testing the driver type itself, so a new difference is handled once for every subgraph.
 */

/** Anything TypeORM can run a statement through: a data source, an entity manager or a query runner. */
export type Queryable = DataSource | EntityManager | QueryRunner;

/** The TypeORM driver type behind a data source, manager or query runner (`mysql`, `mariadb`, `better-sqlite3`). */
export function dbType(source: Queryable): string {
  return 'connection' in source ? source.connection.options.type : source.options.type;
}

/**
 * Whether statements go to MySQL or MariaDB rather than SQLite: the two MySQL flavours speak the same SQL
 * for everything this project writes, so callers never test for one of them alone.
 */
export function isMysql(source: Queryable): boolean {
  const type = dbType(source);
  return type === 'mysql' || type === 'mariadb';
}

/**
 * The collation that compares text by code point like SQLite's BINARY, trailing spaces included (the PAD
 * SPACE `utf8mb4_bin` would treat 'a' and 'a ' as equal): null on SQLite, where nothing is needed.
 */
export function binaryCollation(source: Queryable): string | null {
  const type = dbType(source);
  if (type === 'mariadb') return 'utf8mb4_nopad_bin';
  if (type === 'mysql') return 'utf8mb4_0900_bin';
  return null;
}

/**
 * Text that compares, sorts and groups by code point on both backends: SQLite already does; MySQL's default
 * utf8mb4_unicode_ci would fold case and accents (`Open Data` and `open data` one value on MySQL only), so
 * the expression gets {@link binaryCollation} there.
 */
export function binary(source: Queryable, sql: string): string {
  const collation = binaryCollation(source);
  return collation ? `(${sql}) COLLATE ${collation}` : sql;
}

/**
 * The type `CAST(... AS <type>)` reads a value back as text: an exact SUM cast to it never comes back from
 * SQLite as a lossy JavaScript number.
 */
export function textType(source: Queryable): 'CHAR' | 'TEXT' {
  return isMysql(source) ? 'CHAR' : 'TEXT';
}

/** A table or column name quoted for the backend (backticks on MySQL, double quotes on SQLite). */
export function quoteName(source: Queryable, name: string): string {
  return isMysql(source) ? `\`${name.replace(/`/g, '``')}\`` : `"${name.replace(/"/g, '""')}"`;
}
