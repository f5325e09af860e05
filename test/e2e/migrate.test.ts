import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { startSubgraph } from '@civic/common/bootstrap';
import type { StorageConfig } from '@civic/common/config';
import { ensureDatabase } from '@civic/common/db';
import { migrateSubgraph, migrationLockName } from '@civic/common/migrate';
import { loadConfig, MODULES, type SubgraphName } from '@civic/subgraphs';
import { freshStorage } from '../support/system';

/**
 * Migrations as a step (issue 12): `npm run migrate` under a lock per database, so runs at once wait for one
 * another and the migrations run once; a subgraph migrates at start only on SQLite or with
 * MIGRATE_ON_START=true, and otherwise refuses an unmigrated MySQL database, saying what to run.
 */

const ROOT = join(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const MYSQL_URL = (process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/$/, '');
const mysqlDescribe = process.env.TEST_MYSQL === '1' ? describe : describe.skip;

/** The environment a child starts from: this run's, without any storage, port or start-up setting. */
const baseEnvironment = (): NodeJS.ProcessEnv =>
  Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/(_DATABASE_URL|^DATABASE_URL|_PORT|^DATA_DIR|_ON_START|^LOG_LEVEL)$/.test(k),
    ),
  );

/** Runs a TypeScript entry point with tsx to its end: its exit status and what it printed. */
function run(entry: string, args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [TSX, entry, ...args], {
    cwd: ROOT,
    env: { ...baseEnvironment(), LOG_LEVEL: 'info', ...env },
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise<{ code: number | null; output: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, output })),
  );
}

/** The JSON log lines of an output. */
const logLines = (output: string) =>
  output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const mysqlUrlOf = (s: StorageConfig) =>
  s.type === 'mysql' ? `${s.url.replace(/\/$/, '')}/${s.database}` : '';

async function serverQuery<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  const conn = await createConnection(MYSQL_URL);
  try {
    return (await conn.query(sql, params))[0] as T[];
  } finally {
    await conn.end();
  }
}

const tablesOf = async (database: string) =>
  (
    await serverQuery<{ n: string }>(
      'SELECT table_name AS n FROM information_schema.tables WHERE table_schema = ?',
      [database],
    )
  ).map((r) => r.n);

const databaseExists = async (database: string) =>
  (await serverQuery('SELECT 1 FROM information_schema.schemata WHERE schema_name = ?', [database]))
    .length === 1;

/** How many migrations a subgraph defines, and how many its database's migrations table records. */
async function migrationState(name: SubgraphName, storage: StorageConfig) {
  const ds = await MODULES[name].createDataSource(storage);
  await ds.initialize();
  try {
    const [{ n }] = (await ds.query('SELECT COUNT(*) AS n FROM migrations')) as { n: number }[];
    return { defined: ds.migrations.length, recorded: Number(n) };
  } finally {
    await ds.destroy();
  }
}

describe('npm run migrate on SQLite', () => {
  const { storage, drop } = freshStorage('sqlite');
  afterAll(() => drop());

  it('two runs at once (two processes) both succeed, and the migrations run once', async () => {
    const dir = join((storage.budgets as { path: string }).path, '..');
    const runs = await Promise.all(
      [1, 2].map(() => run('scripts/migrate.ts', ['--only', 'budgets'], { DATA_DIR: dir })),
    );
    expect(runs.map((r) => ({ code: r.code }))).toEqual([{ code: 0 }, { code: 0 }]);
    const ran = runs.flatMap((r) => logLines(r.output).map((l) => (l.migrations as string[]).length));
    const { defined, recorded } = await migrationState('budgets', storage.budgets);
    expect(defined).toBeGreaterThan(0);
    expect({ ran: ran.sort((x, y) => x - y), recorded }).toEqual({ ran: [0, defined], recorded: defined });
  });

  it('two runs at once in one process queue for the file lock instead of blocking each other', async () => {
    const [a, b] = await Promise.all(
      [1, 2].map(() => migrateSubgraph(MODULES.commitments, storage.commitments)),
    );
    const { defined, recorded } = await migrationState('commitments', storage.commitments);
    expect({ ran: [a.ran.length, b.ran.length].sort((x, y) => x - y), recorded }).toEqual({
      ran: [0, defined],
      recorded: defined,
    });
  });
});

mysqlDescribe('migrations as a step, on MySQL', () => {
  const { storage, drop } = freshStorage('mysql');
  afterAll(() => drop());

  it('a run waits for the lock another holds, then runs every migration', async () => {
    const s = storage.organizations as Extract<StorageConfig, { type: 'mysql' }>;
    const holder = await createConnection(MYSQL_URL);
    try {
      const [[held]] = (await holder.query('SELECT GET_LOCK(?, 5) AS g', [
        migrationLockName(s.database),
      ])) as [{ g: number }[], unknown];
      expect(held.g).toBe(1);
      let settled = false;
      const migrating = migrateSubgraph(MODULES.organizations, s).finally(() => (settled = true));
      await new Promise((r) => setTimeout(r, 1000));
      // Waiting: the database is created (before the lock), but not one table yet.
      expect({ settled, tables: await tablesOf(s.database) }).toEqual({ settled: false, tables: [] });
      await holder.query('SELECT RELEASE_LOCK(?)', [migrationLockName(s.database)]);
      const result = await migrating;
      const { defined, recorded } = await migrationState('organizations', s);
      expect({ ran: result.ran.length, recorded }).toEqual({ ran: defined, recorded: defined });
    } finally {
      await holder.end();
    }
  });

  it('two `npm run migrate` at once both succeed, and the migrations run once', async () => {
    const s = storage.commitments;
    const env = { COMMITMENTS_DATABASE_URL: mysqlUrlOf(s) };
    const runs = await Promise.all(
      [1, 2].map(() => run('scripts/migrate.ts', ['--only', 'commitments'], env)),
    );
    expect(runs.map((r) => ({ code: r.code, output: r.code === 0 ? '' : r.output }))).toEqual([
      { code: 0, output: '' },
      { code: 0, output: '' },
    ]);
    const lines = runs.flatMap((r) => logLines(r.output));
    const ran = lines.map((l) => (l.migrations as string[]).length).sort((x, y) => x - y);
    expect(ran[0]).toBe(0);
    expect(ran[1]).toBeGreaterThan(0);
    expect(lines.map((l) => l.msg)).toContain('commitments: up to date');
    expect(await migrationState('commitments', s)).toEqual({ defined: ran[1], recorded: ran[1] });
  });

  it('a subgraph refuses to start on a missing database, exits 1 and says what to run', async () => {
    const database = `${(storage.budgets as { database: string }).database}_missing`;
    const { code, output } = await run('subgraphs/budgets/src/index.ts', [], {
      BUDGETS_DATABASE_URL: `${MYSQL_URL}/${database}`,
      BUDGETS_PORT: '0',
      SEED_ON_START: 'false',
    });
    expect(code).toBe(1);
    const failed = logLines(output).find((l) => l.msg === 'failed to start');
    expect(failed?.err).toMatch(new RegExp(`database ${database} does not exist: run \`npm run migrate\``));
    expect(await databaseExists(database)).toBe(false);
  });

  it('a subgraph refuses an unmigrated database without MIGRATE_ON_START, and changes nothing', async () => {
    const s = storage.budgets as Extract<StorageConfig, { type: 'mysql' }>;
    await ensureDatabase(s);
    const env = { BUDGETS_DATABASE_URL: mysqlUrlOf(s), BUDGETS_PORT: '0', SEED_ON_START: 'false' };
    await expect(startSubgraph(MODULES.budgets, loadConfig(env), env)).rejects.toThrow(
      `budgets: database ${s.database} is not migrated (no migrations table): run \`npm run migrate\``,
    );
    expect(await tablesOf(s.database)).toEqual([]);
  });

  it('with MIGRATE_ON_START=true a subgraph migrates (under the lock) and starts', async () => {
    const s = storage.budgets;
    const env = {
      BUDGETS_DATABASE_URL: mysqlUrlOf(s),
      BUDGETS_PORT: '0',
      HOST: '127.0.0.1',
      SEED_ON_START: 'false',
      MIGRATE_ON_START: 'true',
    };
    const { service, url } = await startSubgraph(MODULES.budgets, loadConfig(env), env);
    try {
      const ready = await fetch(new URL('/ready', url));
      expect({ status: ready.status, body: await ready.json() }).toMatchObject({
        status: 200,
        body: { status: 'ready' },
      });
      const { defined, recorded } = await migrationState('budgets', s);
      expect(recorded).toBe(defined);
    } finally {
      await service.stop();
    }
  });
});
