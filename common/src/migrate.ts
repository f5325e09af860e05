import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { DataSource } from 'typeorm';
import type { SubgraphModule } from './bootstrap';
import type { StorageConfig } from './config';
import { ensureDatabase, serverConnection } from './db';
import { unmigrated } from './ready';

/** How long a migration run waits for another one holding the lock: 10 minutes, far beyond any migration here. */
export const MIGRATE_LOCK_TIMEOUT_S = 600;

/**
 * The name of the lock that serializes migrations of one MySQL database: `civic_migrate_<database>`. MySQL
 * caps lock names at 64 characters; a longer one (a long test database name) becomes a hash of itself.
 */
export function migrationLockName(database: string): string {
  const name = `civic_migrate_${database}`;
  return name.length <= 64
    ? name
    : `civic_migrate_${createHash('sha256').update(database).digest('hex').slice(0, 40)}`;
}

/** Thrown when the lock is not granted within the timeout: another run is still migrating. */
export class MigrationLockTimeout extends Error {}

/**
 * Runs `work` while holding the migration lock of `storage`'s database, so concurrent runs (replicas starting
 * together, `npm run migrate` twice, a Kubernetes Job beside a `MIGRATE_ON_START` service) wait for one another
 * instead of racing on the same CREATE TABLE; the one that waited then finds nothing left to run.
 *
 * MySQL: `GET_LOCK` on a connection of its own, held for the whole run and released after (the server also
 * releases it if this process dies, so a killed run never leaves the lock behind). SQLite: better-sqlite3's
 * busy timeout and TypeORM's per-migration transactions do not serialize two processes: each reads the
 * migrations table before its transaction, both see the same migration pending, and the second one's CREATE
 * TABLE fails once the first commits. So the lock is a write transaction (`BEGIN IMMEDIATE`) on a separate
 * file beside the database (`<file>.migrate-lock`): it waits up to the timeout and, like GET_LOCK, is released
 * by the operating system when the process ends.
 */
export async function withMigrationLock<T>(
  storage: StorageConfig,
  work: () => Promise<T>,
  timeoutS = MIGRATE_LOCK_TIMEOUT_S,
): Promise<T> {
  if (storage.type === 'sqlite') return withFileLock(`${storage.path}.migrate-lock`, work, timeoutS);
  const lock = migrationLockName(storage.database);
  const conn = await serverConnection(storage);
  try {
    const [rows] = await conn.query('SELECT GET_LOCK(?, ?) AS granted', [lock, timeoutS]);
    if (Number((rows as { granted: number | null }[])[0].granted) !== 1) {
      throw new MigrationLockTimeout(
        `database ${storage.database}: another migration held the lock ${lock} for more than ${timeoutS} s`,
      );
    }
    try {
      return await work();
    } finally {
      await conn.query('SELECT RELEASE_LOCK(?)', [lock]);
    }
  } finally {
    await conn.end();
  }
}

interface LockDatabase {
  exec(sql: string): unknown;
  close(): unknown;
}

/** The SQLite locks this process holds or waits for, by file: see {@link withFileLock}. */
const fileLocks = new Map<string, Promise<void>>();

/**
 * better-sqlite3 waits for a busy file synchronously, blocking the thread: a second run in this same process
 * would block the first one, which holds the lock, for the whole timeout. So runs in one process queue here
 * first, and only one of them at a time waits on the file (for another process).
 */
async function withFileLock<T>(path: string, work: () => Promise<T>, timeoutS: number): Promise<T> {
  const before = fileLocks.get(path) ?? Promise.resolve();
  let done!: () => void;
  const released = new Promise<void>((resolve) => (done = resolve));
  const mine = before.then(() => released);
  fileLocks.set(path, mine);
  await before;
  try {
    return await withFileLockAcrossProcesses(path, work, timeoutS);
  } finally {
    done();
    if (fileLocks.get(path) === mine) fileLocks.delete(path);
  }
}

async function withFileLockAcrossProcesses<T>(
  path: string,
  work: () => Promise<T>,
  timeoutS: number,
): Promise<T> {
  mkdirSync(dirname(path), { recursive: true });
  // better-sqlite3 ships no type declarations; this is all of it the lock needs.
  const Database = createRequire(__filename)('better-sqlite3') as new (
    file: string,
    opts: { timeout: number },
  ) => LockDatabase;
  const db = new Database(path, { timeout: timeoutS * 1000 });
  try {
    try {
      db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      throw new MigrationLockTimeout(
        `${path}: another migration held the lock for more than ${timeoutS} s (${(err as Error).message})`,
      );
    }
    try {
      return await work();
    } finally {
      db.exec('ROLLBACK');
    }
  } finally {
    db.close();
  }
}

/** What one migration run did to one database: the migrations it ran, in order (none: it was up to date). */
export interface MigrationResult {
  database: string;
  ran: string[];
}

/** Where a storage is, for a log line or a message: the MySQL database's name, or the SQLite file. */
export const storageName = (storage: StorageConfig): string =>
  storage.type === 'mysql' ? storage.database : storage.path;

/**
 * Runs the pending migrations of an initialized data source under the migration lock of its database, each in
 * its own transaction. The list of pending ones is read after the lock is granted, so a run that waited for
 * another finds nothing left to do.
 */
export async function runMigrationsLocked(ds: DataSource, storage: StorageConfig): Promise<MigrationResult> {
  const ran = await withMigrationLock(storage, () => ds.runMigrations({ transaction: 'each' }));
  return { database: storageName(storage), ran: ran.map((m) => m.name) };
}

/**
 * Refuses (throws, with what to run) when a database a service is about to serve is not migrated: the message
 * names the database and the command, as the service's "failed to start" line prints it.
 */
export async function assertMigrated(ds: DataSource, storage: StorageConfig, service: string): Promise<void> {
  const reason = await unmigrated(ds);
  if (reason) {
    throw new Error(
      `${service}: database ${storageName(storage)} is not migrated (${reason.replace(/^database not migrated: /, '')}): run \`npm run migrate\` ` +
        '(docker compose runs its migrate service first), or start with MIGRATE_ON_START=true',
    );
  }
}

/** What `npm run migrate` reports for one subgraph. */
export interface MigratedSubgraph extends MigrationResult {
  name: string;
  storage: StorageConfig['type'];
  ms: number;
}

/**
 * Migrates one subgraph's database (`npm run migrate`): creates it when missing, runs its pending migrations
 * under the migration lock and closes it again.
 */
export async function migrateSubgraph(
  mod: Pick<SubgraphModule, 'name' | 'createDataSource'>,
  storage: StorageConfig,
): Promise<MigratedSubgraph> {
  const started = Date.now();
  await ensureDatabase(storage);
  const ds = await mod.createDataSource(storage);
  await ds.initialize();
  try {
    const result = await runMigrationsLocked(ds, storage);
    return { name: mod.name, storage: storage.type, ...result, ms: Date.now() - started };
  } finally {
    await ds.destroy();
  }
}
