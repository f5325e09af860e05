import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { prepareSubgraph } from '@civic/common/bootstrap';
import type { StorageConfig } from '@civic/common/config';
import type { ImportOptions } from '@civic/common/import/pipeline';
import type { ImportReport } from '@civic/common/import/report';
import { importers as budgetsImporters } from '@civic/subgraphs/budgets/src/import';
import { readCsv, sumMillimes } from '../support/datasets';
import { runImportCli } from '../support/import-cli';
import { counts, importWith } from '../support/imports';
import { BACKENDS, MODULES, seededStorage, startSystem, type Backend, type System } from '../support/system';

// The `commitment-budget-links` importer over the seeded budgets, with the example file the README shows
// (test/fixtures/import/commitment-budget-links/example.csv: made-up links between real Tunisian commitments
// and real Bou Arada lines; there is no published source of real ones).

const KIND = 'commitment-budget-links';
const EXAMPLE = join(__dirname, '..', 'fixtures', 'import', 'commitment-budget-links', 'example.csv');
const EXAMPLE_TEXT = readFileSync(EXAMPLE, 'utf8');
const HEADER = EXAMPLE_TEXT.split('\n')[0];
const SALARIES = 'tn-34012-2018-EXP-1.01101.0001.000';
const MAYORS = 'tn-34012-2018-EXP-1.01100.0001.000';
const PROPERTY_TAX = 'tn-34012-2018-REV-1.01101.00.00';
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

const dir = mkdtempSync(join(tmpdir(), 'civic-links-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
/** A links file (its name gives its dataset: `name` without .csv). */
function linksFile(content: string, name = `links-${++n}.csv`): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

interface Db {
  storage: StorageConfig;
  ds: DataSource;
  close(): Promise<void>;
}
/** A budgets database, migrated and seeded: a copy of this run's seeded template (test/support/templates.ts). */
async function openDb(backend: Backend): Promise<Db> {
  const { storage, drop } = await seededStorage(backend, ['budgets']);
  const ds = await prepareSubgraph(MODULES.budgets, storage.budgets, { seed: 'never' });
  return {
    storage: storage.budgets,
    ds,
    close: async () => {
      await ds.destroy();
      await drop();
    },
  };
}
const run = (ds: DataSource, path: string, options: Partial<ImportOptions> = {}) =>
  importWith(budgetsImporters, KIND, ds, path, options);
const linkTable = (r: ImportReport) => r.parts[0].tables.commitment_budget_lines;
interface StoredLink {
  c: string;
  l: string;
  share: string | null;
  a: string | null;
  note: string | null;
  reference: string | null;
  d: string;
  r: string;
  f: string;
  k: string;
  n: number | null;
}
async function links(ds: DataSource): Promise<StoredLink[]> {
  const rows: StoredLink[] = await ds.query(
    `SELECT commitment_id AS c, line_id AS l, share, CAST(amount_minor AS CHAR) AS a, note, reference,
            source_dataset AS d, source_record AS r, source_file AS f, source_checksum AS k, source_line AS n
       FROM commitment_budget_lines ORDER BY commitment_id, line_id`,
  );
  return rows.map((x) => ({ ...x, n: x.n === null ? null : Number(x.n) }));
}

describe.each(BACKENDS)('commitment-budget-links on %s', (backend) => {
  describe('into the seeded budgets', () => {
    let db: Db;
    let first: ImportReport;
    beforeAll(async () => {
      db = await openDb(backend);
      first = await run(db.ds, EXAMPLE);
    });
    afterAll(() => db.close());

    it('loads the example: each link with its share or amount, note, source and provenance', async () => {
      expect(first.outcome).toBe('loaded');
      expect(first.rows).toEqual({ read: 3, valid: 3, refused: 0 });
      expect(linkTable(first)).toEqual(counts({ inserted: 3 }));
      const cited = { d: 'example', f: EXAMPLE, k: sha256(EXAMPLE) };
      expect(await links(db.ds)).toEqual([
        {
          c: 'TN0001',
          l: MAYORS,
          share: null,
          a: null,
          note: 'Example only: the whole line',
          reference: 'Council decision 2018-01 (example)',
          r: 'example.csv:line 3',
          n: 3,
          ...cited,
        },
        {
          c: 'TN0001',
          l: SALARIES,
          share: '0.25',
          a: null,
          note: 'Example only, not a real link: a quarter of the base salaries',
          reference: 'https://example.org/bou-arada/council-decision-2018-01',
          r: 'example.csv:line 2',
          n: 2,
          ...cited,
        },
        {
          c: 'TN0004',
          l: PROPERTY_TAX,
          share: null,
          a: '12500500',
          note: 'Example only: part of the property tax',
          reference: null,
          r: 'example.csv:line 4',
          n: 4,
          ...cited,
        },
      ]);
    });

    it('writes nothing when the same file is imported again', async () => {
      const before = await links(db.ds);
      const again = await run(db.ds, EXAMPLE);
      expect(again.outcome).toBe('loaded');
      expect(linkTable(again)).toEqual(counts({ unchanged: 3 }));
      expect(again.parts[0].missing).toEqual({ count: 0, sample: [] });
      expect(await links(db.ds)).toEqual(before);
    });

    const bad = [
      HEADER,
      'TN0001,tn-34012-2018-EXP-9.99999.9999.999,,,,,,,',
      'TN0001,,tn-34012-1999,1.01100.0001.000,,,,,',
      'TN0001,,tn-34012-2018,9.99999.9999.999,expenditure,,,,',
      'TN0004,,tn-34012-2018,1.01101.00.00,,,1.2345,,',
      'TN0004,,tn-34012-2018,1.01101.0001.000,,,,,',
      `TN0004,${SALARIES},,,,,,,`,
    ].join('\n');

    it('refuses a row whose line or budget does not exist, naming the column, and a duplicate link; --dry-run sees it', async () => {
      const before = await links(db.ds);
      const path = linksFile(bad);
      const r = await run(db.ds, path, { dryRun: true });
      expect(r.outcome).toBe('validated');
      expect(r.rows).toEqual({ read: 6, valid: 1, refused: 5 });
      expect(
        r.refused.map(({ file, line, column, value, reason }) => ({ file, line, column, value, reason })),
      ).toEqual([
        {
          file: path,
          line: 2,
          column: 'budget_line_id',
          value: 'tn-34012-2018-EXP-9.99999.9999.999',
          reason: 'no budget line tn-34012-2018-EXP-9.99999.9999.999 in the budgets',
        },
        {
          file: path,
          line: 3,
          column: 'budget_id',
          value: 'tn-34012-1999',
          reason: 'no budget tn-34012-1999 in the budgets',
        },
        {
          file: path,
          line: 4,
          column: 'line_code',
          value: '9.99999.9999.999',
          reason: 'budget tn-34012-2018 has no expenditure line 9.99999.9999.999',
        },
        {
          file: path,
          line: 5,
          column: 'amount',
          value: '1.2345',
          reason: '"1.2345" has 4 decimals; TND has 3 (the currency of budget tn-34012-2018)',
        },
        {
          file: path,
          line: 7,
          column: null,
          value: `TN0004 → ${SALARIES}`,
          reason: 'duplicate key: the same link as line 6',
        },
      ]);
      expect(await links(db.ds)).toEqual(before);
    });

    it('loads nothing with --strict when a row is refused', async () => {
      const before = await links(db.ds);
      const r = await run(db.ds, linksFile(bad), { strict: true });
      expect(r.outcome).toBe('refused');
      expect(r.rows.refused).toBe(5);
      expect(await links(db.ds)).toEqual(before);
    });

    it('updates a changed link, reports a link the file no longer has and deletes it only with --prune', async () => {
      const lines = EXAMPLE_TEXT.trimEnd().split('\n');
      const newer = linksFile(
        [lines[0], lines[1].replace(',25%,', ',30%,'), lines[3]].join('\n'),
        'example.csv',
      );
      const r = await run(db.ds, newer);
      expect(r.outcome).toBe('loaded');
      expect(linkTable(r)).toEqual(counts({ updated: 2 }));
      expect(r.parts[0].missing).toEqual({ count: 1, sample: [`TN0001 → ${MAYORS}`] });
      expect((await links(db.ds)).map((l) => [l.c, l.l, l.share])).toEqual([
        ['TN0001', MAYORS, null],
        ['TN0001', SALARIES, '0.3'],
        ['TN0004', PROPERTY_TAX, null],
      ]);

      const pruned = await run(db.ds, newer, { prune: true });
      expect(pruned.parts[0].pruned).toBe(1);
      expect(linkTable(pruned)).toEqual(counts({ unchanged: 2, deleted: 1 }));
      expect((await links(db.ds)).map((l) => l.l)).toEqual([SALARIES, PROPERTY_TAX]);
    });

    it('never prunes the link of a refused row: the file still names it', async () => {
      const lines = EXAMPLE_TEXT.trimEnd().split('\n');
      // The salaries link's share is now wrong: refused, but still in the file.
      const path = linksFile(
        [lines[0], lines[1].replace(',25%,', ',250%,'), lines[3]].join('\n'),
        'example.csv',
      );
      const r = await run(db.ds, path, { prune: true });
      expect(r.outcome).toBe('loaded-with-refusals');
      expect(r.parts[0].missing).toEqual({ count: 0, sample: [] });
      expect((await links(db.ds)).map((l) => l.l)).toEqual([SALARIES, PROPERTY_TAX]);
    });

    it('runs from the command line: --dry-run writes nothing, --strict exits 3', async () => {
      const before = await links(db.ds);
      const dry = await runImportCli({ budgets: db.storage }, [KIND, EXAMPLE, '--dry-run']);
      expect(dry.code).toBe(0);
      expect(await links(db.ds)).toEqual(before);
      const strict = await runImportCli({ budgets: db.storage }, [KIND, linksFile(bad), '--strict']);
      expect(strict.code).toBe(3);
      expect(strict.stdout).toContain('no budget line tn-34012-2018-EXP-9.99999.9999.999 in the budgets');
      expect(await links(db.ds)).toEqual(before);
    });
  });

  describe('through the gateway', () => {
    let sys: System;
    beforeAll(async () => {
      sys = await startSystem(backend);
    });
    afterAll(() => sys.stop());

    it('shows Commitment.budgetLinks and Commitment.funding after an import', async () => {
      const query = /* GraphQL */ `
        {
          commitment(id: "TN0001") {
            id
            budgetLines {
              id
            }
            budgetLinks {
              budgetLine {
                id
              }
              share
              amount {
                amount
              }
              note
              reference
              source {
                dataset
                record
                line
              }
            }
            funding {
              phase
              asOf
              amount {
                amount
                currency
              }
            }
          }
        }
      `;
      const before = await sys.queryGateway(query);
      expect(before.errors).toBeUndefined();
      expect(before.data).toMatchObject({ commitment: { id: 'TN0001', budgetLinks: [], funding: [] } });

      expect((await run(sys.dataSources.budgets, EXAMPLE)).outcome).toBe('loaded');
      const res = await sys.queryGateway(query);
      expect(res.errors).toBeUndefined();
      const perYear = readCsv('tunisia/depense_per_year_34012.csv');
      const monthly = readCsv('tunisia/Depence_mensuelle_2018_34012.csv');
      const cells = (rows: Record<string, string>[], column: string, codes: string[]) =>
        codes.map(
          (c) =>
            rows.find((r) => [r.Titre, r.Article, r.Paragraphe, r.Sous_paragraphe].join('.') === c)![column],
        );
      const codes = ['1.01100.0001.000', '1.01101.0001.000'];
      expect(res.data).toEqual({
        commitment: {
          id: 'TN0001',
          budgetLines: [{ id: MAYORS }, { id: SALARIES }],
          budgetLinks: [
            {
              budgetLine: { id: MAYORS },
              share: null,
              amount: null,
              note: 'Example only: the whole line',
              reference: 'Council decision 2018-01 (example)',
              source: { dataset: 'example', record: 'example.csv:line 3', line: 3 },
            },
            {
              budgetLine: { id: SALARIES },
              share: '0.25',
              amount: null,
              note: 'Example only, not a real link: a quarter of the base salaries',
              reference: 'https://example.org/bou-arada/council-decision-2018-01',
              source: { dataset: 'example', record: 'example.csv:line 2', line: 2 },
            },
          ],
          // Each linked line whole, at its latest figure: the per-year 2018 budget, execution to the end of February.
          funding: [
            {
              phase: 'APPROVED',
              asOf: null,
              amount: { amount: sumMillimes(cells(perYear, '2018', codes)), currency: 'TND' },
            },
            {
              phase: 'EXECUTED',
              asOf: '2018-02-28',
              amount: { amount: sumMillimes(cells(monthly, 'Budget_02_2018', codes)), currency: 'TND' },
            },
          ],
        },
      });
      const tax = await sys.queryGateway(/* GraphQL */ `
        {
          commitment(id: "TN0004") {
            budgetLinks {
              budgetLine {
                id
              }
              amount {
                amount
                currency
              }
            }
          }
        }
      `);
      expect(tax.data).toEqual({
        commitment: {
          budgetLinks: [
            { budgetLine: { id: PROPERTY_TAX }, amount: { amount: '12500.500', currency: 'TND' } },
          ],
        },
      });
    });
  });
});
