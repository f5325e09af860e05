import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { prepareSubgraph } from '@civic/common/bootstrap';
import type { StorageConfig } from '@civic/common/config';
import { SUBGRAPH_NAMES, type SubgraphName } from '@civic/subgraphs/catalog';
import { importEnv, runImportCli, runSeedCli, runTsxScript } from '../support/import-cli';
import { BACKENDS, MODULES, freshStorage, type Backend } from '../support/system';
import { tableContents, type TableContents } from '../support/tables';

/**
 * The command lines as people run them, in child processes: `npm run import`'s --help, --dry-run, --prune and
 * the refusal of both together, and `npm run seed` run twice. The pipeline behind them is tested in process
 * by the import-* tests; these check that the commands reach it with what was asked and say what happened.
 */

const ORGANIZATIONS = join(__dirname, '..', 'fixtures', 'import', 'organizations', 'organizations.csv');
const GONE = 'org-transparency-maroc';
/** The CLI's import-wide options tests read back: the CSV fixture under the --dataset scope "cli". */
const SCOPE = ['--dataset', 'cli', '--quiet'];

/** Every table of each subgraph's database, read through a data source opened for the reading only. */
async function contents(storage: Partial<Record<SubgraphName, StorageConfig>>): Promise<TableContents> {
  const out: TableContents = {};
  for (const name of Object.keys(storage) as SubgraphName[]) {
    const ds: DataSource = await prepareSubgraph(MODULES[name], storage[name]!, { seed: 'never' });
    try {
      // import_runs is the log of runs: each run adds its line by design.
      for (const [t, rows] of Object.entries(await tableContents(ds, { skipTables: ['import_runs'] })))
        out[`${name}.${t}`] = rows;
    } finally {
      await ds.destroy();
    }
  }
  return out;
}

test('import --help exits 0 and lists every kind the subgraphs register, with its description', async () => {
  const out = await runImportCli({}, ['--help']);
  expect(out.code).toBe(0);
  expect(out.stderr).toBe('');
  const kinds = SUBGRAPH_NAMES.flatMap((n) => MODULES[n].importers);
  expect(kinds.length).toBeGreaterThan(0);
  // The "Kinds:" section: a line per kind, its name apart from its description, then its own options.
  const section = out.stdout.split('Kinds:\n')[1].split('\n\n')[0].split('\n');
  const listed = section.filter((l) => /^ {2}[^ -]/.test(l)).map((l) => l.trim().split(/ {2,}/));
  expect(listed.map(([kind]) => kind).sort()).toEqual([...new Set(kinds.map((k) => k.kind))].sort());
  for (const k of kinds) {
    expect(listed).toContainEqual([k.kind, k.description]);
    for (const p of k.params ?? [])
      expect(section.some((l) => l.trim().startsWith(`--${p.name} `) && l.includes(p.description))).toBe(
        true,
      );
  }
  for (const option of ['--dry-run', '--prune', '--strict', '--report', '--batch-size'])
    expect(out.stdout).toContain(option);
});

/**
 * The command's options do not depend on the backend (the pipeline's writes on each are the import-* tests'):
 * they run once, on MySQL when this run has it (what docker-compose deploys), else on SQLite.
 */
const CLI_BACKEND = BACKENDS.at(-1)!;

describe.each(BACKENDS)('on %s', (backend: Backend) => {
  (backend === CLI_BACKEND ? describe : describe.skip)('import --dry-run and --prune', () => {
    let storage: Record<SubgraphName, StorageConfig>;
    let drop: () => Promise<void>;
    let tmp: string;
    /** The fixture without one record, as a newer file of the same dataset would be. */
    let newer: string;
    const cli = (args: string[]) => runImportCli({ organizations: storage.organizations }, args);
    const db = () => contents({ organizations: storage.organizations });
    const ids = (c: TableContents) => c['organizations.organizations'].map((r) => r.id);

    beforeAll(async () => {
      ({ storage, drop } = freshStorage(backend));
      tmp = mkdtempSync(join(tmpdir(), 'civic-cli-'));
      newer = join(tmp, 'organizations.csv');
      const lines = readFileSync(ORGANIZATIONS, 'utf8').split('\n');
      expect(lines.filter((l) => l.startsWith(`${GONE},`))).toHaveLength(1);
      writeFileSync(newer, lines.filter((l) => !l.startsWith(`${GONE},`)).join('\n'));
      const first = await cli(['organizations', ORGANIZATIONS, ...SCOPE]);
      expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: '' });
    });
    afterAll(async () => {
      await drop?.();
      rmSync(tmp, { recursive: true, force: true });
    });

    it('--dry-run validates and reports, and writes nothing', async () => {
      const before = await db();
      expect(ids(before)).toContain(GONE);
      const out = await cli(['organizations', newer, ...SCOPE, '--dry-run']);
      expect(out.code).toBe(0);
      expect(out.stdout).toContain('validated (dry run, nothing written)');
      expect(out.stdout).toContain('4 rows read, 4 valid, 0 refused');
      expect(out.stdout).toContain('nothing written');
      expect(await db()).toEqual(before);
    });

    it('--prune with --dry-run is refused with exit 64 and the reason, before anything is written', async () => {
      const before = await db();
      const out = await cli(['organizations', newer, ...SCOPE, '--prune', '--dry-run']);
      expect(out.code).toBe(64);
      expect(out.stderr).toContain('import: --dry-run writes nothing: --prune would have no effect');
      expect(out.stderr).toContain('Usage: npm run import');
      expect(out.stdout).toBe('');
      expect(await db()).toEqual(before);
    });

    it('without --prune reports the record the file no longer has and keeps it', async () => {
      const out = await cli(['organizations', newer, ...SCOPE]);
      expect(out.code).toBe(0);
      expect(out.stdout).toContain(`1 records no longer in this file (kept; --prune removes them): ${GONE}`);
      expect(ids(await db())).toContain(GONE);
    });

    it('--prune deletes that record, its identifiers and its search text, reports it, and nothing else', async () => {
      const before = await db();
      const out = await cli(['organizations', newer, ...SCOPE, '--prune']);
      expect(out.code).toBe(0);
      expect(out.stdout).toContain(`1 records no longer in this file (1 removed by --prune): ${GONE}`);
      expect(out.stdout).toContain('organizations +0 ~0 =4 -1');
      const after = await db();
      const without = (c: TableContents) =>
        Object.fromEntries(
          Object.entries(c).map(([t, rows]) => [
            t,
            rows.filter((r) => ![r.id, r.organization_id, r.entity_id].includes(GONE)),
          ]),
        );
      // Every other row is exactly as it was; the pruned record's rows, in every table, are gone.
      expect(after).toEqual(without(before));
      expect(JSON.stringify(after)).not.toContain(GONE);
      expect(JSON.stringify(before)).toContain(GONE);
    });
  });

  describe('npm run seed', () => {
    let storage: Record<SubgraphName, StorageConfig>;
    let drop: () => Promise<void>;
    let first: TableContents;
    let second: TableContents;
    let again: { code: number | null; stdout: string; stderr: string };

    beforeAll(async () => {
      ({ storage, drop } = freshStorage(backend));
      const seeded = await runSeedCli(storage);
      expect({ code: seeded.code, stderr: seeded.stderr }).toEqual({ code: 0, stderr: '' });
      first = await contents(storage);
      again = await runSeedCli(storage);
      second = await contents(storage);
    }, 240_000);
    afterAll(() => drop?.());

    it('loads every subgraph on a fresh database', () => {
      for (const name of SUBGRAPH_NAMES) {
        const tables = Object.entries(first).filter(([t]) => t.startsWith(`${name}.`));
        expect(tables.some(([, rows]) => rows.length > 0)).toBe(true);
      }
    });

    it('run again, exits 0 and changes no value: every row of every table the same but for imported_at', () => {
      expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 0, stderr: '' });
      expect(Object.keys(second)).toEqual(Object.keys(first));
      const unstamped = (rows: Record<string, unknown>[]) =>
        rows
          .map((r) => JSON.stringify(Object.entries(r).filter(([k]) => k !== 'imported_at')))
          .sort()
          .map((r) => Object.fromEntries(JSON.parse(r) as [string, unknown][]));
      for (const table of Object.keys(first)) {
        expect({ table, rows: unstamped(second[table]) }).toEqual({ table, rows: unstamped(first[table]) });
      }
    });

    it('with REDIS_URL set (writers then publish their data versions to the cache), seeds every subgraph too', async () => {
      // A regression: the publisher's connection was unref'd while its first command was under way, so a seed
      // with nothing else to keep Node alive exited 0 in the middle of it, the budgets never seeded.
      const fresh = freshStorage(backend);
      try {
        const env = {
          ...importEnv(fresh.storage),
          REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
        };
        const seeded = await runTsxScript('seed.ts', [], env);
        expect({ code: seeded.code, stderr: seeded.stderr }).toEqual({ code: 0, stderr: '' });
        const tables = await contents(fresh.storage);
        for (const name of SUBGRAPH_NAMES) {
          const filled = Object.entries(tables).filter(
            ([t, rows]) => t.startsWith(`${name}.`) && rows.length > 0,
          );
          expect({ name, filled: filled.length > 0 }).toEqual({ name, filled: true });
        }
      } finally {
        await fresh.drop();
      }
    }, 240_000);

    it('run again, keeps the imported_at of every row, since none changed', () => {
      const restamped = (table: string) => {
        const before = new Set(first[table].map((r) => JSON.stringify(r)));
        return second[table].filter((r) => !before.has(JSON.stringify(r))).length;
      };
      const tables = Object.keys(first);
      expect(Object.fromEntries(tables.map((t) => [t, restamped(t)]))).toEqual(
        Object.fromEntries(tables.map((t) => [t, 0])),
      );
    });
  });
});
