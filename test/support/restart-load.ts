import { startSystem, type System } from './system';
import type { PrivateMariadb } from './private-mariadb';
import { withEnv } from './with-env';

/*
 * The fault "MariaDB restarted under load", shared by test/e2e/db-restart.test.ts (which asserts its properties)
 * and test/bench/db-restart.bench.ts (which prints its figures): a bounded load of GraphQL requests at the
 * gateway, each reading two subgraphs, while the subgraphs' private MariaDB is stopped, kept down, and started
 * again. Nothing is restarted but the database.
 */

/** A query of two subgraphs (commitments, and the organizations they name): each request reads both databases. */
export const RESTART_QUERY = /* GraphQL */ `
  {
    commitments(first: 5) {
      nodes {
        id
        title
        leadOrganization {
          id
          name
        }
      }
    }
  }
`;

/** One request of the load: when it started and ended (ms since the load began), and how it was answered. */
export interface RequestRecord {
  start: number;
  end: number;
  status: number;
  /** Null when answered in full; else the error codes of the answer (or `FETCH_FAILED`). */
  codes: string[] | null;
  /** The answer's text when it had errors, to check that it names nothing internal. */
  text?: string;
}

export interface RestartRun {
  records: RequestRecord[];
  /** When the database was told to stop, when it had stopped, when it was started and when it answered again. */
  stopAt: number;
  downAt: number;
  startAt: number;
  upAt: number;
}

/**
 * The subgraphs and the gateway on a private MariaDB (fresh databases, seeded), the gateway's deadline as
 * given. `TEST_MYSQL_URL` names the private server for the time of the start only.
 */
export async function startSystemOn(
  server: PrivateMariadb,
  env: Record<string, string> = {},
): Promise<System> {
  return withEnv({ TEST_MYSQL_URL: server.url, ...env }, () => startSystem('mysql'));
}

/**
 * Runs `clients` concurrent loops of {@link RESTART_QUERY} for `warmMs`, then stops the database (a clean
 * shutdown, or a crash with `kill`), keeps it down `downMs`, starts it, and keeps the load on `afterMs` after it
 * answers again. Bounded: every loop stops once that time is over.
 */
export async function restartUnderLoad(
  sys: System,
  server: PrivateMariadb,
  opts: { clients: number; warmMs: number; downMs: number; afterMs: number; kill?: boolean },
): Promise<RestartRun> {
  // One request first, alone: the gateway plans the query and the pools open before the load is timed.
  await fetch(sys.gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: RESTART_QUERY }),
  }).then((res) => res.text());
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const records: RequestRecord[] = [];
  let stop = false;
  const loop = async () => {
    while (!stop) {
      const start = now();
      try {
        const res = await fetch(sys.gatewayUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: RESTART_QUERY }),
        });
        const text = await res.text();
        const body = JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] };
        const codes = body.errors?.map((e) => e.extensions?.code ?? 'NO_CODE') ?? null;
        records.push({ start, end: now(), status: res.status, codes, ...(codes ? { text } : {}) });
      } catch {
        records.push({ start, end: now(), status: 0, codes: ['FETCH_FAILED'] });
      }
    }
  };
  const loops = Array.from({ length: opts.clients }, loop);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  await sleep(opts.warmMs);
  const stopAt = now();
  await (opts.kill ? server.kill() : server.stop());
  const downAt = now();
  await sleep(opts.downMs);
  const startAt = now();
  await server.start();
  const upAt = now();
  await sleep(opts.afterMs);
  stop = true;
  await Promise.all(loops);
  return { records, stopAt, downAt, startAt, upAt };
}

/**
 * Time from the database answering again to full service: to the start of the first request after which every
 * request started was answered in full (0 when the first one started after its return already was). Undefined
 * when service was never full again within the run.
 */
export function timeToFullService(run: RestartRun): number | undefined {
  const after = run.records.filter((r) => r.start >= run.upAt).sort((a, b) => a.start - b.start);
  let firstOfTail: RequestRecord | undefined;
  for (const r of after) {
    if (r.codes) firstOfTail = undefined;
    else firstOfTail ??= r;
  }
  if (!firstOfTail) return undefined;
  // The failures since the return: service was full once the last failed request had started.
  const lastFailed = after.filter((r) => r.codes).at(-1);
  return lastFailed ? Math.max(0, firstOfTail.start - run.upAt) : 0;
}

/** How many answers carried each error code, over the requests started in [from, to). */
export function errorsByCode(run: RestartRun, from = 0, to = Infinity): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of run.records) {
    if (r.start < from || r.start >= to || !r.codes) continue;
    for (const code of new Set(r.codes)) counts[code] = (counts[code] ?? 0) + 1;
  }
  return counts;
}
