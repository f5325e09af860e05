import type { Request, Response } from 'express';
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
