import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { DataSource } from 'typeorm';
import { prepareSubgraph } from '@civic/common/bootstrap';
import type { StorageConfig } from '@civic/common/config';
import type { ImportOptions } from '@civic/common/import/pipeline';
import type { ImportReport } from '@civic/common/import/report';
import { SOURCES, datasetPath } from '@civic/formats/sources';
import { importers as budgetsImporters } from '@civic/subgraphs/budgets/src/import';
import { writeFiscalDataPackageFile } from '../bench/files/fiscal-data-package';
import { sumMillimes, tnBudgetCode } from '../support/datasets';
import { importEnv, runImportCli } from '../support/import-cli';
import { counts, importWith } from '../support/imports';
import { BACKENDS, MODULES, freshStorage, seededStorage, type Backend } from '../support/system';

const ROOT = join(__dirname, '..', '..');
const TUNISIA = datasetPath(SOURCES.tunisiaBudget.file);
const FDP = join(__dirname, '..', 'fixtures', 'import', 'fiscal-data-package');
const BOU_ARADA_FDP = join(FDP, 'bou-arada-2018');
const COFOG_FDP = join(FDP, 'cofog-sample');
/** The COFOG sample package's rows, read with plain csv-parse: what its totals must add up to. */
const cofogRows = parse(readFileSync(join(COFOG_FDP, 'budget.csv'), 'utf8'), { columns: true }) as Record<
  string,
  string
>[];
/** The exact total of a measure over these rows, in cents (the package's amounts have 2 decimals). */
function cofogTotal(rows: readonly Record<string, string>[], measure: 'approved' | 'executed'): string {
  let total = 0n;
  for (const cell of rows.map((r) => r[measure].trim()).filter((c) => c !== '')) {
    const [units, fraction = ''] = cell.split('.');
    if (fraction.length > 2) throw new Error(`more than 2 decimals in ${cell}`);
    total += BigInt(units + fraction.padEnd(2, '0'));
  }
  return String(total);
}
const FDP_BUDGET = 'fdp-bou-arada-2018-approved-expenditure-2018';
const TN = 'tn-municipal-budget';
const PKG = 'fiscal-data-package';

type Row = Record<string, string>;
/** The real files, read with plain csv-parse (not the code under test). */
const realText = (name: string) => readFileSync(join(TUNISIA, name), 'utf8');
const realRows = (name: string) => parse(realText(name), { columns: true, bom: true }) as Row[];
const perYear = realRows('depense_per_year_34012.csv');
const monthly = realRows('Depence_mensuelle_2018_34012.csv');
const YEARS = ['2013', '2014', '2015', '2016', '2017', '2018'];
const nonEmpty = (rows: Row[], columns: string[]) =>
  rows.reduce((n, r) => n + columns.filter((c) => r[c].trim() !== '').length, 0);
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

const dir = mkdtempSync(join(tmpdir(), 'civic-import-budgets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
/** A file under its real name in a folder of its own (the name gives the municipality). */
function tnFile(name: string, content: string): string {
  const folder = join(dir, `t${++files}`);
  mkdirSync(folder);
  writeFileSync(join(folder, name), content);
  return join(folder, name);
}
/** A copy of a package, its CSV replaced by `csv` when given. */
function packageCopy(from: string, csvName: string, csv?: string): string {
  const folder = join(dir, `p${++files}`);
  cpSync(from, folder, { recursive: true });
  if (csv !== undefined) writeFileSync(join(folder, csvName), csv);
  return folder;
}

interface Db {
  storage: StorageConfig;
  ds: DataSource;
  close(): Promise<void>;
}

/** A budgets database, migrated: seeded (a copy of this run's seeded template, test/support/templates.ts) or empty. */
async function openDb(backend: Backend, seed: 'always' | 'never'): Promise<Db> {
  const { storage, drop } =
    seed === 'always' ? await seededStorage(backend, ['budgets']) : freshStorage(backend);
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

const run = (db: Db, kind: string, path: string, options: Partial<ImportOptions> = {}) =>
  importWith(budgetsImporters, kind, db.ds, path, options);
const tables = (r: ImportReport) => r.parts[0].tables;

const TABLES = ['budgets', 'budget_lines', 'budget_amounts', 'search_documents', 'commitment_budget_lines'];
async function tableCounts(ds: DataSource): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of TABLES) out[t] = Number((await ds.query(`SELECT COUNT(*) AS n FROM ${t}`))[0].n);
  return out;
}
/** Sum of a budget's amounts in a phase (and date), in minor units, as text. */
async function total(ds: DataSource, budgetId: string, direction: string, phase: string, asOf = '') {
  const [{ s }] = await ds.query(
    `SELECT CAST(COALESCE(SUM(a.amount_minor), 0) AS CHAR) AS s FROM budget_amounts a JOIN budget_lines l ON l.id = a.line_id
      WHERE l.budget_id = ? AND l.direction = ? AND a.phase = ? AND a.as_of = ?`,
    [budgetId, direction, phase, asOf],
  );
  return String(s);
}
const asDinars = (millimes: string) => sumMillimes([millimes]);
interface LineRow {
  id: string;
  label_ar: string | null;
  source_dataset: string;
  source_record: string;
  source_file: string;
  source_checksum: string;
  source_line: number;
  imported_at: string;
}
async function line(ds: DataSource, id: string): Promise<LineRow | undefined> {
  const [row] = await ds.query(
    `SELECT id, label_ar, source_dataset, source_record, source_file, source_checksum, source_line, imported_at
       FROM budget_lines WHERE id = ?`,
    [id],
  );
  return row ? { ...row, source_line: Number(row.source_line) } : undefined;
}
/** The 1-based line of the first row of a real file with this code. */
const lineOf = (text: string, code: string) =>
  text.split('\n').findIndex((l) => l.startsWith(`${code.split('.').join(',')},`)) + 1;

/** The environment the CLI needs to use this budgets database. */
/** The CLI, as people run it, on these databases. */
const cli = (db: Db, args: string[]) => runImportCli({ budgets: db.storage }, args);
const cliEnv = (db: Db) => importEnv({ budgets: db.storage });

describe.each(BACKENDS)('budget importers on %s', (backend) => {
  describe('tn-municipal-budget: the real files over the seeded database', () => {
    let db: Db;
    let before: Record<string, number>;
    let executedBefore: string[];
    let seededAt: string;
    let first: ImportReport;
    const perYearPath = join(TUNISIA, 'depense_per_year_34012.csv');
    beforeAll(async () => {
      db = await openDb(backend, 'always');
      before = await tableCounts(db.ds);
      seededAt = (await line(db.ds, `tn-34012-2016-EXP-${tnBudgetCode(perYear[1])}`))!.imported_at;
      executedBefore = [
        await total(db.ds, 'tn-34012-2018', 'EXPENDITURE', 'EXECUTED', '2018-01-31'),
        await total(db.ds, 'tn-34012-2018', 'EXPENDITURE', 'EXECUTED', '2018-02-28'),
      ];
      first = await run(db, TN, perYearPath);
    });
    afterAll(() => db.close());

    it('finds the seeded lines as the file gives them (the seed imported it): the same ids and dataset, nothing written', async () => {
      expect(first.outcome).toBe('loaded');
      expect(first.rows).toEqual({ read: perYear.length, valid: perYear.length, refused: 0 });
      expect(tables(first).budget_lines).toEqual(counts({ unchanged: perYear.length * YEARS.length }));
      expect(tables(first).budget_amounts).toEqual(counts({ unchanged: nonEmpty(perYear, YEARS) }));
      expect(tables(first).budgets).toEqual(counts({ unchanged: YEARS.length }));
      expect(await tableCounts(db.ds)).toEqual(before);
      const [{ n }] = await db.ds.query(
        'SELECT COUNT(*) AS n FROM budget_lines WHERE source_dataset <> ? OR source_dataset IS NULL',
        [SOURCES.tunisiaBudget.dataset],
      );
      expect(Number(n)).toBe(0);
    });

    it('keeps the totals of the real file, and the execution figures of the monthly file', async () => {
      expect(asDinars(await total(db.ds, 'tn-34012-2018', 'EXPENDITURE', 'APPROVED'))).toBe('1437803.283');
      for (const y of YEARS)
        expect(asDinars(await total(db.ds, `tn-34012-${y}`, 'EXPENDITURE', 'APPROVED'))).toBe(
          sumMillimes(perYear.map((r) => r[y])),
        );
      expect([
        await total(db.ds, 'tn-34012-2018', 'EXPENDITURE', 'EXECUTED', '2018-01-31'),
        await total(db.ds, 'tn-34012-2018', 'EXPENDITURE', 'EXECUTED', '2018-02-28'),
      ]).toEqual(executedBefore);
    });

    it('records the file (as the seed cites it), its checksum, the line and when it was imported on every line', async () => {
      const row = perYear[1];
      const code = tnBudgetCode(row);
      const l = await line(db.ds, `tn-34012-2016-EXP-${code}`);
      const lineNo = lineOf(realText('depense_per_year_34012.csv'), code);
      expect(l).toEqual({
        id: `tn-34012-2016-EXP-${code}`,
        label_ar: row.Imputation.trim(),
        source_dataset: SOURCES.tunisiaBudget.dataset,
        source_record: `depense_per_year_34012.csv:line ${lineNo}`,
        source_file: 'data/datasets/tunisia/depense_per_year_34012.csv',
        source_checksum: sha256(perYearPath),
        source_line: lineNo,
        imported_at: seededAt,
      });
      expect(seededAt < first.startedAt).toBe(true);
    });

    it('changes nothing on a second import: nothing inserted or updated, importedAt kept', async () => {
      const again = await run(db, TN, perYearPath);
      expect(again.outcome).toBe('loaded');
      expect(tables(again).budget_lines).toEqual(counts({ unchanged: perYear.length * YEARS.length }));
      expect(tables(again).budget_amounts).toEqual(counts({ unchanged: nonEmpty(perYear, YEARS) }));
      expect(await tableCounts(db.ds)).toEqual(before);
      expect((await line(db.ds, `tn-34012-2018-EXP-${tnBudgetCode(perYear[0])}`))!.imported_at).toBe(
        seededAt,
      );
    });

    it('imports the monthly file: its lines stay the per-year file’s, its figures unchanged, the lines it lacks reported missing', async () => {
      const r = await run(db, TN, join(TUNISIA, 'Depence_mensuelle_2018_34012.csv'));
      const distinct = new Set(monthly.map(tnBudgetCode));
      const lacking = perYear.map(tnBudgetCode).filter((c) => !distinct.has(c));
      expect(r.outcome).toBe('loaded');
      // The 15 rows repeated cell for cell are merged (a warning each), not counted as rows.
      expect(r.rows).toEqual({ read: distinct.size, valid: distinct.size, refused: 0 });
      expect(r.warnings.filter((w) => /cell for cell; merged/.test(w.reason))).toHaveLength(
        monthly.length - distinct.size,
      );
      // The seed imported it already, after the per-year file: the lines stay the per-year file's, its
      // execution figures are stored as they are (contributions.ts), nothing is written.
      expect(tables(r).budget_lines).toEqual(counts({ unchanged: distinct.size }));
      expect(r.parts[0].missing!.count).toBe(lacking.length);
      expect(r.parts[0].missing!.sample).toContain('tn-34012-2018-EXP-1.02201.0080.020');
      expect(await tableCounts(db.ds)).toEqual(before);
      expect([
        await total(db.ds, 'tn-34012-2018', 'EXPENDITURE', 'EXECUTED', '2018-01-31'),
        await total(db.ds, 'tn-34012-2018', 'EXPENDITURE', 'EXECUTED', '2018-02-28'),
      ]).toEqual(executedBefore);
      expect(asDinars(await total(db.ds, 'tn-34012-2018', 'EXPENDITURE', 'APPROVED'))).toBe('1437803.283');
    });
  });

  describe('tn-municipal-budget: newer files into an empty database', () => {
    let db: Db;
    const text = realText('depense_per_year_34012.csv');
    const lines = text.split('\n');
    beforeAll(async () => {
      db = await openDb(backend, 'never');
    });
    afterAll(() => db.close());

    it('writes nothing on a dry run', async () => {
      const before = await tableCounts(db.ds);
      const r = await run(db, TN, tnFile('depense_per_year_34012.csv', text), { dryRun: true });
      expect(r.outcome).toBe('validated');
      expect(r.rows.valid).toBe(perYear.length);
      expect(await tableCounts(db.ds)).toEqual(before);
    });

    it('loads a copy of the real file, lines and amounts and search documents', async () => {
      const r = await run(db, TN, tnFile('depense_per_year_34012.csv', text));
      expect(tables(r).budget_lines).toEqual(counts({ inserted: perYear.length * YEARS.length }));
      expect(tables(r).budgets).toEqual(counts({ inserted: YEARS.length }));
      const c = await tableCounts(db.ds);
      expect(c.budget_amounts).toBe(nonEmpty(perYear, YEARS));
      // One search document per line: its `all` row (budgets' search.ts, LINE_INDEX).
      expect(c.search_documents).toBe(perYear.length * YEARS.length);
      expect(asDinars(await total(db.ds, 'tn-34012-2018', 'EXPENDITURE', 'APPROVED'))).toBe('1437803.283');
    });

    it('updates a changed amount', async () => {
      const code = tnBudgetCode(perYear[1]);
      const at = lineOf(text, code) - 1;
      const changed = [...lines];
      // The real row ends in spaces after its last amount ("190000000    "), kept as they are.
      changed[at] = changed[at].replace(/,190000000(\s*)$/, ',190000001$1');
      expect(changed[at]).not.toBe(lines[at]);
      const r = await run(db, TN, tnFile('depense_per_year_34012.csv', changed.join('\n')));
      expect(r.outcome).toBe('loaded');
      expect(tables(r).budget_lines.inserted).toBe(0);
      expect(tables(r).budget_lines.updated).toBe(perYear.length * YEARS.length);
      const [{ a }] = await db.ds.query(
        `SELECT CAST(amount_minor AS CHAR) AS a FROM budget_amounts WHERE line_id = ? AND phase = 'APPROVED'`,
        [`tn-34012-2018-EXP-${code}`],
      );
      expect(String(a)).toBe('190000001');
      expect(asDinars(await total(db.ds, 'tn-34012-2018', 'EXPENDITURE', 'APPROVED'))).toBe('1437803.284');
    });

    it('reports a line removed from a newer file as missing, and deletes it only with --prune', async () => {
      const gone = tnBudgetCode(perYear[2]);
      const at = lineOf(text, gone) - 1;
      const newer = tnFile('depense_per_year_34012.csv', lines.filter((_, i) => i !== at).join('\n'));
      const ids = YEARS.map((y) => `tn-34012-${y}-EXP-${gone}`);
      const before = await tableCounts(db.ds);
      const r = await run(db, TN, newer);
      expect(r.parts[0].missing).toEqual({ count: YEARS.length, sample: ids });
      expect(r.parts[0].pruned).toBe(0);
      expect(await tableCounts(db.ds)).toEqual(before);

      const pruned = await run(db, TN, newer, { prune: true });
      const amounts = YEARS.filter((y) => perYear[2][y].trim() !== '').length;
      expect(pruned.parts[0].pruned).toBe(YEARS.length);
      expect(tables(pruned).budget_lines).toEqual(
        counts({ unchanged: (perYear.length - 1) * YEARS.length, deleted: YEARS.length }),
      );
      expect(tables(pruned).budget_amounts.deleted).toBe(amounts);
      const after = await tableCounts(db.ds);
      expect(after.budget_lines).toBe(before.budget_lines - YEARS.length);
      expect(after.budget_amounts).toBe(before.budget_amounts - amounts);
      const [{ n }] = await db.ds.query(
        `SELECT COUNT(*) AS n FROM search_documents WHERE entity_id IN (${ids.map(() => '?').join(', ')})`,
        ids,
      );
      expect(Number(n)).toBe(0);
      expect((await run(db, TN, newer)).parts[0].missing).toEqual({ count: 0, sample: [] });
    });

    it('refuses a duplicate across batches, writing the first', async () => {
      // The file's lines end in \r (CRLF): the changed amount is the last one, before it.
      const dup = [lines[0], lines[1], lines[2], lines[3], lines[1].replace(/,\d+(\s*)$/, ',7$1')].join('\n');
      const r = await run(db, TN, tnFile('depense_per_year_34012.csv', dup), { batchSize: 2 });
      expect(r.outcome).toBe('loaded-with-refusals');
      expect(r.refused).toEqual([
        expect.objectContaining({
          line: 5,
          reason: expect.stringMatching(/^same code .* as line 2 but different/),
        }),
      ]);
    });
  });

  describe('fiscal-data-package', () => {
    let db: Db;
    let first: ImportReport;
    const rows = parse(readFileSync(join(BOU_ARADA_FDP, 'expenditure.csv'), 'utf8'), {
      columns: true,
    }) as Row[];
    beforeAll(async () => {
      db = await openDb(backend, 'never');
      first = await run(db, PKG, BOU_ARADA_FDP);
    });
    afterAll(() => db.close());

    it('loads the Bou Arada package: the real 2018 approved expenditure, to the millime', async () => {
      expect(first.outcome).toBe('loaded');
      expect(first.rows).toEqual({ read: 98, valid: 98, refused: 0 });
      // Each line is a fact of two dimensions, its date (2018) and its code in the nomenclature, whose every
      // level (Titre, Article, Paragraphe, Sous-paragraphe) goes to the dictionary of codes once.
      const levels = new Set(
        rows.flatMap((r) => {
          const parts = [r.titre, r.article, r.paragraphe, r.sous_paragraphe];
          return parts.map((_, i) => parts.slice(0, i + 1).join('.'));
        }),
      );
      expect(tables(first)).toEqual({
        budgets: counts({ inserted: 1 }),
        budget_lines: counts({ inserted: 98 }),
        budget_amounts: counts({ inserted: nonEmpty(rows, ['approved']) }),
        budget_line_dimensions: counts({ inserted: 98 * 2 }),
        budget_codes: counts({ inserted: levels.size + 1 }),
      });
      expect(asDinars(await total(db.ds, FDP_BUDGET, 'EXPENDITURE', 'APPROVED'))).toBe('1437803.283');
      expect(asDinars(await total(db.ds, FDP_BUDGET, 'EXPENDITURE', 'APPROVED'))).toBe(
        sumMillimes(perYear.map((r) => r['2018'])),
      );
      const [budget] = await db.ds.query(
        'SELECT organization_id AS o, fiscal_year AS y, currency AS c, source_dataset AS d FROM budgets WHERE id = ?',
        [FDP_BUDGET],
      );
      expect({ ...budget, y: Number(budget.y) }).toEqual({
        o: 'tn-municipality-34012',
        y: 2018,
        c: 'TND',
        d: 'Bou Arada municipal budget 2018: approved expenditure (Fiscal Data Package)',
      });
      const [l] = await db.ds.query(
        'SELECT code, label_ar AS ar, classification AS c, source_record AS r, source_line AS n FROM budget_lines WHERE id = ?',
        [`${FDP_BUDGET}-EXP-1.01101.0004.000`],
      );
      expect({ ...l, n: Number(l.n) }).toEqual({
        code: '1.01101.0004.000',
        ar: 'منحة الخصوصية المتغيرة',
        c: 'tn-municipal-budget-nomenclature',
        r: 'expenditure.csv:line 5',
        n: 5,
      });
    });

    it('changes nothing on a second import', async () => {
      const before = await tableCounts(db.ds);
      const again = await run(db, PKG, join(BOU_ARADA_FDP, 'datapackage.json'));
      expect(again.checksum).toBe(first.checksum);
      expect(tables(again).budget_lines).toEqual(counts({ unchanged: 98 }));
      expect(tables(again).budget_amounts).toEqual(counts({ unchanged: nonEmpty(rows, ['approved']) }));
      expect(await tableCounts(db.ds)).toEqual(before);
      const [{ t }] = await db.ds.query(
        'SELECT MAX(imported_at) AS t FROM budget_lines WHERE budget_id = ?',
        [FDP_BUDGET],
      );
      expect(t).toBe(first.startedAt);
    });

    it('sees a changed resource as a new version of the package, and updates the changed amount', async () => {
      const csv = readFileSync(join(BOU_ARADA_FDP, 'expenditure.csv'), 'utf8').replace(
        ',960.000\n',
        ',960.001\n',
      );
      const r = await run(db, PKG, packageCopy(BOU_ARADA_FDP, 'expenditure.csv', csv));
      expect(r.checksum).not.toBe(first.checksum);
      expect(tables(r).budget_lines).toEqual(counts({ updated: 98 }));
      expect(asDinars(await total(db.ds, FDP_BUDGET, 'EXPENDITURE', 'APPROVED'))).toBe('1437803.284');
    });

    it('loads the COFOG package with its labels in three languages', async () => {
      const r = await run(db, PKG, COFOG_FDP);
      expect(r.outcome).toBe('loaded');
      const [l] = await db.ds.query(
        'SELECT label_en AS en, label_fr AS fr, label_es AS es, label_ar AS ar, classification AS c FROM budget_lines WHERE id = ?',
        ['fdp-cofog-sample-2021-EXP-09.2.1'],
      );
      expect(l).toEqual({
        en: 'Lower-secondary education  (IS)',
        fr: "Premier cycle de l'enseignement secondaire (SI)",
        es: 'Enseñanza secundaria básica (SI)',
        ar: null,
        c: 'cofog',
      });
      expect(cofogRows.length).toBeGreaterThan(1);
      expect(await total(db.ds, 'fdp-cofog-sample-2021', 'EXPENDITURE', 'APPROVED')).toBe(
        cofogTotal(cofogRows, 'approved'),
      );
      expect(await total(db.ds, 'fdp-cofog-sample-2021', 'EXPENDITURE', 'EXECUTED')).toBe(
        cofogTotal(cofogRows, 'executed'),
      );
    });

    it('loads a second row of the same code, in a later batch (--batch-size 2), as a second fact of it', async () => {
      // A package with rows finer than its classification (issue 14): each row counts, so totals are the file's.
      const csv = readFileSync(join(COFOG_FDP, 'budget.csv'), 'utf8').split('\n');
      const second = csv[1].replace('1250000.00', '1.00');
      const dup = packageCopy(COFOG_FDP, 'budget.csv', [...csv.slice(0, 5), second, ''].join('\n'));
      const fresh = await openDb(backend, 'never');
      try {
        const r = await run(fresh, PKG, dup, { batchSize: 2 });
        expect(r.outcome).toBe('loaded');
        expect(r.rows).toEqual({ read: 5, valid: 5, refused: 0 });
        const ids: { id: string }[] = await fresh.ds.query(
          "SELECT id FROM budget_lines WHERE code = '01.1.1' ORDER BY source_line",
        );
        expect(ids.map((l) => l.id)).toEqual([
          'fdp-cofog-sample-2021-EXP-01.1.1',
          'fdp-cofog-sample-2021-EXP-01.1.1-2',
        ]);
        expect(await total(fresh.ds, 'fdp-cofog-sample-2021', 'EXPENDITURE', 'APPROVED')).toBe(
          cofogTotal([...cofogRows.slice(0, 4), { approved: '1.00' }], 'approved'),
        );
      } finally {
        await fresh.close();
      }
    });
  });

  describe('the command line', () => {
    let db: Db;
    beforeAll(async () => {
      db = await openDb(backend, 'never');
    });
    afterAll(() => db.close());
    const bad = [
      'Titre,Article,Paragraphe,Sous_paragraphe,Imputation,2018',
      '1,01100,0001,000,المنحة,960000',
      '1,01101,0001,000,الأجر,1.5',
      '1,01101,0002,000,المنح,70800000',
    ].join('\n');

    it('loads nothing with --strict when a row is refused, and exits 3', async () => {
      const path = tnFile('depense_per_year_34012.csv', bad);
      const before = await tableCounts(db.ds);
      const r = await cli(db, [TN, path, '--strict']);
      expect(r.code).toBe(3);
      expect(r.stdout).toMatch(/refused/);
      expect(await tableCounts(db.ds)).toEqual(before);
    });

    it('loads the valid rows, exits 2, and writes every refused row to the JSON report', async () => {
      const path = tnFile('depense_per_year_34012.csv', bad);
      const reportPath = join(dir, 'report.json');
      const r = await cli(db, [TN, path, '--report', reportPath]);
      expect(r.code).toBe(2);
      expect(r.stdout).toContain(
        `${path}:3 2018 = "1.5": "1.5" has decimals: amounts in these files are integer millimes`,
      );
      const report = JSON.parse(readFileSync(reportPath, 'utf8')) as ImportReport;
      expect(report).toMatchObject({
        kind: TN,
        file: path,
        checksum: sha256(path),
        outcome: 'loaded-with-refusals',
        rows: { read: 3, valid: 2, refused: 1 },
        refused: [
          {
            file: path,
            line: 3,
            column: '2018',
            value: '1.5',
            reason: '"1.5" has decimals: amounts in these files are integer millimes',
          },
        ],
        refusedByReason: { '"1.5" has decimals: amounts in these files are integer millimes': 1 },
      });
      expect(report.parts[0]).toMatchObject({
        importer: TN,
        subgraph: 'budgets',
        scope: 'municipality 34012, expenditure, 2018',
        tables: { budget_lines: counts({ inserted: 2 }), budget_amounts: counts({ inserted: 2 }) },
      });
    });

    it('exits 0 for a clean package, 3 for an unknown currency and 64 for a wrong option', async () => {
      expect((await cli(db, [PKG, COFOG_FDP])).code).toBe(0);
      const pkg = packageCopy(COFOG_FDP, 'budget.csv');
      const desc = readFileSync(join(pkg, 'datapackage.json'), 'utf8').replace(
        '"currency": "EUR"',
        '"currency": "EUX"',
      );
      writeFileSync(join(pkg, 'datapackage.json'), desc);
      const refused = await cli(db, [PKG, pkg]);
      expect(refused.code).toBe(3);
      expect(refused.stdout).toContain('unknown currency "EUX": not an ISO 4217 code');
      const usage = await cli(db, [TN, pkg, '--municipality', '1234']);
      expect(usage.code).toBe(64);
      expect(usage.stderr).toMatch(/--municipality: "1234" is not a Tunisian municipal code/);
    });
  });

  it('resumes a killed import after its last whole batch, ending as a clean import does', async () => {
    const BATCH = 20;
    const ROWS = 8000;
    const { path } = await writeFiscalDataPackageFile(join(dir, `gen-${backend}`), ROWS, 7);
    const db = await openDb(backend, 'never');
    const clean = await openDb(backend, 'never');
    try {
      // node itself, not the tsx wrapper, whose SIGKILL would leave its node child running.
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          join(ROOT, 'scripts/import.ts'),
          PKG,
          path,
          '--batch-size',
          String(BATCH),
          '--quiet',
        ],
        { env: cliEnv(db), cwd: ROOT, stdio: 'ignore' },
      );
      const exited = new Promise((resolve) => child.on('close', resolve));
      let committed = 0;
      const deadline = Date.now() + 60_000;
      while (committed === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 25));
        const rows: { l: number | string }[] = await db.ds
          .query("SELECT committed_line AS l FROM import_runs WHERE importer = 'fiscal-data-package'")
          .catch(() => []);
        committed = Number(rows[0]?.l ?? 0);
      }
      child.kill('SIGKILL');
      await exited;
      expect(committed).toBeGreaterThan(0);

      // Whole batches only: the lines of every committed batch, none of the batch in progress.
      const [run0] = await db.ds.query(
        "SELECT committed_line AS l, committed_rows AS n, status FROM import_runs WHERE importer = 'fiscal-data-package'",
      );
      const [{ n, maxLine }] = await db.ds.query(
        'SELECT COUNT(*) AS n, MAX(source_line) AS maxLine FROM budget_lines',
      );
      expect(run0.status).toBe('running');
      expect(Number(n)).toBe(Number(run0.n));
      expect(Number(n) % BATCH).toBe(0);
      expect(Number(maxLine)).toBe(Number(run0.l));
      expect(Number(n)).toBeLessThan(ROWS);

      const resumed = await run(db, PKG, path, { batchSize: BATCH });
      expect(resumed.outcome).toBe('loaded');
      expect(resumed.parts[0].resumedAfterLine).toBe(Number(run0.l));
      expect(tables(resumed).budget_lines.inserted).toBe(ROWS - Number(n));

      const reference = await run(clean, PKG, path, { batchSize: 2000 });
      expect(reference.outcome).toBe('loaded');
      expect(await contents(db.ds)).toEqual(await contents(clean.ds));
    } finally {
      await db.close();
      await clean.close();
    }
  });
});

/** Everything an import wrote, but the time it ran: the tables compared after a resumed and a clean import. */
async function contents(ds: DataSource) {
  const lines = await ds.query(
    `SELECT id, budget_id, direction, code, label_ar, label_fr, classification, source_dataset, source_record,
            source_checksum, source_line, row_digest FROM budget_lines ORDER BY id`,
  );
  const amounts = await ds.query(
    'SELECT line_id, phase, as_of, CAST(amount_minor AS CHAR) AS a, source_record FROM budget_amounts ORDER BY line_id, phase, as_of',
  );
  const docs = await ds.query(
    'SELECT entity_id, field, text FROM search_documents ORDER BY entity_id, field',
  );
  const budgets = await ds.query(
    'SELECT id, organization_id, fiscal_year, currency FROM budgets ORDER BY id',
  );
  const norm = (rows: Record<string, unknown>[]) =>
    rows.map((r) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : String(v)])),
    );
  return { lines: norm(lines), amounts: norm(amounts), docs: norm(docs), budgets: norm(budgets) };
}
