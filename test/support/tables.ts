import type { DataSource } from 'typeorm';
import { isMysql } from '@civic/common/dialect';

/** Every row of every table of a database, each table's rows in one stable order. */
export type TableContents = Record<string, Record<string, unknown>[]>;

/**
 * Tables that are not data: TypeORM's migration log, SQLite's own, the FTS5 table's shadow tables (its
 * b-tree segments depend on the order of writes; the FTS5 table itself is compared, by its columns), and the
 * data version every write transaction raises (common/src/data-version.ts: a time, different on each run).
 */
const NOT_DATA =
  /^(migrations|typeorm_metadata|data_versions|sqlite_.*|.*_fts_(data|idx|content|docsize|config))$/;

/** A value as text that compares the same whatever the driver returned (numbers as strings on MySQL...). */
function normalise(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return `0x${v.toString('hex')}`;
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

/**
 * Reads the whole content of a database, found by asking the database for its tables (not the entities: a
 * table added by a migration is compared too). `skipTables` leaves out more tables (e.g. `import_runs`, the
 * log of runs, which a second run adds to by design), `skipColumns` columns of every table.
 */
export async function tableContents(
  ds: DataSource,
  opts: { skipTables?: readonly string[]; skipColumns?: readonly string[] } = {},
): Promise<TableContents> {
  const tables: { name: string }[] = isMysql(ds)
    ? await ds.query(
        "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'",
      )
    : await ds.query("SELECT name FROM sqlite_master WHERE type = 'table'");
  const out: TableContents = {};
  for (const { name } of tables.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (NOT_DATA.test(name) || opts.skipTables?.includes(name)) continue;
    const rows: Record<string, unknown>[] = await ds.query(`SELECT * FROM ${name}`);
    out[name] = rows
      .map((r) =>
        Object.fromEntries(
          Object.entries(r)
            .filter(([k]) => !opts.skipColumns?.includes(k))
            .map(([k, v]) => [k, normalise(v)]),
        ),
      )
      .map((r) => [JSON.stringify(r), r] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, r]) => r);
  }
  return out;
}
