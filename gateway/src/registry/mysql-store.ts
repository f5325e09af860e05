import type { ResultSetHeader } from 'mysql2';
import { createPool, type Pool, type PoolConnection, type RowDataPacket } from 'mysql2/promise';
import { ensureDatabase } from '@civic/common/db';
import {
  LOCK_WAIT_MS,
  sha256,
  type NewVersion,
  type RegistryEntry,
  type RegistryStore,
  type RegistryVersion,
} from './store';

/*
 * The registry's two tables. They are created here (CREATE TABLE IF NOT EXISTS) rather than by a TypeORM
 * migration: the registry belongs to no subgraph and has no entities, and the gateway replicas, which open
 * it, run no migrations. A change to them must stay additive.
 */
const TABLES = [
  `CREATE TABLE IF NOT EXISTS registry_subgraphs (
     name VARCHAR(63) NOT NULL PRIMARY KEY,
     version INT NOT NULL,
     url VARCHAR(2048) NOT NULL,
     sdl_hash CHAR(64) NOT NULL,
     timeout_ms INT NULL,
     owner VARCHAR(255) NULL,
     updated_at DATETIME(3) NOT NULL
   ) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
  `CREATE TABLE IF NOT EXISTS registry_versions (
     name VARCHAR(63) NOT NULL,
     version INT NOT NULL,
     sdl MEDIUMTEXT NOT NULL,
     sdl_hash CHAR(64) NOT NULL,
     url VARCHAR(2048) NOT NULL,
     timeout_ms INT NULL,
     owner VARCHAR(255) NULL,
     published_at DATETIME(3) NOT NULL,
     published_by VARCHAR(255) NULL,
     PRIMARY KEY (name, version)
   ) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
];

interface VersionRow extends RowDataPacket {
  name: string;
  version: number;
  sdl: string;
  sdl_hash: string;
  url: string;
  timeout_ms: number | null;
  owner: string | null;
  published_at: string;
  published_by: string | null;
}

/** DATETIME(3) as read with `dateStrings` (UTC, the pool's time zone) to ISO 8601, and back. */
const toIso = (d: string) => `${d.replace(' ', 'T')}Z`;
const toDatetime = (iso: string) => iso.replace('T', ' ').replace(/Z$/, '');

/**
 * The registry in MySQL (MariaDB): `registry_subgraphs`, one row per partner subgraph naming its current
 * version, and `registry_versions`, every version ever published with its SDL. Publishers serialize with
 * `GET_LOCK` (held on one connection for the whole check-and-write), and each write is one transaction, so a
 * gateway reading concurrently sees the previous or the next state.
 */
export class MysqlStore implements RegistryStore {
  private constructor(
    private readonly pool: Pool,
    readonly database: string,
    readonly location: string,
  ) {}

  /** Opens (creating when missing) the database and its tables. */
  static async open(url: string, database: string): Promise<MysqlStore> {
    await ensureDatabase({ type: 'mysql', url, database });
    const u = new URL(url);
    const pool = createPool({
      host: u.hostname,
      port: u.port ? Number(u.port) : 3306,
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      database,
      charset: 'utf8mb4_unicode_ci',
      dateStrings: true,
      timezone: 'Z',
      connectionLimit: 4,
    });
    try {
      for (const sql of TABLES) await pool.query(sql);
    } catch (err) {
      await pool.end();
      throw err;
    }
    return new MysqlStore(pool, database, `MySQL database ${database} on ${u.hostname}:${u.port || 3306}`);
  }

  async revision(): Promise<string> {
    const [rows] = await this.pool.query<RowDataPacket[]>(
      'SELECT name, version, sdl_hash, url, timeout_ms FROM registry_subgraphs ORDER BY name',
    );
    return rows.map((r) => `${r.name}:${r.version}:${r.sdl_hash}:${r.url}:${r.timeout_ms}`).join('|');
  }

  async list(): Promise<RegistryEntry[]> {
    // The current rows and their histories in one read, so the two always agree.
    const [rows] = await this.pool.query<VersionRow[]>(
      `SELECT v.* FROM registry_versions v JOIN registry_subgraphs s ON s.name = v.name
       WHERE v.version <= s.version ORDER BY v.name, v.version`,
    );
    const byName = new Map<string, RegistryVersion[]>();
    for (const r of rows) {
      const versions = byName.get(r.name) ?? [];
      versions.push({
        version: r.version,
        sdl: r.sdl,
        sdlHash: r.sdl_hash,
        url: r.url,
        owner: r.owner,
        timeoutMs: r.timeout_ms,
        publishedAt: toIso(r.published_at),
        publishedBy: r.published_by,
      });
      byName.set(r.name, versions);
    }
    return [...byName].map(([name, versions]) => ({ name, ...versions.at(-1)!, versions }));
  }

  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const conn = await this.pool.getConnection();
    const lockName = `${this.database}.registry`;
    try {
      const [rows] = await conn.query<RowDataPacket[]>('SELECT GET_LOCK(?, ?) AS got', [
        lockName,
        LOCK_WAIT_MS / 1000,
      ]);
      if (rows[0].got !== 1) {
        throw new Error(`The registry (${this.location}) stays locked by another publisher; try again.`);
      }
      try {
        return await fn();
      } finally {
        await conn.query('SELECT RELEASE_LOCK(?)', [lockName]);
      }
    } finally {
      conn.release();
    }
  }

  private async transaction<T>(fn: (conn: PoolConnection) => Promise<T>): Promise<T> {
    const conn = await this.pool.getConnection();
    try {
      await conn.beginTransaction();
      const result = await fn(conn);
      await conn.commit();
      return result;
    } catch (err) {
      await conn.rollback();
      throw err;
    } finally {
      conn.release();
    }
  }

  async put(next: NewVersion): Promise<RegistryEntry> {
    await this.transaction(async (conn) => {
      // The next number after the subgraph's history (which a removal deletes: a new subgraph of that name
      // starts again at 1).
      const [rows] = await conn.query<RowDataPacket[]>(
        'SELECT COALESCE(MAX(version), 0) AS v FROM registry_versions WHERE name = ? FOR UPDATE',
        [next.name],
      );
      const version = Number(rows[0].v) + 1;
      const sdlHash = sha256(next.sdl);
      const at = toDatetime(next.publishedAt);
      await conn.query(
        `INSERT INTO registry_versions (name, version, sdl, sdl_hash, url, timeout_ms, owner, published_at, published_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [next.name, version, next.sdl, sdlHash, next.url, next.timeoutMs, next.owner, at, next.publishedBy],
      );
      await conn.query(
        `INSERT INTO registry_subgraphs (name, version, url, sdl_hash, timeout_ms, owner, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON DUPLICATE KEY UPDATE version = VALUES(version), url = VALUES(url), sdl_hash = VALUES(sdl_hash),
           timeout_ms = VALUES(timeout_ms), owner = VALUES(owner), updated_at = VALUES(updated_at)`,
        [next.name, version, next.url, sdlHash, next.timeoutMs, next.owner, at],
      );
    });
    const entry = (await this.list()).find((e) => e.name === next.name);
    if (!entry) throw new Error(`Subgraph "${next.name}" vanished from the registry right after its publish`);
    return entry;
  }

  async remove(name: string): Promise<boolean> {
    return this.transaction(async (conn) => {
      const [res] = await conn.query<ResultSetHeader>('DELETE FROM registry_subgraphs WHERE name = ?', [
        name,
      ]);
      await conn.query('DELETE FROM registry_versions WHERE name = ?', [name]);
      return res.affectedRows > 0;
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
