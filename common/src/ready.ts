import type { Request, Response } from 'express';
import { createConnection } from 'mysql2/promise';
import type { DataSource } from 'typeorm';

/** One thing a service needs before it can answer: its database, the gateway's supergraph, a subgraph. */
export interface ReadyCheck {
  ok: boolean;
  /** Why not, in words an operator can act on; never an address or a credential (GET /ready is public). */
  reason?: string;
}

/** What GET /ready answers: ready when every check is. */
export type ReadyChecks = Record<string, ReadyCheck>;

/** How long one answer of GET /ready is reused: a flood of probes costs one check a second, not one each. */
export const READY_CACHE_MS = 1000;
/** The check a stopping service answers GET /ready with (common/src/service.ts `draining`). */
export const SHUTTING_DOWN: ReadyCheck = Object.freeze({ ok: false, reason: 'shutting down' });

/** The longest one check may take before it counts as failed. */
export const READY_CHECK_TIMEOUT_MS = 2000;

/**
 * Runs `check` at most once per {@link READY_CACHE_MS} (concurrent probes share the one in flight), and
 * answers GET /ready with 200 `{ status: "ready", checks }` or 503 `{ status: "not ready", checks }`; once
 * `draining()` (the service is stopping), 503 with the one check `shutdown` and nothing else checked.
 * Kubernetes' readinessProbe and a load balancer take a service out of rotation on the 503 and back on the 200.
 */
export function readyRoute(
  service: string,
  check: () => Promise<ReadyChecks>,
  draining: () => boolean = () => false,
) {
  let last: { at: number; checks: Promise<ReadyChecks> } | undefined;
  return async (_req: Request, res: Response) => {
    // A stopping service is not ready whatever its dependencies say, and checks nothing (its pools are closing).
    if (draining()) {
      return void res
        .status(503)
        .set('cache-control', 'no-store')
        .json({ status: 'not ready', service, checks: { shutdown: SHUTTING_DOWN } });
    }
    const now = Date.now();
    if (!last || now - last.at >= READY_CACHE_MS) last = { at: now, checks: check() };
    const checks = await last.checks;
    const ready = Object.values(checks).every((c) => c.ok);
    res
      .status(ready ? 200 : 503)
      .set('cache-control', 'no-store')
      .json({ status: ready ? 'ready' : 'not ready', service, checks });
  };
}

/** `work`, or a failed check once `ms` have passed (the work itself is left to finish on its own). */
export async function withinTime(
  work: Promise<ReadyCheck>,
  ms = READY_CHECK_TIMEOUT_MS,
): Promise<ReadyCheck> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<ReadyCheck>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, reason: `no answer within ${ms} ms` }), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A subgraph's database: reachable (one `SELECT 1`) and migrated (every migration of the service is in its
 * migrations table). Read-only: TypeORM's own `showMigrations()` would create the table and log each
 * migration. The reason names what failed, never the server's address (the driver's message may hold it).
 */
export function databaseReady(ds: DataSource): Promise<ReadyCheck> {
  const probe = async (): Promise<ReadyCheck> => {
    if (!ds.isInitialized) return { ok: false, reason: 'database not opened' };
    try {
      await ds.query('SELECT 1');
    } catch {
      return { ok: false, reason: 'database unreachable' };
    }
    const reason = await unmigrated(ds);
    return reason ? { ok: false, reason } : { ok: true };
  };
  return withinTime(probe());
}

/**
 * What GET /ready checks of a subgraph's storage: `database`, the primary ({@link databaseReady}: reachable and
 * migrated), and, when it has read replicas (`<SUBGRAPH>_DATABASE_REPLICA_URLS`), `replicas` ({@link replicasReady}).
 */
export async function databaseChecks(ds: DataSource): Promise<ReadyChecks> {
  const [database, replicas] = await Promise.all([databaseReady(ds), replicasReady(ds)]);
  return replicas ? { database, replicas } : { database };
}

/** One replica's connection settings, as TypeORM keeps them (`replication.slaves`). */
interface ReplicaOptions {
  host?: string;
  port?: number;
  username?: string;
  password?: string;
}

/**
 * The read replicas of a MySQL data source, each asked `SELECT 1` on a connection of its own: ok while at least
 * one answers (a read that fails on one replica is retried on another), and the reason names the ones that do
 * not by their place in `<SUBGRAPH>_DATABASE_REPLICA_URLS` (1 for the first), never by address: `replica 2 of 2
 * unreachable`. Undefined for a data source without replicas.
 */
export function replicasReady(ds: DataSource): Promise<ReadyCheck> | undefined {
  const replication = (ds.options as { replication?: { slaves?: ReplicaOptions[] } }).replication;
  const replicas = replication?.slaves ?? [];
  if (replicas.length === 0) return undefined;
  const answers = async (r: ReplicaOptions): Promise<boolean> => {
    try {
      const conn = await createConnection({
        host: r.host,
        port: r.port,
        user: r.username,
        password: r.password,
        connectTimeout: READY_CHECK_TIMEOUT_MS,
      });
      try {
        await conn.query('SELECT 1');
        return true;
      } finally {
        await conn.end().catch(() => undefined);
      }
    } catch {
      return false;
    }
  };
  const probe = async (): Promise<ReadyCheck> => {
    const up = await Promise.all(replicas.map(answers));
    const down = up.flatMap((ok, i) => (ok ? [] : [i + 1]));
    if (down.length === 0) return { ok: true };
    const n = replicas.length;
    if (down.length === n) {
      return {
        ok: false,
        reason: `${n === 1 ? 'replica 1 of 1' : `replicas ${down.join(', ')} of ${n}`} unreachable: reads fail`,
      };
    }
    const which = down.length === 1 ? `replica ${down[0]}` : `replicas ${down.join(', ')}`;
    return { ok: true, reason: `${which} of ${n} unreachable: reads go to the others` };
  };
  return withinTime(probe());
}

/**
 * Why the database of an open data source is not migrated (no migrations table, or how many migrations are
 * left to run), or null when every migration of the service is in its migrations table. Read-only, as
 * {@link databaseReady} needs; a service that does not migrate at start refuses on it (common/src/migrate.ts).
 */
export async function unmigrated(ds: DataSource): Promise<string | null> {
  const table = ds.driver.escape(ds.options.migrationsTableName ?? 'migrations');
  let done: Set<string>;
  try {
    const rows = (await ds.query(`SELECT name FROM ${table}`)) as { name: string }[];
    done = new Set(rows.map((r) => r.name));
  } catch {
    return 'database not migrated: no migrations table';
  }
  const pending = ds.migrations.filter((m) => !done.has(m.name ?? m.constructor.name)).length;
  return pending ? `database not migrated: ${pending} migration(s) to run` : null;
}
