import { Redis } from 'ioredis';
import type { Request, Response } from 'express';
import { EntitySchema, Table, type DataSource, type EntityManager, type QueryRunner } from 'typeorm';
import { col } from './migration-columns';
import { logger } from './log';

/**
 * The version of a subgraph's data: one row per subgraph in its own database (`data_versions`), raised in the
 * same transaction as every write of its data (imports, the seed, the generator: all through
 * {@link writeData}). The gateway's response cache keys each answer by the versions of the subgraphs it came
 * from, so a write makes every answer that depends on it unreachable (gateway/src/cache/).
 *
 * A version is a number that only grows: the larger of the previous one plus one and the time of the write in
 * milliseconds, so a database dropped and seeded again starts above every version it had before (no cached
 * answer of the old data can match the new one's versions).
 */
export interface DataVersionRow {
  subgraph: string;
  version: string | number;
  /** When it was last raised, ISO 8601 UTC. */
  changedAt: string;
}

export const DataVersionEntity = new EntitySchema<DataVersionRow>({
  name: 'DataVersion',
  tableName: 'data_versions',
  columns: {
    subgraph: { type: 'varchar', length: 64, primary: true },
    version: { type: 'bigint' },
    changedAt: { type: 'varchar', length: 24, name: 'changed_at' },
  },
});

/** Migration step shared by the subgraphs: the `data_versions` table and the subgraph's row in it. */
export async function createDataVersionTable(q: QueryRunner, subgraph: string): Promise<void> {
  await q.createTable(
    new Table({
      name: 'data_versions',
      columns: [col.key('subgraph', 64), col.bigint('version'), col.varchar('changed_at', 24)],
    }),
  );
  const now = new Date();
  await q.query('INSERT INTO data_versions (subgraph, version, changed_at) VALUES (?, ?, ?)', [
    subgraph,
    now.getTime(),
    now.toISOString(),
  ]);
}

export async function dropDataVersionTable(q: QueryRunner): Promise<void> {
  await q.dropTable('data_versions');
}

/**
 * Raises the subgraph's data version in the caller's transaction and returns the new one. Run it last, just
 * before the commit: on MySQL the row stays locked until then, so concurrent writers queue only for that
 * moment, and their versions are raised in commit order.
 */
export async function bumpDataVersion(m: EntityManager, subgraph: string): Promise<number> {
  const now = new Date();
  const at = now.getTime();
  const repo = m.getRepository(DataVersionEntity);
  const updated = await repo
    .createQueryBuilder()
    .update()
    .set({
      version: () => 'CASE WHEN version + 1 > :at THEN version + 1 ELSE :at END',
      changedAt: now.toISOString(),
    })
    .setParameter('at', at)
    .where('subgraph = :subgraph', { subgraph })
    .execute();
  // The migration inserts the row; a database whose row was deleted by hand gets it back.
  if (!updated.affected) await repo.insert({ subgraph, version: at, changedAt: now.toISOString() });
  const row = await repo.findOneByOrFail({ subgraph });
  return Number(row.version);
}

/** The subgraph's data version as committed, or null when it has none (a database not yet migrated). */
export async function readDataVersion(ds: DataSource, subgraph: string): Promise<number | null> {
  const row = await ds.getRepository(DataVersionEntity).findOneBy({ subgraph });
  return row ? Number(row.version) : null;
}

/** Where writers tell a shared cache that a subgraph's data changed (the gateway's RESPONSE_CACHE=redis). */
export interface DataVersionTarget {
  redisUrl: string;
  /** The response cache's key prefix (the gateway's `responseCache.keyPrefix`, default `civic:cache`). */
  keyPrefix?: string;
}

/** The default key prefix of the response cache and of the version keys beside it. */
export const DEFAULT_CACHE_PREFIX = 'civic:cache';

/** The Redis key holding a subgraph's data version: `<prefix>:version:<subgraph>`. */
export const versionKey = (keyPrefix: string, subgraph: string) => `${keyPrefix}:version:${subgraph}`;

/**
 * Sets a version key to ARGV[1] unless it already holds a larger one (so two writers committing close together,
 * or a gateway's poll arriving late, never lower it). Returns 1 when it was raised.
 */
export const RAISE_VERSION_SCRIPT = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1])
  return 1
end
return 0`;

let target: DataVersionTarget | null | undefined;
let connection: Redis | undefined;
const log = logger.child({ component: 'data-version' });

/**
 * Says where writers of this process publish their new versions after each commit: a Redis (and key prefix)
 * shared with the gateways, or nowhere (null). Without a call, REDIS_URL is used with the default prefix.
 * Closes the connection to the previous target.
 */
export function publishDataVersionsTo(next: DataVersionTarget | null): void {
  connection?.disconnect();
  connection = undefined;
  target = next;
}

/** Closes the writers' Redis connection, if one is open (a test's afterAll; a CLI exits without it). */
export async function closeDataVersionPublisher(): Promise<void> {
  const c = connection;
  connection = undefined;
  if (c) await c.quit().catch(() => c.disconnect());
}

function currentTarget(): DataVersionTarget | null {
  if (target === undefined) {
    const url = process.env.REDIS_URL?.trim();
    target = url ? { redisUrl: url } : null;
  }
  return target;
}

/**
 * Publishes a committed version to the shared cache's Redis, when there is one. Awaited by the writer, so that
 * once a write has returned no gateway in RESPONSE_CACHE=redis mode reads an answer of the data before it. A
 * Redis that cannot be reached is logged, not thrown: the data is committed, and each gateway's poll of the
 * subgraph's `/data-version` brings the key up to date within RESPONSE_CACHE_POLL_MS.
 */
export async function publishDataVersion(subgraph: string, version: number): Promise<void> {
  const t = currentTarget();
  if (!t) return;
  if (!connection) {
    connection = new Redis(t.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
    connection.on('error', () => undefined);
  }
  // The socket keeps the process alive only while a command is under way: an idle connection must not hold a CLI
  // open, but one unref'd during a command lets a process with nothing else to do (a seed before any server
  // listens) exit in the middle of it, silently, with status 0.
  const stream = () => connection?.stream as { ref?: () => void; unref?: () => void } | undefined;
  stream()?.ref?.();
  try {
    await connection.eval(
      RAISE_VERSION_SCRIPT,
      1,
      versionKey(t.keyPrefix ?? DEFAULT_CACHE_PREFIX, subgraph),
      String(version),
    );
  } catch (err) {
    log.warn(
      { subgraph, version, err: (err as Error).message },
      'could not publish the new data version to Redis; the gateways see it at their next poll',
    );
  } finally {
    stream()?.unref?.();
  }
}

/**
 * Runs `work` as one write transaction of `subgraph`'s data: its data version is raised in the same
 * transaction, and published after the commit (see {@link publishDataVersion}). Every writer goes through it.
 */
export async function writeData<T>(
  ds: DataSource,
  subgraph: string,
  work: (m: EntityManager) => Promise<T>,
): Promise<T> {
  let version = 0;
  const result = await ds.transaction(async (m) => {
    const out = await work(m);
    version = await bumpDataVersion(m, subgraph);
    return out;
  });
  await publishDataVersion(subgraph, version);
  return result;
}

/** Reads of the version within this long share one query (the gateways poll every 250 ms each). */
const ROUTE_CACHE_MS = 100;

/**
 * `GET /data-version` of a subgraph: `{ subgraph, version }` from its database, read at most every 100 ms
 * (concurrent polls share one read). 503 when the database cannot answer.
 */
export function dataVersionRoute(ds: DataSource, subgraph: string) {
  let last: { at: number; value: Promise<number | null> } | undefined;
  return async (_req: Request, res: Response) => {
    const now = Date.now();
    if (!last || now - last.at > ROUTE_CACHE_MS) {
      last = { at: now, value: readDataVersion(ds, subgraph) };
      last.value.catch(() => (last = undefined));
    }
    res.setHeader('cache-control', 'no-store');
    try {
      const version = await last.value;
      res.json({ subgraph, version });
    } catch {
      res.status(503).json({ subgraph, version: null, error: 'the database did not answer' });
    }
  };
}
