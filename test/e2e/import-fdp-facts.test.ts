import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { DataSource } from 'typeorm';
import { runImport, type ImportOptions } from '@civic/common/import/pipeline';
import type { ImportIssue, ImportReport } from '@civic/common/import/report';
import { importers as budgetsImporters } from '@civic/subgraphs/budgets/src/import';
import { csvRecords, emptyBudgetsDb, storedCode, storedFacts } from '../support/fdp';
import { importWith } from '../support/imports';
import { BACKENDS } from '../support/system';

/*
 * Every Fiscal Data Package of OpenSpending's demo collection whose data exists (excerpts, see
 * test/fixtures/import/fdp-demos/README.md) and a package built for each case the importer handles, loaded as
 * facts. What each must give is computed here from the files themselves, with csv-parse and BigInt, never
 * through the importer's code: the rows, the refused ones, every total per measure and budget, the dimension
 * rows; then a second import must change nothing.
 */

const FIXTURES = join(__dirname, '..', 'fixtures', 'import');
const DEMOS = join(FIXTURES, 'fdp-demos');
const BUILT = join(FIXTURES, 'fiscal-data-package');
const PKG = 'fiscal-data-package';

type Row = Record<string, string>;
type Json = Record<string, any>;

/** ISO 4217 minor-unit digits of the currencies these packages use. */
const DIGITS: Record<string, number> = { ALL: 2, AUD: 2, EUR: 2, JPY: 0, MAD: 2, MKD: 2, TND: 3, USD: 2 };
/** Cells the packages use to say "no figure here". */
const NO_FIGURE = ['-', 'nfp'];

/** One row of a resource, with the line it starts on (1 is the header). */
interface Record_ {
  file: string;
  line: number;
  row: Row;
}

/** A measure as the descriptor gives it, with what the test needs to read its cells. */
interface TestMeasure {
  key: string;
  source: string;
  currency: string;
  /** The factor as a fraction. */
  factor: [bigint, bigint];
  decimalChar: string;
  groupChar: string | null;
  integer: boolean;
}

interface Case {
  /** The package's folder. */
  dir: string;
  params?: Record<string, string>;
  /** The budget a measure's figure of a row goes to. */
  budget(r: Record_, m: TestMeasure): string;
  /** Lines each loaded row writes (a budget and direction each). */
  linesPerRow: number;
  /**
   * The refused rows, by file (relative to the package) and line, with the column and reason; `by-rule` for the
   * demo packages, whose only defects are figures (a row is refused when a figure cell is not an exact number
   * of its currency's minor unit).
   */
  refused: { file: string; line: number; column: string | null; reason: RegExp }[] | 'by-rule';
  /** More checks of what this package wrote. */
  check?(ds: DataSource, report: ImportReport): Promise<void>;
}

/** A fraction from the decimal text of a JSON number (1000, 0.01, 1e6). */
function fraction(v: unknown): [bigint, bigint] {
  const s =
    v === undefined ? '1' : Number(v).toLocaleString('en', { useGrouping: false, maximumFractionDigits: 20 });
  const [w, f = ''] = s.split('.');
  return [BigInt(w + f), 10n ** BigInt(f.length)];
}

function measuresOf(desc: Json): TestMeasure[] {
  const model = desc.model ?? desc.mapping;
  const fields = new Map<string, Json>();
  for (const r of desc.resources) for (const f of r.schema?.fields ?? []) fields.set(f.name, f);
  return Object.entries(model.measures as Record<string, Json>).map(([key, m]) => {
    const f = fields.get(m.source) ?? {};
    return {
      key,
      source: m.source,
      currency: m.currency,
      factor: fraction(m.factor),
      decimalChar: f.decimalChar ?? '.',
      groupChar: f.groupChar ?? null,
      integer: f.type === 'integer',
    };
  });
}

/** A cell in minor units; 'none' for no figure, null for a cell that is not an exact amount of the currency. */
function minorUnits(cell: string, m: TestMeasure): bigint | 'none' | null {
  let v = cell.trim();
  if (v === '' || NO_FIGURE.includes(v)) return 'none';
  if (m.groupChar) v = v.split(m.groupChar).join('');
  else if (m.integer && /^\d{1,3}(,\d{3})+$/.test(v)) v = v.replace(/,/g, '');
  if (m.decimalChar !== '.') v = v.replace(m.decimalChar, '.');
  const match = /^(-)?(\d+)(?:\.(\d+))?$/.exec(v);
  if (!match) return null;
  const [, sign, whole, frac = ''] = match;
  // value × factor × 10^digits, which must be whole.
  const num = BigInt(whole + frac) * m.factor[0] * 10n ** BigInt(DIGITS[m.currency]);
  const den = 10n ** BigInt(frac.length) * m.factor[1];
  if (num % den !== 0n) return null;
  return sign ? -(num / den) : num / den;
}

/** The records of a package's resources, each with its file (relative to the package) and the line it starts on. */
function recordsOf(dir: string, desc: Json): Record_[] {
  return (desc.resources as Json[]).flatMap((r) =>
    csvRecords(join(dir, r.path), r.dialect?.delimiter).map((rec) => ({ file: r.path, ...rec })),
  );
}

/** The number of dimension values a row has: dimensions with a code attribute given (a constant counts). */
function dimensionValues(desc: Json, row: Row): number {
  const model = desc.model ?? desc.mapping;
  let n = 0;
  for (const d of Object.values(model.dimensions as Record<string, Json>)) {
    const attrs = d.attributes as Record<string, Json>;
    const pk: string[] = [d.primaryKey ?? Object.keys(attrs)].flat();
    if (pk.some((k) => attrs[k].constant !== undefined || (row[attrs[k].source] ?? '').trim() !== '')) n += 1;
  }
  return n;
}

/** What the package must give, from its files. */
function expected(c: Case) {
  const desc = JSON.parse(
    readFileSync(join(c.dir, 'datapackage.json'), 'utf8').replace(/^\uFEFF/, ''),
  ) as Json;
  const measures = measuresOf(desc);
  const records = recordsOf(c.dir, desc);
  const refusedAt =
    c.refused === 'by-rule'
      ? records
          .filter((r) => measures.some((m) => minorUnits(r.row[m.source] ?? '', m) === null))
          .map((r) => `${r.file}:${r.line}`)
      : c.refused.map((r) => `${r.file}:${r.line}`);
  const loaded = records.filter((r) => !refusedAt.includes(`${r.file}:${r.line}`));
  const totals: Record<string, string> = {};
  for (const r of loaded)
    for (const m of measures) {
      const v = minorUnits(r.row[m.source] ?? '', m);
      if (v === null) throw new Error(`${r.file}:${r.line} ${m.source}: a loaded row with a bad figure`);
      if (v === 'none') continue;
      const k = `${m.source} ${c.budget(r, m)}`;
      totals[k] = String(BigInt(totals[k] ?? '0') + v);
    }
  const dimensionRows = loaded.reduce((n, r) => n + dimensionValues(desc, r.row), 0) * c.linesPerRow;
  return { desc, records, refusedAt, loaded, totals, dimensionRows };
}

const slugOf = (desc: Json) =>
  String(desc.name)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');

const stored = storedFacts;
const code = storedCode;

interface DimensionRow {
  dimension: string;
  type: string;
  scheme: string;
  code: string;
  depth: number;
  l1: string;
  p: number;
}

/** The dimension rows of the line a row of a file wrote (its first, when it wrote several). */
async function dimensionsOfRow(ds: DataSource, slug: string, record: string) {
  const [line] = await ds.query(
    'SELECT id FROM budget_lines WHERE budget_id LIKE ? AND source_record = ? ORDER BY id LIMIT 1',
    [`fdp-${slug}-%`, record],
  );
  const rows: DimensionRow[] = await ds.query(
    `SELECT dimension, type, scheme, code, depth, level_1 AS l1, is_primary AS p
       FROM budget_line_dimensions WHERE line_id = ? ORDER BY position`,
    [line.id],
  );
  return rows.map((r) => ({ ...r, depth: Number(r.depth), p: Number(r.p) }));
}

const year = (column: string) => (r: Record_) => r.row[column].trim().slice(0, 4);
const warned = (report: ImportReport, re: RegExp) => report.warnings.filter((w) => re.test(w.reason));
const lineOf = (i: ImportIssue) => `${i.line}`;

const CASES: Record<string, Case> = {
  'al-treasury-spending': {
    dir: join(DEMOS, 'al-treasury-spending'),
    params: { organization: 'al-ministry-of-agriculture' },
    budget: (r) => `fdp-al-treasury-spending-${year('Date registered')(r)}`,
    linesPerRow: 1,
    refused: 'by-rule',
    async check(ds, report) {
      expect(warned(report, /taken as executed \(the package's granularity is "transactional"/)).toHaveLength(
        1,
      );
      expect(await dimensionsOfRow(ds, 'al-treasury-spending', 'data/treasury.csv:line 2')).toEqual([
        expect.objectContaining({
          dimension: 'date-registered',
          type: 'PERIOD',
          code: '2014-12-30',
          l1: '2014',
          p: 1,
        }),
        expect.objectContaining({ dimension: 'date-executed', type: 'PERIOD', code: '2014-12-31', p: 0 }),
        expect.objectContaining({ dimension: 'administrator', type: 'ADMINISTRATIVE' }),
        expect.objectContaining({ dimension: 'supplier', type: 'PAYEE', code: 'FRANKO CONSTRUCTION' }),
        expect.objectContaining({ dimension: 'treasury-branch', type: 'OTHER', code: 'Tirane' }),
        expect.objectContaining({ dimension: 'invoice-id', type: 'OTHER', code: '42710050012014' }),
        expect.objectContaining({
          dimension: 'kategori-shpenzimi',
          type: 'OTHER',
          code: 'Sherbime te tjera',
        }),
        // A description of 240 characters is coded by its start and a digest; its text is the code's label.
        expect.objectContaining({
          dimension: 'description',
          type: 'OTHER',
          code: expect.stringMatching(/^Min\.Bujqesise .{150,}~[0-9a-f]{12}$/),
        }),
      ]);
      const [d] = await dimensionsOfRow(ds, 'al-treasury-spending', 'data/treasury.csv:line 2').then((ds_) =>
        ds_.filter((x) => x.dimension === 'description'),
      );
      expect(await code(ds, 'fdp:al-treasury-spending:description', String(d.code))).toMatchObject({
        label: expect.stringMatching(/^Min\.Bujqesise sherb dhe riparim zyrash.*s\. 87110929$/),
        en: null,
      });
      for (const w of [
        'administrator',
        'supplier',
        'treasury-branch',
        'invoice-id',
        'kategori-shpenzimi',
        'description',
      ])
        expect(warned(report, new RegExp(`^dimension ${w} \\(`))).toHaveLength(1);
    },
  },
  'au-budget': {
    dir: join(DEMOS, 'au-budget'),
    params: { organization: 'au-commonwealth' },
    budget: (_r, m) => `fdp-au-budget-${m.key.slice(0, 4)}`,
    linesPerRow: 5,
    refused: 'by-rule',
    async check(ds, report) {
      expect(report.refused.length).toBeGreaterThan(0);
      for (const i of report.refused) expect(i.reason).toMatch(/^"[\d.]+" has \d decimals; AUD has 2$/);
      expect(warned(report, /are periods \(the wide layout/)).toHaveLength(1);
      expect(warned(report, /^"nfp" marks a cell with no figure/).length).toBeGreaterThan(0);
      expect(warned(report, /^"-" marks a cell with no figure/).length).toBeGreaterThan(0);
      expect(
        warned(report, /grouped by commas in a column the schema types integer: read as \d+$/).length,
      ).toBeGreaterThan(0);
      const [{ n }] = await ds.query(
        "SELECT COUNT(*) AS n FROM budgets WHERE id LIKE 'fdp-au-budget-%' AND currency = 'AUD'",
      );
      expect(Number(n)).toBe(5);
      const dims = await dimensionsOfRow(ds, 'au-budget', 'data/201505181230budget1516.csv:line 2');
      expect(dims.map((d) => [d.dimension, d.type, d.p])).toEqual([
        ['portfolio', 'ADMINISTRATIVE', 1],
        ['Department/Agency', 'ADMINISTRATIVE', 0],
        ['Outcome', 'ACTIVITY', 1],
        ['Program', 'ACTIVITY', 0],
        ['Expense type', 'OTHER', 1],
        ['Appropriation type', 'OTHER', 0],
      ]);
    },
  },
  'eu-allocations-per-ms-2014-2020': {
    dir: join(DEMOS, 'eu-allocations-per-ms-2014-2020'),
    params: { organization: 'eu-european-commission' },
    budget: () => 'fdp-eu-allocations-per-ms-2014-2020-2014',
    linesPerRow: 1,
    refused: 'by-rule',
    async check(ds, report) {
      expect(warned(report, /declares no classification dimension/)).toHaveLength(1);
      const [{ n }] = await ds.query(
        "SELECT COUNT(*) AS n FROM budget_lines WHERE budget_id = 'fdp-eu-allocations-per-ms-2014-2020-2014' AND code = '' AND classification IS NULL",
      );
      expect(Number(n)).toBe(252);
      const dims = await dimensionsOfRow(
        ds,
        'eu-allocations-per-ms-2014-2020',
        'data/Total_EU_Allocations_per_MS_for_2014-2020.csv:line 2',
      );
      expect(dims).toEqual([
        expect.objectContaining({
          dimension: 'payee',
          type: 'PAYEE',
          code: 'Poland',
          scheme: 'fdp:eu-allocations-per-ms-2014-2020:payee',
        }),
        expect.objectContaining({ dimension: 'fund', type: 'ACTIVITY', code: 'Cohesion Fund (€)' }),
      ]);
    },
  },
  'eu-beneficiaries-from-eagf-and-the-eafrd-in-slovakia-2014': {
    dir: join(DEMOS, 'eu-beneficiaries-from-eagf-and-the-eafrd-in-slovakia-2014'),
    params: { organization: 'sk-agricultural-paying-agency' },
    budget: (r) => `fdp-beneficiaries-from-eagf-and-the-eafrd-in-slovakia-2014-${year('Year')(r)}`,
    linesPerRow: 1,
    refused: 'by-rule',
    async check(ds, report) {
      const identical = warned(report, /^identical in every column to line \d+: loaded as a fact of its own/);
      expect(identical.length).toBeGreaterThan(0);
      const dims = await dimensionsOfRow(
        ds,
        'beneficiaries-from-eagf-and-the-eafrd-in-slovakia-2014',
        'data/SLOV2014EA_HTML.csv:line 2',
      );
      expect(dims.map((d) => [d.dimension, d.type, d.code, d.depth])).toEqual([
        ['date', 'PERIOD', '2014', 1],
        ['payee', 'PAYEE', 'B2014do12501149', 1],
        // Postal code and municipality: a code that does not extend the one above it is joined to it by a dot.
        ['location', 'GEOGRAPHY', '00000.Levice', 2],
        ['program', 'ACTIVITY', 'I.2', 1],
      ]);
    },
  },
  'eu-funds-absorption-rate-2007-2013': {
    dir: join(DEMOS, 'eu-funds-absorption-rate-2007-2013'),
    params: { organization: 'eu-european-commission' },
    budget: (r) => `fdp-eu-funds-absorption-rate-2007-2013-${year('Year')(r)}`,
    linesPerRow: 1,
    refused: 'by-rule',
    async check(ds, report) {
      expect(
        warned(
          report,
          /^measures total-paid, advance, interim are all expenditure approved: each is its own figure/,
        ),
      ).toHaveLength(1);
      const measures: { m: string }[] = await ds.query(
        "SELECT DISTINCT a.measure AS m FROM budget_amounts a JOIN budget_lines l ON l.id = a.line_id WHERE l.budget_id LIKE 'fdp-eu-funds-absorption-rate-2007-2013-%' ORDER BY a.measure",
      );
      expect(measures.map((x) => x.m)).toEqual(['advance', 'interim', 'total-paid']);
    },
  },
  'madrid-municipal-gastos': {
    dir: join(DEMOS, 'madrid-municipal-gastos'),
    params: { organization: 'es-ayuntamiento-de-madrid' },
    budget: (r) => `fdp-madrid-municipal-gastos-${year('AÑO')(r)}`,
    linesPerRow: 1,
    refused: 'by-rule',
    async check(ds) {
      const dims = await dimensionsOfRow(
        ds,
        'madrid-municipal-gastos',
        'data/gastos_v40_2012-2015.csv:line 2',
      );
      expect(dims.map((d) => [d.dimension, d.type, d.code, d.l1])).toEqual([
        ['date', 'PERIOD', '2012', '2012'],
        ['administrative', 'ADMINISTRATIVE', '001.002', '001'],
        ['program', 'ACTIVITY', '91100', '91100'],
        ['economic', 'ECONOMIC', '1.12000', '1'],
      ]);
      const [l] = await ds.query(
        "SELECT code, classification, label_es AS es, label_en AS en FROM budget_lines WHERE source_record = 'data/gastos_v40_2012-2015.csv:line 2'",
      );
      // The package says no language: its Spanish labels are the codes' (budget_codes.label), never guessed.
      expect(l).toEqual({ code: '1.12000', classification: 'economic', es: null, en: null });
      expect(await code(ds, 'fdp:madrid-municipal-gastos:economic', '1.12000')).toMatchObject({
        type: 'ECONOMIC',
        depth: 2,
        parent: '1',
        label: 'SUELDOS DEL GRUPO A1',
        es: null,
      });
      expect(await code(ds, 'fdp:madrid-municipal-gastos:economic', '1')).toMatchObject({
        depth: 1,
        parent: null,
        label: 'GASTOS DE PERSONAL',
      });
      expect(await code(ds, 'fdp:madrid-municipal-gastos:program', '91100')).toMatchObject({
        type: 'ACTIVITY',
        label: 'SECRETARÍA GENERAL DEL PLENO',
      });
    },
  },
  'openspending-macedonia': {
    dir: join(DEMOS, 'openspending-macedonia'),
    params: { organization: 'mk-government' },
    budget: (r) => `fdp-central-budget-of-macedonia-${year('Датум на објавување')(r)}`,
    linesPerRow: 1,
    refused: 'by-rule',
    async check(ds, report) {
      expect(warned(report, /declares no dialect; its header is separated by ";"/)).toHaveLength(1);
      const dims = await dimensionsOfRow(
        ds,
        'central-budget-of-macedonia',
        'MFBudzetIRebalansNaRMmk-MK.csv:line 2',
      );
      expect(dims.map((d) => [d.dimension, d.type, d.code, d.depth])).toEqual([
        ['date', 'PERIOD', '2014-01-01', 3],
        ['section', 'ADMINISTRATIVE', '1001', 1],
        ['account', 'OTHER', '630', 1],
        ['subprogram', 'ACTIVITY', '20', 1],
        ['category', 'FUNCTIONAL', '40.401', 2],
      ]);
      expect(await code(ds, 'fdp:central-budget-of-macedonia:category', '40.401')).toMatchObject({
        parent: '40',
        label: 'Основни плати',
        en: null,
      });
    },
  },
  'two-classifications': {
    dir: join(BUILT, 'two-classifications'),
    budget: () => 'fdp-two-classifications-2022-2022',
    linesPerRow: 1,
    refused: [
      { file: 'budget.csv', line: 9, column: 'approved', reason: /^"12\.345" has 3 decimals; EUR has 2$/ },
      { file: 'budget.csv', line: 10, column: 'cofog_group', reason: /^missing code: group is empty/ },
      {
        file: 'budget.csv',
        line: 13,
        column: 'chapter',
        reason: /^chapter is empty but article below it is given/,
      },
    ],
    async check(ds) {
      const slug = 'two-classifications-2022';
      expect(await dimensionsOfRow(ds, slug, 'budget.csv:line 2')).toEqual([
        expect.objectContaining({
          dimension: 'cofog',
          type: 'FUNCTIONAL',
          scheme: 'cofog',
          code: '01.1',
          l1: '01',
          depth: 2,
        }),
        expect.objectContaining({
          dimension: 'economic',
          type: 'ECONOMIC',
          scheme: `fdp:${slug}:economic`,
          code: '6.61',
          l1: '6',
        }),
      ]);
      // An article left empty codes the fact to its chapter.
      expect((await dimensionsOfRow(ds, slug, 'budget.csv:line 12'))[1]).toMatchObject({
        code: '6',
        depth: 1,
      });
      expect(await code(ds, 'cofog', '01.1')).toMatchObject({
        depth: 2,
        parent: '01',
        en: 'Executive and legislative organs, financial and fiscal affairs, external affairs',
        fr: 'Organes exécutifs et législatifs, affaires financières et fiscales, affaires étrangères',
        label: null,
      });
      expect(await code(ds, 'cofog', '01')).toMatchObject({ en: 'General public services', parent: null });
      expect(await code(ds, `fdp:${slug}:economic`, '6.61')).toMatchObject({ label: 'Salaries', en: null });
      // Rows 5 and 6 are the same cell: two facts, the second numbered.
      const ids: { id: string }[] = await ds.query(
        "SELECT id FROM budget_lines WHERE budget_id = 'fdp-two-classifications-2022-2022' AND source_line IN (5, 6) ORDER BY source_line",
      );
      expect(ids[1].id).toBe(`${ids[0].id}-2`);
      const [l] = await ds.query(
        'SELECT code, classification AS c, label_en AS en, label_fr AS fr FROM budget_lines WHERE id = ?',
        [ids[0].id],
      );
      expect(l).toEqual({ code: '03.1', c: 'cofog', en: 'Police services', fr: 'Services de police' });
    },
  },
  'three-classifications': {
    dir: join(BUILT, 'three-classifications'),
    budget: (r) => `fdp-three-classifications-${year('annee')(r)}`,
    linesPerRow: 2,
    refused: [{ file: 'budget.csv', line: 14, column: 'annee', reason: /^"2025-13" is not a fiscal year/ }],
    async check(ds, report) {
      expect(warned(report, /model is under "mapping"/)).toHaveLength(1);
      const slug = 'three-classifications';
      expect(await dimensionsOfRow(ds, slug, 'budget.csv:line 2')).toEqual([
        expect.objectContaining({ dimension: 'annee', type: 'PERIOD', code: '2023' }),
        expect.objectContaining({
          dimension: 'administratif',
          type: 'ADMINISTRATIVE',
          code: 'M1.P11',
          l1: 'M1',
        }),
        expect.objectContaining({
          dimension: 'fonctionnel',
          type: 'FUNCTIONAL',
          scheme: `fdp:${slug}:fonctionnel`,
          code: '07',
        }),
        expect.objectContaining({
          dimension: 'economique',
          type: 'ECONOMIC',
          code: '1.02.010',
          l1: '1',
          depth: 3,
        }),
        expect.objectContaining({ dimension: 'pays', type: 'GEOGRAPHY', code: 'TN' }),
      ]);
      expect(await code(ds, `fdp:${slug}:administratif`, 'M1')).toMatchObject({ fr: 'Santé', label: null });
      expect(await code(ds, `fdp:${slug}:administratif`, 'M1.P11')).toMatchObject({
        fr: 'Soins de santé de base',
        parent: 'M1',
      });
      expect(await code(ds, `fdp:${slug}:economique`, '1.02')).toMatchObject({
        depth: 2,
        parent: '1',
        fr: null,
      });
      expect(await code(ds, `fdp:${slug}:pays`, 'TN')).toMatchObject({ fr: 'Tunisie' });
      const lines: { direction: string; ar: string; code: string }[] = await ds.query(
        "SELECT direction, label_ar AS ar, code FROM budget_lines WHERE budget_id LIKE 'fdp-three-classifications-%' AND source_record = 'budget.csv:line 2' ORDER BY direction",
      );
      expect(lines).toEqual([
        { direction: 'EXPENDITURE', ar: 'الصحة', code: '07' },
        { direction: 'REVENUE', ar: 'الصحة', code: '07' },
      ]);
    },
  },
  transactions: {
    dir: join(BUILT, 'transactions'),
    budget: () => 'fdp-transactions-2024-2024',
    linesPerRow: 1,
    refused: [
      { file: 'payments.csv', line: 9, column: 'paid_on', reason: /^"2024-13-01" is not a fiscal year/ },
      { file: 'payments.csv', line: 11, column: 'amount', reason: /^"1 200" is not a decimal amount$/ },
    ],
    async check(ds, report) {
      const identical = warned(
        report,
        /^identical in every column to line (\d+): loaded as a fact of its own/,
      );
      expect(identical.map((w) => [lineOf(w), /line (\d+)/.exec(w.reason)![1]])).toEqual([
        ['4', '3'],
        ['12', '2'],
        ['14', '13'],
      ]);
      const slug = 'transactions-2024';
      expect(await dimensionsOfRow(ds, slug, 'payments.csv:line 2')).toEqual([
        expect.objectContaining({
          dimension: 'date',
          type: 'PERIOD',
          code: '2024-01-15',
          l1: '2024',
          depth: 3,
        }),
        expect.objectContaining({ dimension: 'payer', type: 'PAYER', code: 'P01' }),
        expect.objectContaining({ dimension: 'supplier', type: 'PAYEE', code: 'ACME SARL' }),
        expect.objectContaining({ dimension: 'account', type: 'ECONOMIC', code: '6111' }),
      ]);
      // A payment at a time of day: the time is a fourth level.
      expect((await dimensionsOfRow(ds, slug, 'payments.csv:line 8'))[0]).toMatchObject({
        code: '2024-03-31T14:30:00',
        depth: 4,
      });
      // No supplier: no value in that dimension.
      expect((await dimensionsOfRow(ds, slug, 'payments.csv:line 10')).map((d) => d.dimension)).toEqual([
        'date',
        'payer',
        'account',
      ]);
      expect(await code(ds, `fdp:${slug}:payer`, 'P01')).toMatchObject({ type: 'PAYER', label: 'Commune A' });
      expect(await code(ds, `fdp:${slug}:account`, '6111')).toMatchObject({
        fr: 'Achats de fournitures',
        ar: 'شراء اللوازم',
      });
      const phases: { p: string }[] = await ds.query(
        "SELECT DISTINCT a.phase AS p FROM budget_amounts a JOIN budget_lines l ON l.id = a.line_id WHERE l.budget_id = 'fdp-transactions-2024-2024'",
      );
      expect(phases).toEqual([{ p: 'EXECUTED' }]);
      // Rows 2, 3, 4 and 12 are one cell: facts 1 to 4 of it, in file order.
      const ids: { id: string }[] = await ds.query(
        "SELECT id FROM budget_lines WHERE budget_id = 'fdp-transactions-2024-2024' AND source_line IN (2, 3, 4, 12) ORDER BY source_line",
      );
      expect(ids.map((x) => x.id)).toEqual([ids[0].id, `${ids[0].id}-2`, `${ids[0].id}-3`, `${ids[0].id}-4`]);
    },
  },
  wide: {
    dir: join(BUILT, 'wide'),
    budget: (_r, m) => `fdp-wide-layout-${m.key.replace(/^fy-/, '').slice(0, 4)}`,
    linesPerRow: 3,
    refused: [
      { file: 'programmes.csv', line: 5, column: 'FY2019', reason: /^"1,5" is not a decimal amount$/ },
      { file: 'programmes.csv', line: 7, column: 'FY2019', reason: /^"1\.234" has 3 decimals; USD has 2$/ },
    ],
    async check(ds, report) {
      expect(warned(report, /^measures 2019, fy-2020-21, 2021-2022 are periods/)).toHaveLength(1);
      expect(warned(report, /say no direction: taken as expenditure/)).toHaveLength(1);
      expect(warned(report, /say no phase: taken as approved/)).toHaveLength(1);
      const budgets: { id: string; y: number }[] = await ds.query(
        "SELECT id, fiscal_year AS y FROM budgets WHERE id LIKE 'fdp-wide-layout-%' ORDER BY id",
      );
      expect(budgets.map((b) => [b.id, Number(b.y)])).toEqual([
        ['fdp-wide-layout-2019', 2019],
        ['fdp-wide-layout-2020', 2020],
        ['fdp-wide-layout-2021', 2021],
      ]);
      expect(await dimensionsOfRow(ds, 'wide-layout', 'programmes.csv:line 2')).toEqual([
        expect.objectContaining({ dimension: 'programme', type: 'ACTIVITY', code: 'P1' }),
        expect.objectContaining({ dimension: 'region', type: 'GEOGRAPHY', code: 'North' }),
      ]);
      expect(await code(ds, 'fdp:wide-layout:programme', 'P1')).toMatchObject({ en: 'Health' });
    },
  },
  factor: {
    dir: join(BUILT, 'factor'),
    budget: (_r, m) => `fdp-factor-and-currencies-2020-${m.currency.toLowerCase()}`,
    linesPerRow: 3,
    refused: [
      {
        file: 'departments.csv',
        line: 5,
        column: 'usd_cents',
        reason: /^"0\.5" × 0\.01 has more decimals than USD's 2$/,
      },
      {
        file: 'departments.csv',
        line: 6,
        column: 'jpy_millions',
        reason: /^"0\.0000001" × 1000000 has more decimals than JPY's 0$/,
      },
    ],
    async check(ds, report) {
      expect(
        warned(report, /measures are in EUR, USD, JPY: a budget per fiscal year and currency/),
      ).toHaveLength(1);
      const budgets: { id: string; c: string }[] = await ds.query(
        "SELECT id, currency AS c FROM budgets WHERE id LIKE 'fdp-factor-and-currencies-%' ORDER BY id",
      );
      expect(budgets).toEqual([
        { id: 'fdp-factor-and-currencies-2020-eur', c: 'EUR' },
        { id: 'fdp-factor-and-currencies-2020-jpy', c: 'JPY' },
        { id: 'fdp-factor-and-currencies-2020-usd', c: 'USD' },
      ]);
      // "1.234,5" thousand euros, 123456 US cents, 1.5 million yen.
      const line2: { b: string; a: string }[] = await ds.query(
        "SELECT l.budget_id AS b, CAST(a.amount_minor AS CHAR) AS a FROM budget_amounts a JOIN budget_lines l ON l.id = a.line_id WHERE l.source_record = 'departments.csv:line 2' ORDER BY l.budget_id",
      );
      expect(line2.map((x) => [x.b, String(x.a)])).toEqual([
        ['fdp-factor-and-currencies-2020-eur', '123450000'],
        ['fdp-factor-and-currencies-2020-jpy', '1500000'],
        ['fdp-factor-and-currencies-2020-usd', '123456'],
      ]);
    },
  },
  'semicolon-bom': {
    dir: join(BUILT, 'semicolon-bom'),
    budget: () => 'fdp-semicolon-bom-2021',
    linesPerRow: 1,
    refused: [
      { file: 'gastos.csv', line: 5, column: 'credito', reason: /^"12,345" has 3 decimals; EUR has 2$/ },
    ],
    async check(ds, report) {
      expect(
        warned(report, /gastos\.csv: the resource declares no dialect; its header is separated by ";"/),
      ).toHaveLength(1);
      const [l] = await ds.query(
        "SELECT code, label_es AS es FROM budget_lines WHERE source_record = 'gastos.csv:line 4'",
      );
      expect(l).toEqual({ code: '002', es: 'Hacienda; economía' });
      expect(await code(ds, 'fdp:semicolon-bom:programa', '93100')).toMatchObject({
        type: 'ACTIVITY',
        es: 'Política económica y fiscal',
      });
    },
  },
  'two-resources': {
    dir: join(BUILT, 'two-resources'),
    budget: (r) => `fdp-two-resources-${year('year')(r)}`,
    linesPerRow: 1,
    refused: [
      {
        file: 'data/2021.csv',
        line: 4,
        column: 'approved',
        reason: /^"1,300,000\.00" is not a decimal amount$/,
      },
    ],
    async check(ds) {
      const sources: { r: string }[] = await ds.query(
        "SELECT source_record AS r FROM budget_lines WHERE budget_id LIKE 'fdp-two-resources-%' ORDER BY source_record",
      );
      expect(sources.map((s) => s.r)).toEqual([
        'data/2020.csv:line 2',
        'data/2020.csv:line 3',
        'data/2020.csv:line 4',
        'data/2020.csv:line 5',
        'data/2021.csv:line 2',
        'data/2021.csv:line 3',
        'data/2021.csv:line 5',
      ]);
      expect(await code(ds, 'cofog', '07.3.1')).toMatchObject({
        depth: 3,
        parent: '07.3',
        en: 'General hospital services',
      });
      expect(await code(ds, 'cofog', '07.3')).toMatchObject({ depth: 2, parent: '07' });
    },
  },
};

const openDb = emptyBudgetsDb;

const run = (ds: DataSource, dir: string, options: Partial<ImportOptions> = {}) =>
  importWith(budgetsImporters, PKG, ds, dir, options);

describe.each(BACKENDS)('Fiscal Data Packages as facts on %s', (backend) => {
  let db: Awaited<ReturnType<typeof openDb>>;
  const first = new Map<string, ImportReport>();
  const again = new Map<string, ImportReport>();
  beforeAll(async () => {
    db = await openDb(backend);
    for (const [name, c] of Object.entries(CASES))
      first.set(name, await run(db.ds, c.dir, { params: c.params ?? {} }));
    for (const [name, c] of Object.entries(CASES))
      again.set(name, await run(db.ds, c.dir, { params: c.params ?? {} }));
  }, 120_000);
  afterAll(() => db?.close());

  describe.each(Object.keys(CASES))('%s', (name) => {
    const c = CASES[name];
    const want = expected(c);

    it('loads every row or refuses it, naming its line and why', () => {
      const r = first.get(name)!;
      expect(r.error).toBeNull();
      expect(r.rows.read).toBe(want.records.length);
      expect(r.rows.refused).toBe(want.refusedAt.length);
      expect(r.rows.valid + r.rows.refused).toBe(want.records.length);
      expect(r.outcome).toBe(want.refusedAt.length ? 'loaded-with-refusals' : 'loaded');
      const refused = r.refused.map((i) => `${relative(c.dir, i.file)}:${i.line}`);
      expect([...new Set(refused)].sort()).toEqual([...want.refusedAt].sort());
      for (const i of r.refused) expect(i.reason).not.toBe('');
      if (c.refused !== 'by-rule')
        for (const x of c.refused)
          expect(r.refused).toContainEqual(
            expect.objectContaining({
              file: join(c.dir, x.file),
              line: x.line,
              column: x.column,
              reason: expect.stringMatching(x.reason),
            }),
          );
    });

    it("stores every figure: each total per measure and budget is the sum of the file's cells", async () => {
      const slug = slugOf(want.desc);
      const s = await stored(db.ds, slug);
      expect(Object.keys(want.totals).length).toBeGreaterThan(0);
      expect(s.totals).toEqual(want.totals);
      expect(s.lines).toBe(want.loaded.length * c.linesPerRow);
      expect(s.dims).toBe(want.dimensionRows);
    });

    it('stores the dimensions, codes and labels of its facts', async () => {
      await c.check?.(db.ds, first.get(name)!);
    });

    it('changes nothing when imported again', () => {
      const r = again.get(name)!;
      expect(r.rows).toEqual(first.get(name)!.rows);
      for (const [table, t] of Object.entries(r.parts[0].tables))
        expect({ table, ...t, unchanged: undefined }).toEqual({
          table,
          inserted: 0,
          updated: 0,
          deleted: 0,
          unchanged: undefined,
        });
    });
  });

  describe('rows identical in every column', () => {
    const c = CASES.transactions;
    let dedupe: Awaited<ReturnType<typeof openDb>>;
    beforeAll(async () => {
      dedupe = await openDb(backend);
    });
    afterAll(() => dedupe?.close());

    it('are merged into the first with --dedupe, each reported with its line', async () => {
      const r = await run(dedupe.ds, c.dir, { params: { dedupe: 'true' } });
      expect(r.rows).toEqual({ read: 14, valid: 12, refused: 2 });
      const merged = warned(
        r,
        /^identical in every column to line (\d+): merged into it \(--dedupe\), not written$/,
      );
      expect(merged.map((w) => [lineOf(w), /line (\d+)/.exec(w.reason)![1]])).toEqual([
        ['4', '3'],
        ['12', '2'],
        ['14', '13'],
      ]);
      const want = expected(c);
      const s = await stored(dedupe.ds, 'transactions-2024');
      expect(s.lines).toBe(want.loaded.length - 3);
      // The merged rows' payments (1200.00, 1200.00, 640.00) are not added.
      const total = want.totals['amount fdp-transactions-2024-2024'];
      expect(s.totals).toEqual({ 'amount fdp-transactions-2024-2024': String(BigInt(total) - 304000n) });
    });
  });

  it('numbers the facts of a cell the same way when a killed import resumes', async () => {
    const c = CASES.transactions;
    const resumed = await openDb(backend);
    const clean = await openDb(backend);
    try {
      // The third batch of two rows fails as if the process were killed: the first two batches stay committed.
      const importer = budgetsImporters.find((i) => i.kind === PKG)!;
      const part = importer.part({});
      let batches = 0;
      const failing = {
        ...part,
        write: (
          m: Parameters<typeof part.write>[0],
          rows: unknown[],
          w: Parameters<typeof part.write>[2],
        ) => {
          if (++batches === 3) throw new Error('killed');
          return part.write(m, rows, w);
        },
      };
      const options = { strict: false, dryRun: false, prune: false, batchSize: 2, params: {} };
      const killed = await runImport(PKG, c.dir, [{ part: failing, ds: resumed.ds }], options);
      expect(killed.outcome).toBe('failed');
      const again = await run(resumed.ds, c.dir, { batchSize: 2 });
      expect(again.outcome).toBe('loaded-with-refusals');
      expect(again.parts[0].resumedAfterLine).toBeGreaterThan(0);
      await run(clean.ds, c.dir, { batchSize: 2 });
      const contents = async (ds: DataSource) => ({
        lines: await ds.query('SELECT id, source_line, row_digest FROM budget_lines ORDER BY id'),
        amounts: await ds.query(
          'SELECT line_id, phase, measure, CAST(amount_minor AS CHAR) AS a FROM budget_amounts ORDER BY line_id',
        ),
        dims: await ds.query(
          'SELECT line_id, dimension, code FROM budget_line_dimensions ORDER BY line_id, dimension',
        ),
      });
      expect(await contents(resumed.ds)).toEqual(await contents(clean.ds));
    } finally {
      await resumed.close();
      await clean.close();
    }
  });
});
