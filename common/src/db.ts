import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { DataSource, type EntitySchema, type Logger, type MixedList, type QueryRunner } from 'typeorm';
import type { StorageConfig } from './config';
import { clientGoneError, currentRequestSignal } from './context';
import { sqlSpan, type DatabaseAttributes } from './tracing';

/**
 * A TypeORM logger that counts the statements a data source sends, so tests can prove batching
 * (the number of statements an operation causes must not grow with the rows it returns).
 */
export class StatementCounter implements Logger {
  private count = 0;
  /** Statements seen since the last reset, in order. Kept short: only the text, no parameters. */
  readonly statements: string[] = [];
  logQuery(query: string): void {
    // Transaction control is not a data access; count what reads or writes data.
    if (/^(START TRANSACTION|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)/i.test(query)) return;
    this.count += 1;
    this.statements.push(query);
  }
  get total(): number {
    return this.count;
  }
  reset(): void {
    this.count = 0;
    this.statements.length = 0;
  }
  logQueryError(error: string | Error, query: string): void {
    // Query errors surface to the resolver, which logs them without leaking SQL to the client.
    void error;
    void query;
  }
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(_level: 'log' | 'info' | 'warn', _message: unknown, _queryRunner?: QueryRunner): void {}
}

/** What a subgraph hands to {@link createDataSource}. */
export interface DataSourceOptions {
  storage: StorageConfig;
  entities: MixedList<EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function>;
  logger?: Logger;
}

/**
 * Builds (but does not initialize) the TypeORM DataSource of one subgraph: MySQL when a URL is configured,
 * the embedded better-sqlite3 file otherwise. Never synchronizes: the schema comes from migrations.
 */
export async function createDataSource(opts: DataSourceOptions): Promise<DataSource> {
  return stopWhenClientGone(await configureDataSource(opts));
}

async function configureDataSource(opts: DataSourceOptions): Promise<DataSource> {
  const common = {
    entities: opts.entities,
    migrations: opts.migrations,
    synchronize: false,
    migrationsRun: false,
    logger: opts.logger ?? new StatementCounter(),
  };
  if (opts.storage.type === 'mysql') {
    const u = new URL(opts.storage.url);
    return new DataSource({
      ...common,
      // TypeORM reads MariaDB's catalog differently (quoted defaults): tell it which server it talks to.
      type: await serverFlavor(opts.storage),
      host: u.hostname,
      port: u.port ? Number(u.port) : 3306,
      username: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      database: opts.storage.database,
      charset: 'utf8mb4_unicode_ci',
      // DECIMAL and BIGINT come back as strings: money never passes through a float.
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
      timezone: 'Z',
      poolSize: 10,
    });
  }
  mkdirSync(dirname(opts.storage.path), { recursive: true });
  return new DataSource({
    ...common,
    type: 'better-sqlite3',
    database: opts.storage.path,
    prepareDatabase: (db: { pragma(s: string): unknown }) => {
      db.pragma('journal_mode = WAL');
      db.pragma('foreign_keys = ON');
    },
  });
}

const guarded = Symbol('stopWhenClientGone');

/** Who is told of each statement's time (a subgraph's metrics: sql_statement_duration_seconds). */
const statementWatchers = new WeakMap<DataSource, (seconds: number, failed: boolean) => void>();

/**
 * Has `observe` told the time of every statement this data source sends from now on (through its query runners,
 * the same place that stops the statements of gone clients). One watcher per data source: the last one set.
 */
export function watchStatements(ds: DataSource, observe: (seconds: number, failed: boolean) => void): void {
  statementWatchers.set(ds, observe);
}

/** Runs one statement, timed for the data source's watcher if it has one. */
async function timed<T>(ds: DataSource, run: () => Promise<T>): Promise<T> {
  const observe = statementWatchers.get(ds);
  if (!observe) return run();
  const started = process.hrtime.bigint();
  let failed = true;
  try {
    const result = await run();
    failed = false;
    return result;
  } finally {
    observe(Number(process.hrtime.bigint() - started) / 1e9, failed);
  }
}

/**
 * The one place every statement of a data source passes through (each query runner's `query` and `stream`,
 * whoever asks: a loader's batch, a root list, a transaction) refuses to send one for a request whose client
 * has gone away (`currentRequestSignal`, common/src/context.ts): the request's remaining resolvers fail with
 * CLIENT_CLOSED_REQUEST at once instead of querying for an answer nobody will read. A statement already sent
 * runs to its end. Outside a request (start-up, imports, migrations) nothing changes. It is also where each
 * statement of a traced request gets its span (common/src/tracing.ts sqlSpan), and is timed for the metrics.
 */
function stopWhenClientGone(ds: DataSource): DataSource {
  // What the spans of its statements say of it (common/src/tracing.ts): only when a traced request sends them.
  const options = ds.options as { type: string; database?: unknown };
  const database: DatabaseAttributes =
    options.type === 'better-sqlite3'
      ? { system: 'sqlite' }
      : {
          system: options.type,
          namespace: typeof options.database === 'string' ? options.database : undefined,
        };
  const create = ds.createQueryRunner.bind(ds);
  ds.createQueryRunner = (mode) => {
    // better-sqlite3's driver hands out one query runner for every caller: it is wrapped once.
    const runner = create(mode) as QueryRunner & { [guarded]?: true };
    if (runner[guarded]) return runner;
    runner[guarded] = true;
    const query = runner.query.bind(runner);
    const stream = runner.stream.bind(runner);
    const gone = () => currentRequestSignal()?.aborted === true;
    runner.query = ((...args: Parameters<QueryRunner['query']>) =>
      gone()
        ? Promise.reject(clientGoneError())
        : sqlSpan(database, args[0], () => timed(ds, () => query(...args)))) as QueryRunner['query'];
    runner.stream = (...args) => (gone() ? Promise.reject(clientGoneError()) : stream(...args));
    return runner;
  };
  return ds;
}

/** How a MySQL data source's connection pool is used now: connections open, idle among them, callers waiting. */
export interface PoolUse {
  open: number;
  idle: number;
  waiting: number;
  max: number;
}

/**
 * The use of a data source's mysql2 pool, read from the pool's own queues (mysql2 3.x keeps them as fields, not as
 * an API: anything else, SQLite or a replicated pool, gives undefined rather than a wrong figure).
 */
export function poolUse(ds: DataSource): PoolUse | undefined {
  const pool = (ds.driver as { pool?: unknown }).pool as
    | {
        _allConnections?: { length: number };
        _freeConnections?: { length: number };
        _connectionQueue?: { length: number };
        config?: { connectionLimit?: number };
      }
    | undefined;
  if (!ds.isInitialized || !pool?._allConnections || !pool._freeConnections || !pool._connectionQueue)
    return undefined;
  return {
    open: pool._allConnections.length,
    idle: pool._freeConnections.length,
    waiting: pool._connectionQueue.length,
    max: pool.config?.connectionLimit ?? 0,
  };
}

/** A connection to the MySQL server of a storage, on no database (to create, drop or lock one). */
export function serverConnection(storage: Extract<StorageConfig, { type: 'mysql' }>) {
  const u = new URL(storage.url);
  return createConnection({
    host: u.hostname,
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
  });
}

/** Whether the MySQL-protocol server is MySQL or MariaDB. */
async function serverFlavor(
  storage: Extract<StorageConfig, { type: 'mysql' }>,
): Promise<'mysql' | 'mariadb'> {
  const conn = await serverConnection(storage);
  try {
    const [rows] = await conn.query('SELECT VERSION() AS v');
    return /mariadb/i.test(String((rows as { v: string }[])[0].v)) ? 'mariadb' : 'mysql';
  } finally {
    await conn.end();
  }
}

/** Creates the subgraph's MySQL database when it does not exist yet (utf8mb4, so Arabic stays Arabic). */
export async function ensureDatabase(storage: StorageConfig): Promise<void> {
  if (storage.type !== 'mysql') return;
  const conn = await serverConnection(storage);
  try {
    await conn.query(
      `CREATE DATABASE IF NOT EXISTS \`${storage.database.replace(/`/g, '')}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
  } finally {
    await conn.end();
  }
}

/** Drops a subgraph's MySQL database (tests use this to clean up the databases they created). */
export async function dropDatabase(storage: StorageConfig): Promise<void> {
  if (storage.type !== 'mysql') return;
  const conn = await serverConnection(storage);
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${storage.database.replace(/`/g, '')}\``);
  } finally {
    await conn.end();
  }
}

/**
 * Opens a data source ready for use: database created, connection open, pending migrations run.
 */
export async function openDataSource(ds: DataSource, storage: StorageConfig): Promise<DataSource> {
  await ensureDatabase(storage);
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  return ds;
}

/**
 * Lists the SQL that would be needed to bring the database in line with the entities. Empty means the
 * migrations and the entities agree; anything else is drift.
 */
export async function schemaDrift(ds: DataSource): Promise<string[]> {
  const log = await ds.driver.createSchemaBuilder().log();
  return log.upQueries.map((q) => q.query);
}

/** The parameter placeholder list and values for a `WHERE col IN (...)` over many keys. */
/** `?, ?, ?`: the placeholders of an `IN (...)` list of n values. */
export const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
