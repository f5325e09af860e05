import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { tunisiaMunicipalityId } from '../../common/src/keys';
import { fromMinorUnits } from '../../common/src/money';
import { DATASETS_DIR, SOURCES } from '../../common/src/sources';
import type { BudgetDirection } from '../../subgraphs/budgets/src/entities/Budget';
import {
  buildBouAradaBudget,
  buildTunisianMunicipalBudget,
} from '../../subgraphs/budgets/src/seed/tn-municipal-budget';
import type { BudgetsSeed } from '../../subgraphs/budgets/src/seed/types';

// Expected values are computed here from the files themselves, with csv-parse and BigInt, independently of
// the builder; a few are also written out literally so a change in the data cannot pass unnoticed.

const TUNISIA = join(DATASETS_DIR, 'tunisia');
const YEARS = ['2013', '2014', '2015', '2016', '2017', '2018'];

type Row = Record<string, string>;
const readRows = (file: string, dir = TUNISIA): Row[] =>
  parse(readFileSync(join(dir, file), 'utf8'), { columns: true, bom: true }) as Row[];
const codeOf = (r: Row) => [r.Titre, r.Article, r.Paragraphe, r.Sous_paragraphe].join('.');
const sumColumn = (rows: Row[], column: string) =>
  rows.reduce((sum, r) => (r[column] === '' ? sum : sum + BigInt(r[column])), 0n);
/** Rows repeated verbatim count once. */
const distinctRows = (rows: Row[]) => [...new Map(rows.map((r) => [JSON.stringify(r), r])).values()];

/** Sum of the builder's amounts for one budget, direction, phase and date, in millimes. */
function total(
  seed: BudgetsSeed,
  year: number,
  direction: BudgetDirection,
  phase: string,
  asOf = '',
): bigint {
  const lines = new Map(seed.lines.map((l) => [l.id, l]));
  let sum = 0n;
  for (const a of seed.amounts) {
    const line = lines.get(a.lineId)!;
    if (
      line.budgetId === `tn-34012-${year}` &&
      line.direction === direction &&
      a.phase === phase &&
      a.asOf === asOf
    ) {
      sum += BigInt(a.amountMinor);
    }
  }
  return sum;
}

describe('buildBouAradaBudget (real files)', () => {
  let seed: BudgetsSeed;
  const perYearExp = readRows('depense_per_year_34012.csv');
  const perYearRev = readRows('recette_per_year_34012.csv');
  const monthlyExp = readRows('Depence_mensuelle_2018_34012.csv');
  const monthlyRev = readRows('Recette_mensuelle_2018_34012.csv');

  beforeAll(() => {
    seed = buildBouAradaBudget();
  });

  it('makes one TND budget per fiscal year for the municipality 34012', () => {
    expect(seed.budgets.map((b) => b.id)).toEqual(YEARS.map((y) => `tn-34012-${y}`));
    for (const b of seed.budgets) {
      expect(b).toMatchObject({ organizationId: tunisiaMunicipalityId('34012'), currency: 'TND' });
      expect(b.sourceDataset).toBe(SOURCES.tunisiaBudget.dataset);
      expect(b.sourceRecord).toContain('depense_per_year_34012.csv');
    }
    expect(seed.budgets.find((b) => b.fiscalYear === 2018)!.sourceRecord).toContain(
      'Depence_mensuelle_2018_34012.csv',
    );
  });

  it('creates every listed line in every year, once, with the code as written', () => {
    expect(perYearExp).toHaveLength(98);
    expect(perYearRev).toHaveLength(43);
    expect(seed.lines).toHaveLength((perYearExp.length + perYearRev.length) * YEARS.length);
    expect(new Set(seed.lines.map((l) => l.id)).size).toBe(seed.lines.length);
    const line = seed.lines.find((l) => l.id === 'tn-34012-2018-EXP-1.01100.0001.000')!;
    expect(line).toMatchObject({
      budgetId: 'tn-34012-2018',
      direction: 'EXPENDITURE',
      code: '1.01100.0001.000',
      classification: 'tn-municipal-budget-nomenclature',
      sourceRecord: 'depense_per_year_34012.csv:line 2',
    });
    expect(seed.lines.find((l) => l.id === 'tn-34012-2013-REV-1.01101.00.00')!.code).toBe('1.01101.00.00');
  });

  it('keeps the Arabic label exactly as written', () => {
    const raw = perYearExp.find((r) => codeOf(r) === '1.01101.0001.000')!.Imputation;
    expect(raw).toBe('الأجر الأساسي والتدرّج');
    const line = seed.lines.find((l) => l.id === 'tn-34012-2016-EXP-1.01101.0001.000')!;
    expect(line.labelAr).toBe(raw);
    // Only the spaces at either end go; the inner double space stays.
    const spaced = seed.lines.find((l) => l.id === 'tn-34012-2018-EXP-1.02201.0006.001')!;
    expect(spaced.labelAr).toBe('شراء  الوقود لوسائل النقل');
  });

  it('loads the per-year amounts as APPROVED, exact to the millime', () => {
    for (const [direction, rows] of [
      ['EXPENDITURE', perYearExp],
      ['REVENUE', perYearRev],
    ] as const) {
      for (const y of YEARS) expect(total(seed, Number(y), direction, 'APPROVED')).toBe(sumColumn(rows, y));
    }
    expect(fromMinorUnits(total(seed, 2018, 'EXPENDITURE', 'APPROVED'), 'TND')).toBe('1437803.283');
    expect(fromMinorUnits(total(seed, 2018, 'REVENUE', 'APPROVED'), 'TND')).toBe('1469840.234');
    expect(fromMinorUnits(total(seed, 2013, 'REVENUE', 'APPROVED'), 'TND')).toBe('1081509.444');
    const cells = (rows: Row[]) => rows.flatMap((r) => YEARS.map((y) => r[y])).filter((v) => v !== '').length;
    const approved = seed.amounts.filter((a) => a.phase === 'APPROVED');
    expect(approved).toHaveLength(cells(perYearExp) + cells(perYearRev));
    for (const a of seed.amounts) expect(a.amountMinor).toMatch(/^-?\d+$/);
  });

  it('does not count the monthly file twice: its repeated rows and its full-year column add nothing', () => {
    // The monthly full-year column sums to far more than the approved budget because rows repeat...
    expect(sumColumn(monthlyExp, 'Budget_2018')).toBe(1973349268n);
    // ...and once repeats are merged it matches the per-year figure line by line.
    const perYear2018 = new Map(perYearExp.map((r) => [codeOf(r), r['2018']]));
    for (const r of distinctRows(monthlyExp)) expect(perYear2018.get(codeOf(r))).toBe(r.Budget_2018);
    expect(total(seed, 2018, 'EXPENDITURE', 'APPROVED')).toBe(1437803283n);
    const repeats = monthlyExp.length - distinctRows(monthlyExp).length;
    const merged = seed.report.warnings.filter(
      (w) => w.record.startsWith('Depence_mensuelle_2018_34012.csv:') && w.message.includes('merged'),
    );
    expect(merged).toHaveLength(repeats);
    expect(seed.report.warnings).toContainEqual({
      record: 'depense_per_year_34012.csv:line 93',
      message: expect.stringContaining('1.02201.0080.020 (APPROVED 48051500) is not in'),
    });
  });

  it('loads the cumulative execution at the end of January and February as EXECUTED', () => {
    const distinct = distinctRows(monthlyExp);
    expect(total(seed, 2018, 'EXPENDITURE', 'EXECUTED', '2018-01-31')).toBe(
      sumColumn(distinct, 'Budget_01_2018'),
    );
    expect(total(seed, 2018, 'EXPENDITURE', 'EXECUTED', '2018-02-28')).toBe(
      sumColumn(distinct, 'Budget_02_2018'),
    );
    expect(fromMinorUnits(total(seed, 2018, 'EXPENDITURE', 'EXECUTED', '2018-01-31'), 'TND')).toBe(
      '39199.239',
    );
    expect(fromMinorUnits(total(seed, 2018, 'EXPENDITURE', 'EXECUTED', '2018-02-28'), 'TND')).toBe(
      '78463.548',
    );
    const filled = (c: string) => distinct.filter((r) => r[c] !== '').length;
    const executed = seed.amounts.filter((a) => a.phase === 'EXECUTED');
    expect(executed.filter((a) => a.asOf === '2018-01-31')).toHaveLength(filled('Budget_01_2018'));
    expect(executed.filter((a) => a.asOf === '2018-02-28')).toHaveLength(filled('Budget_02_2018'));
    // The revenue file has no execution figure at all: no EXECUTED revenue, rather than zeros.
    expect(monthlyRev.every((r) => r.Budget_01_2018 === '' && r.Budget_02_2018 === '')).toBe(true);
    expect(executed.some((a) => a.lineId.includes('-REV-'))).toBe(false);
    const salary = executed.find(
      (a) => a.lineId === 'tn-34012-2018-EXP-1.01101.0001.000' && a.asOf === '2018-02-28',
    );
    expect(salary).toMatchObject({
      amountMinor: '49113966',
      sourceRecord: 'Depence_mensuelle_2018_34012.csv:line 3 column Budget_02_2018',
    });
  });

  it('treats an empty cell as no amount and "0" as a real zero', () => {
    const row = perYearRev.find((r) => codeOf(r) === '1.01201.00.00')!;
    expect([row['2014'], row['2015']]).toEqual(['0', '']);
    const amountsOf = (year: string) =>
      seed.amounts.filter((a) => a.lineId === `tn-34012-${year}-REV-1.01201.00.00`);
    expect(seed.lines.some((l) => l.id === 'tn-34012-2015-REV-1.01201.00.00')).toBe(true);
    expect(amountsOf('2015')).toEqual([]);
    expect(amountsOf('2014')).toEqual([
      {
        lineId: 'tn-34012-2014-REV-1.01201.00.00',
        phase: 'APPROVED',
        asOf: '',
        amountMinor: '0',
        sourceRecord: 'recette_per_year_34012.csv:line 4 column 2014',
      },
    ]);
  });

  it('reads Depence_2018 and depense_simple only to check them, and says so', () => {
    expect(seed.report.refused).toEqual([]);
    expect(seed.report.warnings).toContainEqual({
      record: 'Depence_2018_34012.csv',
      message: expect.stringContaining('not loaded twice'),
    });
    const simple = readRows('depense_simple_34012.csv');
    expect(simple).toHaveLength((98 + 43) * YEARS.length);
    expect(seed.report.warnings).toContainEqual({
      record: 'depense_simple_34012.csv',
      message: expect.stringContaining('0 lines and 0 amounts added from it, 0 disagreements'),
    });
    expect(seed.amounts.some((a) => a.sourceRecord?.startsWith('Depence_2018'))).toBe(false);
    expect(seed.amounts.some((a) => a.sourceRecord?.startsWith('depense_simple'))).toBe(false);
    expect(seed.report.loaded).toEqual({
      budgets: 6,
      budget_lines: seed.lines.length,
      budget_amounts: seed.amounts.length,
    });
  });
});

describe('buildTunisianMunicipalBudget (synthetic files)', () => {
  let dir: string;
  let seed: BudgetsSeed;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tn-budget-'));
    const write = (name: string, lines: string[]) =>
      writeFileSync(join(dir, name), lines.join('\r\n') + '\r\n');
    write('depense_per_year_99999.csv', [
      'Titre,Article,Paragraphe,Sous_paragraphe,Imputation,2017,2018',
      '1,01100,0001,000,منحة,1000,',
      '1,01101,0001,000, الأجر ,12a5,2500',
      '1,01101,0002,000,منح,1.2345,0',
      ',01101,0003,000,بلا رمز,5,5',
    ]);
    // Columns in another order: read by name.
    write('recette_per_year_99999.csv', [
      '2018,Imputation,Titre,Article,Paragraphe,Sous_paragraphe,2017',
      '700,معلوم,1,01101,00,00,600',
    ]);
    write('Depence_mensuelle_2018_99999.csv', [
      'Titre,Article,Paragraphe,Sous_paragraphe,Imputation,Budget_01_2018,Budget_02_2018,Budget_2018',
      '1,01101,0001,000, الأجر ,100,,2600',
      '1,01101,0001,000, الأجر ,100,,2600',
      '1,01101,0002,000,منح,5,9,0',
      '1,01101,0002,000,منح,6,9,0',
      '2,06600,0020,000,دراسات,1,2,3',
    ]);
    write('notes_99999.csv', ['a,b']);
    seed = buildTunisianMunicipalBudget(dir, '99999');
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const amount = (lineId: string, phase = 'APPROVED', asOf = '') =>
    seed.amounts.find((a) => a.lineId === lineId && a.phase === phase && a.asOf === asOf)?.amountMinor;

  it('refuses a malformed amount and a value with decimals, naming file, line, column and value', () => {
    expect(seed.report.refused).toContainEqual({
      record: 'depense_per_year_99999.csv:line 3 column 2017',
      reason: '"12a5" is not an integer number of millimes',
    });
    expect(seed.report.refused).toContainEqual({
      record: 'depense_per_year_99999.csv:line 4 column 2017',
      reason: '"1.2345" has decimals: amounts in these files are integer millimes',
    });
    expect(amount('tn-99999-2017-EXP-1.01101.0001.000')).toBeUndefined();
    expect(amount('tn-99999-2017-EXP-1.01101.0002.000')).toBeUndefined();
  });

  it('refuses a row without a full code', () => {
    expect(seed.report.refused).toContainEqual({
      record: 'depense_per_year_99999.csv:line 5',
      reason: 'Titre "" is not a numeric code part',
    });
  });

  it('keeps a line with an empty cell, without an amount, and a "0" as zero', () => {
    expect(seed.lines.some((l) => l.id === 'tn-99999-2018-EXP-1.01100.0001.000')).toBe(true);
    expect(amount('tn-99999-2018-EXP-1.01100.0001.000')).toBeUndefined();
    expect(amount('tn-99999-2017-EXP-1.01100.0001.000')).toBe('1000');
    expect(amount('tn-99999-2018-EXP-1.01101.0002.000')).toBe('0');
  });

  it('reads columns by header name', () => {
    expect(amount('tn-99999-2018-REV-1.01101.00.00')).toBe('700');
    expect(amount('tn-99999-2017-REV-1.01101.00.00')).toBe('600');
    expect(seed.lines.find((l) => l.id === 'tn-99999-2017-REV-1.01101.00.00')!.labelAr).toBe('معلوم');
  });

  it('merges a repeated row, refuses a conflicting one, keeps the per-year APPROVED figure', () => {
    expect(seed.report.warnings).toContainEqual({
      record: 'Depence_mensuelle_2018_99999.csv:line 3',
      message: 'repeats line 2 (1.01101.0001.000) cell for cell; merged, not counted twice',
    });
    expect(seed.report.refused).toContainEqual({
      record: 'Depence_mensuelle_2018_99999.csv:line 5',
      reason: expect.stringContaining('same code 1.01101.0002.000 as line 4'),
    });
    expect(amount('tn-99999-2018-EXP-1.01101.0001.000', 'EXECUTED', '2018-01-31')).toBe('100');
    expect(amount('tn-99999-2018-EXP-1.01101.0001.000', 'EXECUTED', '2018-02-28')).toBeUndefined();
    expect(amount('tn-99999-2018-EXP-1.01101.0002.000', 'EXECUTED', '2018-01-31')).toBe('5');
    expect(amount('tn-99999-2018-EXP-1.01101.0001.000')).toBe('2500');
    expect(seed.report.warnings).toContainEqual({
      record: 'Depence_mensuelle_2018_99999.csv:line 2 column Budget_2018',
      message: expect.stringContaining('APPROVED 2600 for 1.01101.0001.000 differs from 2500'),
    });
  });

  it('creates a line the per-year file lacks from the monthly file, and reports it', () => {
    const id = 'tn-99999-2018-EXP-2.06600.0020.000';
    expect(seed.lines.find((l) => l.id === id)!.sourceRecord).toBe('Depence_mensuelle_2018_99999.csv:line 6');
    expect(amount(id)).toBe('3');
    expect(seed.report.warnings).toContainEqual({
      record: 'Depence_mensuelle_2018_99999.csv:line 6',
      message: '2.06600.0020.000 is not in the per-year file; line created from this file',
    });
    expect(seed.report.warnings).toContainEqual({
      record: 'notes_99999.csv',
      message: 'file name not recognised; not loaded',
    });
  });

  it('refuses a code that is not five digits, and a folder without files for the code', () => {
    expect(() => buildTunisianMunicipalBudget(dir, '3401')).toThrow(/5-digit/);
    expect(() => buildTunisianMunicipalBudget(dir, '11111')).toThrow(/no depense\/recette/);
  });
});
