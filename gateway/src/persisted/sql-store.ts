import type { DataSource, EntityManager } from 'typeorm';
import type { GatewayDatabaseConfig } from '@civic/common/config';
import type { PersistedDocument } from './documents';
import { openGatewayTable } from '../gateway-db';
import type { AddResult, PersistedStore, StoredDocument } from './store';

/*
 * Created here (CREATE TABLE IF NOT EXISTS), as `api_keys` is (gateway/src/keys/sql-store.ts): the table belongs
 * to no subgraph, and the gateway replicas and `npm run persisted:*`, which open it, run no migrations. A change
 * to it must stay additive. `added_at` is also set when a document's name changes, so that the version (count and
 * latest `added_at`) changes with every edit.
 */
const TABLE = {
  sqlite: `CREATE TABLE IF NOT EXISTS persisted_documents (
     client TEXT NOT NULL,
     id TEXT NOT NULL,
     name TEXT NULL,
     type TEXT NOT NULL,
     body TEXT NOT NULL,
     added_at TEXT NOT NULL,
     PRIMARY KEY (client, id)
   )`,
  mysql: `CREATE TABLE IF NOT EXISTS persisted_documents (
     client VARCHAR(100) NOT NULL,
     id CHAR(64) NOT NULL,
     name VARCHAR(255) NULL,
     type VARCHAR(16) NOT NULL,
     body MEDIUMTEXT NOT NULL,
     added_at DATETIME(3) NOT NULL,
     PRIMARY KEY (client, id)
   ) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
};

/** The columns listed in every SELECT: never `*`. */
const COLUMNS = 'client, id, name, type, body, added_at';

interface Row {
  client: string;
  id: string;
  name: string | null;
  type: string;
  body: string;
  added_at: string;
}

/**
 * The persisted documents in table `persisted_documents` of the gateway's database: an embedded SQLite file
 * (timestamps as ISO 8601 text) or a MySQL database (DATETIME(3), UTC).
 */
export class SqlPersistedStore implements PersistedStore {
  private constructor(
    private readonly ds: DataSource,
    private readonly dialect: 'sqlite' | 'mysql',
    readonly location: string,
  ) {}

  /** Opens (creating when missing) the database and its table. */
  static async open(config: GatewayDatabaseConfig): Promise<SqlPersistedStore> {
    const { ds, dialect, location } = await openGatewayTable(config, TABLE);
    return new SqlPersistedStore(ds, dialect, location);
  }

  async add(client: string, docs: readonly PersistedDocument[], at: string): Promise<AddResult> {
    const result: AddResult = { added: [], renamed: [], unchanged: [] };
    const stamp = this.toStored(at);
    await this.ds.transaction(async (m: EntityManager) => {
      for (const doc of docs) {
        const rows: { name: string | null }[] = await m.query(
          'SELECT name FROM persisted_documents WHERE client = ? AND id = ?',
          [client, doc.id],
        );
        if (!rows.length) {
          await m.query(`INSERT INTO persisted_documents (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`, [
            client,
            doc.id,
            doc.name,
            doc.type,
            doc.body,
            stamp,
          ]);
          result.added.push(doc.id);
        } else if (rows[0].name !== doc.name) {
          await m.query('UPDATE persisted_documents SET name = ?, added_at = ? WHERE client = ? AND id = ?', [
            doc.name,
            stamp,
            client,
            doc.id,
          ]);
          result.renamed.push(doc.id);
        } else result.unchanged.push(doc.id);
      }
    });
    return result;
  }

  async list(client?: string): Promise<StoredDocument[]> {
    const rows: Row[] = client
      ? await this.ds.query(
          `SELECT ${COLUMNS} FROM persisted_documents WHERE client = ? ORDER BY client, name, id`,
          [client],
        )
      : await this.ds.query(`SELECT ${COLUMNS} FROM persisted_documents ORDER BY client, name, id`);
    return rows.map((r) => ({
      client: r.client,
      id: r.id,
      name: r.name,
      type: 'query',
      body: r.body,
      addedAt: this.toIso(r.added_at),
    }));
  }

  async remove(client: string, id?: string): Promise<number> {
    const before = await this.count(client, id);
    if (id) await this.ds.query('DELETE FROM persisted_documents WHERE client = ? AND id = ?', [client, id]);
    else await this.ds.query('DELETE FROM persisted_documents WHERE client = ?', [client]);
    return before;
  }

  async version(): Promise<string> {
    const rows: { n: number | string; latest: string | null }[] = await this.ds.query(
      'SELECT COUNT(*) AS n, MAX(added_at) AS latest FROM persisted_documents',
    );
    return `${Number(rows[0].n)}@${rows[0].latest ?? ''}`;
  }

  async close(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }

  private async count(client: string, id?: string): Promise<number> {
    const rows: { n: number | string }[] = id
      ? await this.ds.query('SELECT COUNT(*) AS n FROM persisted_documents WHERE client = ? AND id = ?', [
          client,
          id,
        ])
      : await this.ds.query('SELECT COUNT(*) AS n FROM persisted_documents WHERE client = ?', [client]);
    return Number(rows[0].n);
  }

  /** ISO 8601 to what the column holds: the same text in SQLite, `YYYY-MM-DD HH:MM:SS.mmm` (UTC) in MySQL. */
  private toStored(iso: string): string {
    return this.dialect === 'mysql' ? iso.replace('T', ' ').replace(/Z$/, '') : iso;
  }

  /** What the column holds back to ISO 8601 (MySQL's DATETIME read as a string: the pool uses dateStrings). */
  private toIso(stored: string): string {
    return this.dialect === 'mysql' ? `${stored.replace(' ', 'T')}Z` : stored;
  }
}
