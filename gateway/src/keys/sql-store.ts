import type { DataSource } from 'typeorm';
import type { GatewayDatabaseConfig } from '@civic/common/config';
import {
  infoOf,
  KEY_COLUMNS,
  keyOf,
  type ApiKeyInfo,
  type KeyRow,
  type KeyStore,
  type StoredKey,
} from './store';
import { openGatewayTable } from '../gateway-db';

/*
 * The table is created here (CREATE TABLE IF NOT EXISTS), as the registry's are, rather than by a TypeORM
 * migration: it belongs to no subgraph, and the gateway replicas and `npm run keys`, which open it, run no
 * migrations. A change to it must stay additive.
 */
const TABLE = {
  sqlite: `CREATE TABLE IF NOT EXISTS api_keys (
     id TEXT NOT NULL PRIMARY KEY,
     name TEXT NOT NULL,
     secret_sha256 TEXT NOT NULL,
     cost_per_minute INTEGER NOT NULL,
     export_rows_per_minute INTEGER NULL,
     created_at TEXT NOT NULL,
     revoked_at TEXT NULL
   )`,
  mysql: `CREATE TABLE IF NOT EXISTS api_keys (
     id VARCHAR(16) NOT NULL PRIMARY KEY,
     name VARCHAR(255) NOT NULL,
     secret_sha256 CHAR(64) NOT NULL,
     cost_per_minute BIGINT NOT NULL,
     export_rows_per_minute BIGINT NULL,
     created_at DATETIME(3) NOT NULL,
     revoked_at DATETIME(3) NULL
   ) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
};

/**
 * The API keys in table `api_keys` of the gateway's database: an embedded SQLite file (timestamps as ISO 8601
 * text) or a MySQL database (DATETIME(3), UTC). One statement per call: a key is looked up by its primary key.
 */
export class SqlKeyStore implements KeyStore {
  private constructor(
    private readonly ds: DataSource,
    private readonly dialect: 'sqlite' | 'mysql',
    readonly location: string,
  ) {}

  /** Opens (creating when missing) the database and its table. */
  static async open(config: GatewayDatabaseConfig): Promise<SqlKeyStore> {
    const { ds, dialect, location } = await openGatewayTable(config, TABLE);
    return new SqlKeyStore(ds, dialect, location);
  }

  async insert(key: StoredKey): Promise<void> {
    await this.ds.query(`INSERT INTO api_keys (${KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`, [
      key.id,
      key.name,
      key.secretSha256,
      key.costPerMinute,
      key.exportRowsPerMinute,
      this.toStored(key.createdAt),
      key.revokedAt === null ? null : this.toStored(key.revokedAt),
    ]);
  }

  async get(id: string): Promise<StoredKey | null> {
    const rows: KeyRow[] = await this.ds.query(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = ?`, [id]);
    return rows.length ? keyOf(rows[0], this.toIso) : null;
  }

  async list(): Promise<ApiKeyInfo[]> {
    const rows: KeyRow[] = await this.ds.query(`SELECT ${KEY_COLUMNS} FROM api_keys ORDER BY created_at, id`);
    return rows.map((r) => infoOf(keyOf(r, this.toIso)));
  }

  async revoke(id: string, at: string): Promise<ApiKeyInfo | null> {
    await this.ds.query('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [
      this.toStored(at),
      id,
    ]);
    const key = await this.get(id);
    return key && infoOf(key);
  }

  async close(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }

  /** ISO 8601 to what the column holds: the same text in SQLite, `YYYY-MM-DD HH:MM:SS.mmm` (UTC) in MySQL. */
  private toStored(iso: string): string {
    return this.dialect === 'mysql' ? iso.replace('T', ' ').replace(/Z$/, '') : iso;
  }

  /** What the column holds back to ISO 8601 (MySQL's DATETIME read as a string: the pool uses dateStrings). */
  private readonly toIso = (stored: string): string =>
    this.dialect === 'mysql' ? `${stored.replace(' ', 'T')}Z` : stored;
}
