import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { DataSource } from 'typeorm';
import { prepareSubgraph } from '@civic/common/bootstrap';
import { runImport } from '@civic/common/import/pipeline';
import type { ImportIssue, ImportReport } from '@civic/common/import/report';
import { tunisiaMunicipalityId } from '@civic/formats/keys';
import { fromMinorUnits } from '@civic/common/money';
import { DATASETS_DIR, SOURCES } from '@civic/formats/sources';
import type { BudgetDirection } from '@civic/subgraphs/budgets/src/entities/Budget';
import { importers } from '@civic/subgraphs/budgets/src/import';
import { bundled } from '@civic/subgraphs/budgets/src/import/bundled';
import { MODULES, freshStorage } from '../support/system';

// The budgets seed is "import the bundled files" through the tn-municipal-budget importer. Expected values
// are computed here from the files themselves, with csv-parse and BigInt, independently of the importer; a
// few are also written out literally so a change in the data cannot pass unnoticed.

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
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

interface StoredBudget {
  id: string;
  organizationId: string;
  fiscalYear: number;
  currency: string;
  sourceDataset: string;
  sourceRecord: string;
  sourceFile: string;
}
interface StoredLine {
  id: string;
  budgetId: string;
  direction: BudgetDirection;
  code: string;
  labelAr: string | null;
  classification: string;
  sourceDataset: string;
  sourceRecord: string;
  sourceFile: string;
  sourceChecksum: string;
  sourceLine: number;
  importedAt: string;
}
interface StoredAmount {
  lineId: string;
  phase: string;
  asOf: string;
  amountMinor: string;
  sourceRecord: string;
}
/** What a budgets database holds after an import, read back with plain SQL. */
interface Stored {
  budgets: StoredBudget[];
  lines: StoredLine[];
  amounts: StoredAmount[];
}

async function stored(ds: DataSource): Promise<Stored> {
  const budgets = await ds.query(
    `SELECT id, organization_id AS organizationId, fiscal_year AS fiscalYear, currency,
            source_dataset AS sourceDataset, source_record AS sourceRecord, source_file AS sourceFile
       FROM budgets ORDER BY id`,
  );
  const lines = await ds.query(
    `SELECT id, budget_id AS budgetId, direction, code, label_ar AS labelAr, classification,
            source_dataset AS sourceDataset, source_record AS sourceRecord, source_file AS sourceFile,
            source_checksum AS sourceChecksum, source_line AS sourceLine, imported_at AS importedAt
       FROM budget_lines ORDER BY id`,
  );
  const amounts = await ds.query(
    `SELECT line_id AS lineId, phase, as_of AS asOf, CAST(amount_minor AS CHAR) AS amountMinor,
            source_record AS sourceRecord FROM budget_amounts ORDER BY line_id, phase, as_of`,
  );
  return {
    budgets: budgets.map((b: StoredBudget) => ({ ...b, fiscalYear: Number(b.fiscalYear) })),
    lines: lines.map((l: StoredLine) => ({ ...l, sourceLine: Number(l.sourceLine) })),
    amounts: amounts.map((a: StoredAmount) => ({ ...a, amountMinor: String(a.amountMinor) })),
  };
}

/** Sum of the stored amounts of one budget, direction, phase and date, in millimes. */
function total(
  s: Stored,
  year: number,
  direction: BudgetDirection,
  phase: string,
  asOf = '',
  code = '34012',
): bigint {
  const lines = new Map(s.lines.map((l) => [l.id, l]));
  let sum = 0n;
  for (const a of s.amounts) {
    const line = lines.get(a.lineId)!;
    if (
      line.budgetId === `tn-${code}-${year}` &&
      line.direction === direction &&
      a.phase === phase &&
      a.asOf === asOf
    ) {
      sum += BigInt(a.amountMinor);
    }
  }
  return sum;
}

/** A migrated, empty budgets database on SQLite. */
async function emptyBudgets(): Promise<{ ds: DataSource; close(): Promise<void> }> {
  const { storage, drop } = freshStorage('sqlite');
  const ds = await prepareSubgraph(MODULES.budgets, storage.budgets, { seed: 'never' });
  return {
    ds,
    close: async () => {
      await ds.destroy();
      await drop();
    },
  };
}

describe('the budgets seed: the bundled Bou Arada files through the importer', () => {
  let db: Awaited<ReturnType<typeof emptyBudgets>>;
  let s: Stored;
  let reports: ImportReport[];
  const perYearExp = readRows('depense_per_year_34012.csv');
  const perYearRev = readRows('recette_per_year_34012.csv');
  const monthlyExp = readRows('Depence_mensuelle_2018_34012.csv');
  const monthlyRev = readRows('Recette_mensuelle_2018_34012.csv');
  const reportOf = (file: string) => reports.find((r) => r.file === `data/datasets/tunisia/${file}`)!;

  beforeAll(async () => {
    db = await emptyBudgets();
    reports = (await MODULES.budgets.seed(db.ds)).filter((r): r is ImportReport => 'kind' in r);
    s = await stored(db.ds);
  });
  afterAll(() => db.close());

  it('imports every bundled file, each through the tn-municipal-budget importer', () => {
    expect(bundled.map((f) => f.kind)).toEqual(bundled.map(() => 'tn-municipal-budget'));
    expect(reports.map((r) => r.file)).toEqual(bundled.map((f) => `data/datasets/${f.path}`));
    for (const r of reports) {
      expect(r.outcome).toBe('loaded');
      expect(r.refused).toEqual([]);
    }
  });

  it('makes one TND budget per fiscal year for the municipality 34012, citing the file that first gave it', () => {
    expect(s.budgets.map((b) => b.id)).toEqual(YEARS.map((y) => `tn-34012-${y}`));
    for (const b of s.budgets) {
      expect(b).toMatchObject({ organizationId: tunisiaMunicipalityId('34012'), currency: 'TND' });
      expect(b.sourceDataset).toBe(SOURCES.tunisiaBudget.dataset);
    }
    // The per-year files are imported first: every budget, 2018's included, comes from them.
    for (const y of YEARS)
      expect(s.budgets.find((b) => b.fiscalYear === Number(y))!.sourceRecord).toBe(
        'depense_per_year_34012.csv',
      );
  });

  it('creates every listed line in every year, once, with the code as written', () => {
    expect(perYearExp).toHaveLength(98);
    expect(perYearRev).toHaveLength(43);
    expect(s.lines).toHaveLength((perYearExp.length + perYearRev.length) * YEARS.length);
    expect(new Set(s.lines.map((l) => l.id)).size).toBe(s.lines.length);
    const line = s.lines.find((l) => l.id === 'tn-34012-2018-EXP-1.01100.0001.000')!;
    expect(line).toMatchObject({
      budgetId: 'tn-34012-2018',
      direction: 'EXPENDITURE',
      code: '1.01100.0001.000',
      classification: 'tn-municipal-budget-nomenclature',
      sourceRecord: 'depense_per_year_34012.csv:line 2',
    });
    expect(s.lines.find((l) => l.id === 'tn-34012-2013-REV-1.01101.00.00')!.code).toBe('1.01101.00.00');
  });

  it('records the bundled file (relative to the repository), its checksum and the line on every seeded line', () => {
    const file = 'data/datasets/tunisia/depense_per_year_34012.csv';
    const text = readFileSync(join(TUNISIA, 'depense_per_year_34012.csv'), 'utf8');
    const lineNo = text.split('\n').findIndex((l) => l.startsWith('1,01101,0001,000,')) + 1;
    expect(lineNo).toBeGreaterThan(1);
    expect(s.lines.find((l) => l.id === 'tn-34012-2016-EXP-1.01101.0001.000')).toMatchObject({
      sourceDataset: SOURCES.tunisiaBudget.dataset,
      sourceRecord: `depense_per_year_34012.csv:line ${lineNo}`,
      sourceFile: file,
      sourceChecksum: sha256(join(TUNISIA, 'depense_per_year_34012.csv')),
      sourceLine: lineNo,
      importedAt: reportOf('depense_per_year_34012.csv').startedAt,
    });
    for (const l of s.lines) {
      expect(l.sourceFile).toMatch(/^data\/datasets\/tunisia\/(depense|recette)_per_year_34012\.csv$/);
      expect(l.sourceChecksum).toMatch(/^[0-9a-f]{64}$/);
      expect(l.sourceLine).toBeGreaterThan(1);
      expect(l.sourceRecord).toBe(`${l.sourceFile.split('/').pop()}:line ${l.sourceLine}`);
    }
  });

  it('keeps the Arabic label exactly as written', () => {
    const raw = perYearExp.find((r) => codeOf(r) === '1.01101.0001.000')!.Imputation;
    expect(raw).toBe('الأجر الأساسي والتدرّج');
    const line = s.lines.find((l) => l.id === 'tn-34012-2016-EXP-1.01101.0001.000')!;
    expect(line.labelAr).toBe(raw);
    // Only the spaces at either end go; the inner double space stays.
    const spaced = s.lines.find((l) => l.id === 'tn-34012-2018-EXP-1.02201.0006.001')!;
    expect(spaced.labelAr).toBe('شراء  الوقود لوسائل النقل');
  });

  it('loads the per-year amounts as APPROVED, exact to the millime', () => {
    for (const [direction, rows] of [
      ['EXPENDITURE', perYearExp],
      ['REVENUE', perYearRev],
    ] as const) {
      for (const y of YEARS) expect(total(s, Number(y), direction, 'APPROVED')).toBe(sumColumn(rows, y));
    }
    expect(fromMinorUnits(total(s, 2018, 'EXPENDITURE', 'APPROVED'), 'TND')).toBe('1437803.283');
    expect(fromMinorUnits(total(s, 2018, 'REVENUE', 'APPROVED'), 'TND')).toBe('1469840.234');
    expect(fromMinorUnits(total(s, 2013, 'REVENUE', 'APPROVED'), 'TND')).toBe('1081509.444');
    const cells = (rows: Row[]) => rows.flatMap((r) => YEARS.map((y) => r[y])).filter((v) => v !== '').length;
    const approved = s.amounts.filter((a) => a.phase === 'APPROVED');
    expect(approved).toHaveLength(cells(perYearExp) + cells(perYearRev));
    for (const a of approved) expect(a.sourceRecord).toMatch(/^(depense|recette)_per_year_34012\.csv:line /);
    for (const a of s.amounts) expect(a.amountMinor).toMatch(/^-?\d+$/);
  });

  it('does not count the monthly file twice: its repeated rows and its full-year column add nothing', () => {
    // The monthly full-year column sums to far more than the approved budget because rows repeat...
    expect(sumColumn(monthlyExp, 'Budget_2018')).toBe(1973349268n);
    // ...and once repeats are merged it matches the per-year figure line by line.
    const perYear2018 = new Map(perYearExp.map((r) => [codeOf(r), r['2018']]));
    for (const r of distinctRows(monthlyExp)) expect(perYear2018.get(codeOf(r))).toBe(r.Budget_2018);
    expect(total(s, 2018, 'EXPENDITURE', 'APPROVED')).toBe(1437803283n);
    const repeats = monthlyExp.length - distinctRows(monthlyExp).length;
    const merged = reportOf('Depence_mensuelle_2018_34012.csv').warnings.filter((w) =>
      w.reason.includes('merged'),
    );
    expect(merged).toHaveLength(repeats);
    // The line the monthly file omits has its approved amount and no execution figure.
    const omitted = 'tn-34012-2018-EXP-1.02201.0080.020';
    expect(distinctRows(monthlyExp).some((r) => codeOf(r) === '1.02201.0080.020')).toBe(false);
    expect(s.amounts.filter((a) => a.lineId === omitted).map((a) => [a.phase, a.amountMinor])).toEqual([
      ['APPROVED', '48051500'],
    ]);
  });

  it('loads the cumulative execution at the end of January and February as EXECUTED', () => {
    const distinct = distinctRows(monthlyExp);
    expect(total(s, 2018, 'EXPENDITURE', 'EXECUTED', '2018-01-31')).toBe(
      sumColumn(distinct, 'Budget_01_2018'),
    );
    expect(total(s, 2018, 'EXPENDITURE', 'EXECUTED', '2018-02-28')).toBe(
      sumColumn(distinct, 'Budget_02_2018'),
    );
    expect(fromMinorUnits(total(s, 2018, 'EXPENDITURE', 'EXECUTED', '2018-01-31'), 'TND')).toBe('39199.239');
    expect(fromMinorUnits(total(s, 2018, 'EXPENDITURE', 'EXECUTED', '2018-02-28'), 'TND')).toBe('78463.548');
    const filled = (c: string) => distinct.filter((r) => r[c] !== '').length;
    const executed = s.amounts.filter((a) => a.phase === 'EXECUTED');
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
      s.amounts.filter((a) => a.lineId === `tn-34012-${year}-REV-1.01201.00.00`);
    expect(s.lines.some((l) => l.id === 'tn-34012-2015-REV-1.01201.00.00')).toBe(true);
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

  it('leaves out Depence_2018 and depense_simple: copies of bundled files that would add nothing', () => {
    expect(bundled.map((f) => f.path)).not.toContain('tunisia/Depence_2018_34012.csv');
    expect(bundled.map((f) => f.path)).not.toContain('tunisia/depense_simple_34012.csv');
    // Depence_2018: the monthly file, two columns swapped; by header name, the same rows.
    const byName = (rows: Row[]) =>
      rows
        .map((r) =>
          JSON.stringify(
            Object.keys(r)
              .sort()
              .map((k) => r[k]),
          ),
        )
        .sort();
    expect(byName(readRows('Depence_2018_34012.csv'))).toEqual(byName(monthlyExp));
    // depense_simple: both per-year files in long format, cell for cell.
    const simple = readRows('depense_simple_34012.csv');
    expect(simple).toHaveLength((98 + 43) * YEARS.length);
    const long = new Map(simple.map((r) => [`${codeOf(r)}|${r.Year}`, r.Budget]));
    for (const r of [...perYearExp, ...perYearRev])
      for (const y of YEARS) expect(long.get(`${codeOf(r)}|${y}`)).toBe(r[y]);
    expect(s.amounts.some((a) => a.sourceRecord.startsWith('Depence_2018'))).toBe(false);
    expect(s.amounts.some((a) => a.sourceRecord.startsWith('depense_simple'))).toBe(false);
  });
});

describe('tn-municipal-budget over synthetic files, the monthly file first, then the per-year file', () => {
  let dir: string;
  let db: Awaited<ReturnType<typeof emptyBudgets>>;
  let s: Stored;
  const reports = new Map<string, ImportReport>();
  const importer = importers.find((i) => i.kind === 'tn-municipal-budget')!;
  const write = (name: string, lines: string[]) => {
    writeFileSync(join(dir, name), lines.join('\r\n') + '\r\n');
    return join(dir, name);
  };
  const importFile = async (name: string, params: Record<string, string> = {}) => {
    const r = await runImport(
      'tn-municipal-budget',
      join(dir, name),
      [{ part: importer.part(params), ds: db.ds }],
      {
        cite: name,
        strict: false,
        dryRun: false,
        prune: false,
        batchSize: 2000,
        params,
      },
    );
    reports.set(name, r);
    return r;
  };
  const issue = (file: string, i: Partial<ImportIssue>) => expect.objectContaining({ file, ...i });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tn-budget-'));
    db = await emptyBudgets();
    write('Depence_mensuelle_2018_34999.csv', [
      'Titre,Article,Paragraphe,Sous_paragraphe,Imputation,Budget_01_2018,Budget_02_2018,Budget_2018',
      '1,01101,0001,000, الأجر ,100,,2600',
      '1,01101,0001,000, الأجر ,100,,2600',
      '1,01101,0002,000,منح,5,9,0',
      '1,01101,0002,000,منح,6,9,0',
      '2,06600,0020,000,دراسات,1,2,3',
    ]);
    write('depense_per_year_34999.csv', [
      'Titre,Article,Paragraphe,Sous_paragraphe,Imputation,2017,2018',
      '1,01100,0001,000,منحة,1000,',
      '1,01101,0001,000, الأجر ,1200,2500',
      '1,01101,0002,000,منح,700,0',
      ',01101,0003,000,بلا رمز,5,5',
      '1,01101,0004,000,أجر,12a5,25',
      '1,01101,0005,000,منح,1.2345,0',
    ]);
    // Columns in another order: read by name.
    write('recette_per_year_34999.csv', [
      '2018,Imputation,Titre,Article,Paragraphe,Sous_paragraphe,2017',
      '700,معلوم,1,01101,00,00,600',
    ]);
    write('notes_34999.csv', ['a,b', '1,2']);
    for (const f of [
      'Depence_mensuelle_2018_34999.csv',
      'depense_per_year_34999.csv',
      'recette_per_year_34999.csv',
    ])
      await importFile(f);
    s = await stored(db.ds);
  });

  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const amount = (lineId: string, phase = 'APPROVED', asOf = '') =>
    s.amounts.find((a) => a.lineId === lineId && a.phase === phase && a.asOf === asOf)?.amountMinor;

  it('refuses a malformed amount and a value with decimals, naming file, line, column and value', () => {
    const r = reports.get('depense_per_year_34999.csv')!;
    expect(r.refused).toContainEqual(
      issue('depense_per_year_34999.csv', {
        line: 6,
        column: '2017',
        value: '12a5',
        reason: '"12a5" is not an integer number of millimes',
      }),
    );
    expect(r.refused).toContainEqual(
      issue('depense_per_year_34999.csv', {
        line: 7,
        column: '2017',
        value: '1.2345',
        reason: '"1.2345" has decimals: amounts in these files are integer millimes',
      }),
    );
    // The whole row is refused: a line is never written with some of its amounts.
    expect(s.lines.some((l) => l.code === '1.01101.0004.000' || l.code === '1.01101.0005.000')).toBe(false);
  });

  it('refuses a row without a full code', () => {
    expect(reports.get('depense_per_year_34999.csv')!.refused).toContainEqual(
      issue('depense_per_year_34999.csv', {
        line: 5,
        column: 'Titre',
        reason: 'Titre "" is not a numeric code part',
      }),
    );
  });

  it('keeps a line with an empty cell, without an amount, and a "0" as zero', () => {
    expect(s.lines.some((l) => l.id === 'tn-34999-2018-EXP-1.01100.0001.000')).toBe(true);
    expect(amount('tn-34999-2018-EXP-1.01100.0001.000')).toBeUndefined();
    expect(amount('tn-34999-2017-EXP-1.01100.0001.000')).toBe('1000');
    expect(amount('tn-34999-2018-EXP-1.01101.0002.000')).toBe('0');
  });

  it('reads columns by header name', () => {
    expect(amount('tn-34999-2018-REV-1.01101.00.00')).toBe('700');
    expect(amount('tn-34999-2017-REV-1.01101.00.00')).toBe('600');
    expect(s.lines.find((l) => l.id === 'tn-34999-2017-REV-1.01101.00.00')!.labelAr).toBe('معلوم');
  });

  it('merges a repeated row, refuses a conflicting one, keeps the per-year APPROVED figure', () => {
    const monthly = reports.get('Depence_mensuelle_2018_34999.csv')!;
    expect(monthly.warnings).toContainEqual(
      issue('Depence_mensuelle_2018_34999.csv', {
        line: 3,
        reason: 'repeats line 2 (1.01101.0001.000) cell for cell; merged, not counted twice',
      }),
    );
    expect(monthly.refused).toContainEqual(
      issue('Depence_mensuelle_2018_34999.csv', {
        line: 5,
        reason: expect.stringContaining('same code 1.01101.0002.000 as line 4'),
      }),
    );
    expect(amount('tn-34999-2018-EXP-1.01101.0001.000', 'EXECUTED', '2018-01-31')).toBe('100');
    expect(amount('tn-34999-2018-EXP-1.01101.0001.000', 'EXECUTED', '2018-02-28')).toBeUndefined();
    expect(amount('tn-34999-2018-EXP-1.01101.0002.000', 'EXECUTED', '2018-01-31')).toBe('5');
    // The monthly full-year figure (2600) gives way to the per-year file's, imported after it.
    expect(amount('tn-34999-2018-EXP-1.01101.0001.000')).toBe('2500');
  });

  it('creates a line the per-year file lacks from the monthly file, and the per-year import reports it', () => {
    const id = 'tn-34999-2018-EXP-2.06600.0020.000';
    expect(s.lines.find((l) => l.id === id)!.sourceRecord).toBe('Depence_mensuelle_2018_34999.csv:line 6');
    expect(amount(id)).toBe('3');
    expect(reports.get('depense_per_year_34999.csv')!.parts[0].missing).toEqual({ count: 1, sample: [id] });
  });

  it('refuses a file of no budget layout, a code that is not five digits, and a file name without a code', async () => {
    const notes = await importFile('notes_34999.csv');
    expect(notes.outcome).toBe('refused');
    expect(notes.error ?? notes.refused[0]?.reason).toMatch(/not a Tunisian municipal budget layout/);
    expect(() => importer.part({ municipality: '3401' })).toThrow(/5 digits/);
    write('depense_per_year.csv', [
      'Titre,Article,Paragraphe,Sous_paragraphe,Imputation,2018',
      '1,01100,0001,000,منحة,1',
    ]);
    const nameless = await importFile('depense_per_year.csv');
    expect(nameless.outcome).toBe('refused');
    expect(nameless.error ?? nameless.refused[0]?.reason).toMatch(/no municipal code/);
  });
});
