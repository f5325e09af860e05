import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Connection } from 'mysql2/promise';
import { prepareSubgraph } from '@civic/common/bootstrap';
import type { StorageConfig } from '@civic/common/config';
import { dropDatabase, serverConnection } from '@civic/common/db';
import { MODULES, SUBGRAPH_NAMES as SUBGRAPHS, type SubgraphName } from '@civic/subgraphs';
import type { Backend } from './system';

/*
 * Seeded storage, built once per test run and copied for each test that wants it.
 *
 * Migrating and seeding the three subgraphs is most of what starting a system costs (measured under load: SQLite
 * 0.4 s of migrations and 7.4 s of seeding; MariaDB 9.9 s and 12.2 s). The first test of a run that asks for
 * seeded storage builds a template through the real path (prepareSubgraph: migrations, then the seed's
 * importers); every later one gets a copy: the SQLite files copied, or the MariaDB tables re-created from `SHOW
 * CREATE TABLE` and filled with `INSERT … SELECT`. A copy holds exactly what the template holds (every table,
 * its rows, indexes and auto-increment counters), so a test sees what a freshly seeded system would, and may
 * write to it freely.
 *
 * The run's id (CIVIC_TEST_RUN, set by global-setup.ts) names the templates; parallel Jest workers share them,
 * the first to come builds each under a lock (a directory made atomically for SQLite, GET_LOCK for MariaDB) and
 * the others wait. global-teardown.ts removes them.
 */

const RUN = (process.env.CIVIC_TEST_RUN ??= `p${process.pid}${randomBytes(2).toString('hex')}`);

/** Where this run's SQLite template lives. */
export const sqliteTemplateDir = (run = RUN) => join(tmpdir(), `civic-template-${run}`);
/** The MariaDB template database of a subgraph, for this run. */
export const mysqlTemplateName = (name: string, run = RUN) => `civic_tpl_${run}_${name}`;
/** The table in each MariaDB template that says it is complete. */
const READY_TABLE = 'zz_template_ready';

const mysqlUrl = () => process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';

/** A fresh, uniquely named place for each subgraph's tables: MySQL databases or SQLite files in a temp dir. */
export function freshStorage(backend: Backend): {
  storage: Record<SubgraphName, StorageConfig>;
  drop(): Promise<void>;
} {
  const tag = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  if (backend === 'mysql') {
    const url = mysqlUrl();
    const storage = Object.fromEntries(
      SUBGRAPHS.map((n) => [n, { type: 'mysql', url, database: `civic_test_${tag}_${n}` }]),
    ) as Record<SubgraphName, StorageConfig>;
    return {
      storage,
      drop: async () => void (await Promise.all(SUBGRAPHS.map((n) => dropDatabase(storage[n])))),
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'civic-test-'));
  const storage = Object.fromEntries(
    SUBGRAPHS.map((n) => [n, { type: 'sqlite', path: join(dir, `${n}.sqlite`) }]),
  ) as Record<SubgraphName, StorageConfig>;
  return { storage, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Fresh storage already migrated and seeded, as `prepareSubgraph(…, { seed: 'always' })` leaves it: a copy of
 * this run's template (built on first use). Open it with `prepareSubgraph(…, { seed: 'never' })`.
 */
export async function seededStorage(
  backend: Backend,
  names: readonly SubgraphName[] = SUBGRAPHS,
): Promise<ReturnType<typeof freshStorage>> {
  const fresh = freshStorage(backend);
  try {
    if (backend === 'sqlite') {
      const template = await sqliteTemplate();
      for (const n of names) {
        const target = (fresh.storage[n] as { path: string }).path;
        // The database file and, if a writer left them, its WAL and shared-memory files.
        for (const f of readdirSync(template).filter((f) => f.startsWith(`${n}.sqlite`))) {
          copyFileSync(join(template, f), target + f.slice(`${n}.sqlite`.length));
        }
      }
    } else {
      await mysqlTemplates();
      const conn = await serverConnection({ type: 'mysql', url: mysqlUrl(), database: '' });
      try {
        for (const n of names) {
          await cloneDatabase(
            conn,
            mysqlTemplateName(n),
            (fresh.storage[n] as { database: string }).database,
          );
        }
      } finally {
        await conn.end();
      }
    }
  } catch (err) {
    await fresh.drop();
    throw err;
  }
  return fresh;
}

/** Builds every subgraph's storage through the real migrations and seed. */
async function build(storage: Record<SubgraphName, StorageConfig>): Promise<void> {
  for (const n of SUBGRAPHS) {
    const ds = await prepareSubgraph(MODULES[n], storage[n], { seed: 'always' });
    await ds.destroy();
  }
}

let sqliteBuilt: Promise<string> | undefined;
/** This run's SQLite template directory, built by the first worker to ask (the others wait for its marker). */
function sqliteTemplate(): Promise<string> {
  return (sqliteBuilt ??= (async () => {
    const dir = sqliteTemplateDir();
    const ready = join(dir, 'READY');
    if (existsSync(ready)) return dir;
    let mine = false;
    try {
      mkdirSync(`${dir}.lock`);
      mine = true;
    } catch {
      // Another worker builds it.
    }
    if (mine) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir);
      const storage = Object.fromEntries(
        SUBGRAPHS.map((n) => [n, { type: 'sqlite', path: join(dir, `${n}.sqlite`) }]),
      ) as Record<SubgraphName, StorageConfig>;
      try {
        await build(storage);
        writeFileSync(ready, new Date().toISOString());
      } catch (err) {
        rmSync(`${dir}.lock`, { recursive: true, force: true });
        throw err;
      }
      return dir;
    }
    for (let waited = 0; !existsSync(ready); waited += 200) {
      if (waited > 300_000) throw new Error(`the SQLite test template ${dir} was not built within 300 s`);
      if (!existsSync(`${dir}.lock`)) throw new Error(`building the SQLite test template ${dir} failed`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return dir;
  })().catch((err) => {
    sqliteBuilt = undefined;
    throw err;
  }));
}

let mysqlBuilt: Promise<void> | undefined;
/** This run's MariaDB templates, built under a server lock by the first worker to ask. */
function mysqlTemplates(): Promise<void> {
  return (mysqlBuilt ??= (async () => {
    const conn = await serverConnection({ type: 'mysql', url: mysqlUrl(), database: '' });
    const lock = `civic_tpl_${RUN}`;
    try {
      const [got] = await conn.query('SELECT GET_LOCK(?, 600) AS ok', [lock]);
      if ((got as { ok: number }[])[0].ok !== 1)
        throw new Error(`no lock on the MariaDB test templates (${lock})`);
      try {
        const done = await Promise.all(
          SUBGRAPHS.map(async (n) => {
            const [rows] = await conn.query(
              'SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
              [mysqlTemplateName(n), READY_TABLE],
            );
            return (rows as unknown[]).length > 0;
          }),
        );
        if (done.every(Boolean)) return;
        const storage = Object.fromEntries(
          SUBGRAPHS.map((n) => [n, { type: 'mysql', url: mysqlUrl(), database: mysqlTemplateName(n) }]),
        ) as Record<SubgraphName, StorageConfig>;
        for (const n of SUBGRAPHS) await dropDatabase(storage[n]);
        await build(storage);
        for (const n of SUBGRAPHS) {
          await conn.query(`CREATE TABLE \`${mysqlTemplateName(n)}\`.${READY_TABLE} (at VARCHAR(32))`);
        }
      } finally {
        await conn.query('SELECT RELEASE_LOCK(?)', [lock]);
      }
    } finally {
      await conn.end();
    }
  })().catch((err) => {
    mysqlBuilt = undefined;
    throw err;
  }));
}

/** Copies a MariaDB database: each table re-created as the template has it, then its rows. */
async function cloneDatabase(conn: Connection, from: string, to: string): Promise<void> {
  await conn.query(`CREATE DATABASE \`${to}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const [tables] = await conn.query(
    "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME <> ?",
    [from, READY_TABLE],
  );
  // Generated columns are computed again by the copy, so only the stored values of the others are inserted.
  const [columns] = await conn.query(
    "SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND EXTRA NOT LIKE '%GENERATED%' AND EXTRA NOT IN ('VIRTUAL', 'PERSISTENT', 'STORED') ORDER BY ORDINAL_POSITION",
    [from],
  );
  const byTable = new Map<string, string[]>();
  for (const { t, c } of columns as { t: string; c: string }[]) {
    byTable.set(t, [...(byTable.get(t) ?? []), `\`${c}\``]);
  }
  await conn.query(`USE \`${to}\``);
  for (const { t } of tables as { t: string }[]) {
    const [created] = await conn.query(`SHOW CREATE TABLE \`${from}\`.\`${t}\``);
    await conn.query((created as Record<string, string>[])[0]['Create Table']);
    const cols = byTable.get(t)!.join(', ');
    await conn.query(`INSERT INTO \`${t}\` (${cols}) SELECT ${cols} FROM \`${from}\`.\`${t}\``);
  }
}
