import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { GraphQLError } from 'graphql';
import { DataSource, type EntitySchema, type Logger, type MixedList, type QueryRunner } from 'typeorm';
import { statementTimeoutMs, type StorageConfig } from './config';
import { abortError, currentRequestSignal } from './context';
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
    // The statement as its code wrote it, without the time limit the database edge put on it.
    this.statements.push(withoutTimeLimit(query));
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
  /**
   * The longest a read made for a request may run on MySQL or MariaDB before the server kills it (answered
   * STATEMENT_TIMEOUT); 0: no limit. Default DATABASE_STATEMENT_TIMEOUT_MS (itself SUBGRAPH_TIMEOUT_MS). Never
   * applied outside a request: imports, migrations and start-up run unbounded. No effect on SQLite.
   */
  statementTimeoutMs?: number;
}

/** Which MySQL-protocol server a data source talks to. */
type Flavor = 'mysql' | 'mariadb';

/**
 * Builds (but does not initialize) the TypeORM DataSource of one subgraph: MySQL when a URL is configured,
 * the embedded better-sqlite3 file otherwise. Never synchronizes: the schema comes from migrations. With
 * replicas (`storage.replicas`), a request's reads go to them and everything else to the primary (see
 * {@link guardStatements}).
 */
export async function createDataSource(opts: DataSourceOptions): Promise<DataSource> {
  const flavor = opts.storage.type === 'mysql' ? await serverFlavor(opts.storage) : undefined;
  const timeoutMs = flavor ? (opts.statementTimeoutMs ?? statementTimeoutMs()) : 0;
  return guardStatements(configureDataSource(opts, flavor), { flavor, timeoutMs });
}

/** The connection settings of one MySQL server of a storage (its primary or a replica): the primary's database. */
function serverOptions(url: string, database: string) {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 3306,
    username: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database,
  };
}

function configureDataSource(opts: DataSourceOptions, flavor: Flavor | undefined): DataSource {
  const common = {
    entities: opts.entities,
    migrations: opts.migrations,
    synchronize: false,
    migrationsRun: false,
    logger: opts.logger ?? new StatementCounter(),
  };
  if (opts.storage.type === 'mysql') {
    const primary = serverOptions(opts.storage.url, opts.storage.database);
    const replicas = opts.storage.replicas ?? [];
    return new DataSource({
      ...common,
      // TypeORM reads MariaDB's catalog differently (quoted defaults): tell it which server it talks to.
      type: flavor ?? 'mysql',
      ...primary,
      // TypeORM's replication: a pool cluster, the primary as MASTER and each replica as SLAVE<n>. Its default
      // for reads is the primary here: only a request's reads go to a replica (guardStatements), so an import or a
      // migration never reads behind what it wrote. A replica that fails 3 times in a row is left out for 2 s,
      // then tried again; a read that fails on one replica is retried on another.
      ...(replicas.length
        ? {
            replication: {
              master: primary,
              slaves: replicas.map((url) => serverOptions(url, primary.database)),
              defaultMode: 'master' as const,
              canRetry: true,
              removeNodeErrorCount: 3,
              restoreNodeTimeout: 2000,
            },
          }
        : {}),
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

const guarded = Symbol('guardStatements');

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

/** A statement that only reads: what may go to a replica and what the statement time limit applies to. */
const READ = /^\s*\(?\s*(SELECT|WITH)\b/i;

/** The prefix MariaDB's time limit puts before a statement (see {@link timeLimited}). */
const MARIADB_LIMIT = /^SET STATEMENT max_statement_time=[0-9.]+ FOR /;
/** The hint MySQL's time limit puts after a statement's first SELECT. */
const MYSQL_LIMIT = /^(\s*SELECT) \/\*\+ MAX_EXECUTION_TIME\([0-9]+\) \*\//i;

/**
 * A read bounded to `ms` by the server itself, which kills it past that: MariaDB (10.1 on) by `SET STATEMENT
 * max_statement_time=<seconds> FOR ...` (it has no MAX_EXECUTION_TIME hint), MySQL (5.7.8 on) by the optimizer
 * hint `/*+ MAX_EXECUTION_TIME(<ms>) *\/` after the SELECT (it has no SET STATEMENT; the hint bounds SELECTs only,
 * so a MySQL `WITH ...` read runs unbounded). One statement at a time: nothing is left on the connection.
 */
function timeLimited(sql: string, flavor: Flavor, ms: number): string {
  if (flavor === 'mariadb') return `SET STATEMENT max_statement_time=${ms / 1000} FOR ${sql}`;
  return sql.replace(/^(\s*SELECT)\b/i, `$1 /*+ MAX_EXECUTION_TIME(${ms}) */`);
}

/** A statement as its code wrote it, without the time limit {@link timeLimited} put on it. */
export const withoutTimeLimit = (sql: string): string =>
  sql.replace(MARIADB_LIMIT, '').replace(MYSQL_LIMIT, '$1');

/** The code of a read the server killed at DATABASE_STATEMENT_TIMEOUT_MS. */
export const STATEMENT_TIMEOUT_CODE = 'STATEMENT_TIMEOUT';
/** The code of a statement that could not reach the database (down, restarting, refusing connections). */
export const DATABASE_UNAVAILABLE_CODE = 'DATABASE_UNAVAILABLE';

/** MariaDB's ER_STATEMENT_TIMEOUT (max_statement_time) and MySQL's ER_QUERY_TIMEOUT (max_execution_time). */
const TIMEOUT_ERRNOS = new Set([1969, 3024]);
/**
 * What the driver says when the server cannot be reached or went away: the socket's errors, mysql2's lost
 * connection and closed pool, a pool cluster with no node left, the server shutting down (1053 ER_SERVER_SHUTDOWN,
 * 1927 ER_CONNECTION_KILLED), too many connections (1040).
 */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'POOL_NOEXIST',
  'POOL_NONEONLINE',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
  'ER_CON_COUNT_ERROR',
]);
const UNAVAILABLE_ERRNOS = new Set([1040, 1053, 1927, 2002, 2003, 2006, 2013]);
const UNAVAILABLE_MESSAGES =
  /closed state|Pool is closed|Pool does not exist|Connection lost|connect ETIMEDOUT/i;

/**
 * The client's error for a statement that failed for a reason of the database's, not of the statement's: killed
 * at its time limit (STATEMENT_TIMEOUT), or the server out of reach (DATABASE_UNAVAILABLE); anything else as it
 * was (masked as an internal error). The messages name no server, table or SQL.
 */
function databaseError(err: unknown, timeoutMs: number): unknown {
  const e = err as { code?: unknown; errno?: unknown; message?: unknown; driverError?: unknown };
  const driver = (e.driverError ?? err) as { code?: unknown; errno?: unknown; message?: unknown };
  const errno = typeof driver.errno === 'number' ? driver.errno : e.errno;
  const code = typeof driver.code === 'string' ? driver.code : e.code;
  const message = String(driver.message ?? e.message ?? '');
  if (typeof errno === 'number' && TIMEOUT_ERRNOS.has(errno)) {
    return new GraphQLError(
      `A database read took longer than the ${timeoutMs} ms allowed (DATABASE_STATEMENT_TIMEOUT_MS) and was stopped`,
      { extensions: { code: STATEMENT_TIMEOUT_CODE, limit: timeoutMs }, originalError: err as Error },
    );
  }
  if (
    (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) ||
    (typeof errno === 'number' && UNAVAILABLE_ERRNOS.has(errno)) ||
    UNAVAILABLE_MESSAGES.test(message)
  ) {
    return new GraphQLError('The database is unavailable for the moment: try again shortly', {
      extensions: { code: DATABASE_UNAVAILABLE_CODE },
      originalError: err as Error,
    });
  }
  return err;
}

/**
 * The one place every statement of a data source passes through (each query runner's `query` and `stream`,
 * whoever asks: a loader's batch, a root list, a transaction):
 *
 * - it refuses to send one for a request whose client has gone away or whose deadline has passed
 *   (`currentRequestSignal`, common/src/context.ts): the request's remaining resolvers fail at once
 *   (CLIENT_CLOSED_REQUEST) instead of querying for an answer nobody will read. A statement already sent runs
 *   to its end (on MySQL, to its time limit at most);
 * - on MySQL, a read made for a request is bounded by the server to `timeoutMs` ({@link timeLimited}), and goes
 *   to a replica when there are some (TypeORM's `find` and query builders through `defaultReplicationModeForReads`,
 *   raw `ds.query` reads here); writes, and everything outside a request, go to the primary, unbounded;
 * - a statement of a request killed at its limit, or one that cannot reach the server, fails with a code of its
 *   own (STATEMENT_TIMEOUT, DATABASE_UNAVAILABLE; {@link databaseError}).
 *
 * Outside a request (start-up, imports, migrations) nothing changes: every statement goes to the primary,
 * unbounded, and fails with the driver's own error (an operator's command line may name the server). It is also
 * where each statement of a traced request gets its span (common/src/tracing.ts sqlSpan), and is timed for the
 * metrics.
 */
function guardStatements(ds: DataSource, opts: { flavor?: Flavor; timeoutMs: number }): DataSource {
  const inRequest = () => currentRequestSignal() !== undefined;
  const limit = (sql: string) =>
    opts.flavor && opts.timeoutMs > 0 && inRequest() && READ.test(sql)
      ? timeLimited(sql, opts.flavor, opts.timeoutMs)
      : sql;
  // What the spans of its statements say of it (common/src/tracing.ts): only when a traced request sends them.
  const options = ds.options as { type: string; database?: unknown };
  const database: DatabaseAttributes =
    options.type === 'better-sqlite3'
      ? { system: 'sqlite' }
      : {
          system: opts.flavor ?? options.type,
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
    runner.query = (async (sql: string, ...rest: unknown[]) => {
      if (gone()) throw abortError(currentRequestSignal());
      try {
        return await sqlSpan(database, sql, () =>
          timed(ds, () => (query as (...a: unknown[]) => Promise<unknown>)(limit(sql), ...rest)),
        );
      } catch (err) {
        throw inRequest() ? databaseError(err, opts.timeoutMs) : err;
      }
    }) as QueryRunner['query'];
    runner.stream = async (sql, ...rest) => {
      if (gone()) throw abortError(currentRequestSignal());
      try {
        return await stream(limit(sql), ...rest);
      } catch (err) {
        throw inRequest() ? databaseError(err, opts.timeoutMs) : err;
      }
    };
    return runner;
  };
  if (ds.options.type === 'mysql' || ds.options.type === 'mariadb') {
    if ('replication' in ds.options && ds.options.replication) {
      // TypeORM's reads (find, query builders): a replica within a request, the primary otherwise.
      ds.defaultReplicationModeForReads = () => (inRequest() ? 'slave' : 'master');
      // A raw read given no query runner: the same. TypeORM itself would send it to the primary.
      const raw = ds.query.bind(ds);
      ds.query = (async (sql: string, parameters?: unknown[], runner?: QueryRunner) => {
        if (runner || !inRequest() || !READ.test(sql)) return raw(sql, parameters, runner);
        const replica = ds.createQueryRunner('slave');
        try {
          return await replica.query(sql, parameters);
        } finally {
          await replica.release();
        }
      }) as DataSource['query'];
    }
  }
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

/** Whether the MySQL-protocol server is MySQL or MariaDB (asked once, when the data source is built). */
async function serverFlavor(storage: Extract<StorageConfig, { type: 'mysql' }>): Promise<Flavor> {
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
