import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { runImport, type ImportOptions } from '@civic/common/import/pipeline';
import type { ImportReport } from '@civic/common/import/report';
import { importers as budgetsImporters } from '@civic/subgraphs/budgets/src/import';
import { municipalityCodeProblem } from '@civic/subgraphs/budgets/src/import/tn-municipal-budget';
import { monthlyAmountColumns } from '@civic/subgraphs/budgets/src/import/tn-municipal-budget/amounts';
import { parseBudgetFileName } from '@civic/subgraphs/budgets/src/import/tn-municipal-budget/file-name';
import {
  directionOfCodeShape,
  lineCode,
} from '@civic/subgraphs/budgets/src/import/tn-municipal-budget/nomenclature';

// Validation only: every run here is a dry run (the pipeline opens no database then), or a --strict run
// refused before its writing pass. What is written, and the CLI, are tested in test/e2e/import-budgets*.

const FIXTURES = join(__dirname, '..', 'fixtures', 'import', 'fiscal-data-package');
const dir = mkdtempSync(join(tmpdir(), 'civic-import-budgets-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
/** A file in its own folder (tn files take the municipality from the name). */
function file(name: string, content: string | Buffer): string {
  const folder = join(dir, `f${++n}`);
  mkdirSync(folder);
  writeFileSync(join(folder, name), content);
  return join(folder, name);
}

const noDatabase = null as unknown as DataSource;
function dry(
  kind: string,
  path: string,
  params: Record<string, string> = {},
  options: Partial<ImportOptions> = {},
) {
  const importer = budgetsImporters.find((i) => i.kind === kind)!;
  return runImport(kind, path, [{ part: importer.part(params), ds: noDatabase }], {
    strict: false,
    dryRun: true,
    prune: false,
    batchSize: 2000,
    params,
    ...options,
  });
}
const reasons = (r: ImportReport) => r.refused.map((i) => i.reason);
const at = (r: ImportReport, line: number) => r.refused.filter((i) => i.line === line);

describe('the Tunisian budget helpers the seed and the importer share', () => {
  it('accepts official municipal codes only', () => {
    expect(municipalityCodeProblem('34012')).toBeNull();
    expect(municipalityCodeProblem('33011')).toBeNull();
    expect(municipalityCodeProblem('3401')).toMatch(/5 digits/);
    expect(municipalityCodeProblem('99012')).toMatch(/no governorate/);
    expect(municipalityCodeProblem('15012')).toMatch(/no governorate/);
  });

  it('reads what a file name says', () => {
    expect(parseBudgetFileName('depense_per_year_34012.csv')).toEqual({
      kind: 'perYear',
      direction: 'EXPENDITURE',
      code: '34012',
    });
    expect(parseBudgetFileName('Recette_mensuelle_2018_34012.csv')).toEqual({
      kind: 'monthly',
      direction: 'REVENUE',
      year: 2018,
      alternate: false,
      code: '34012',
    });
    expect(parseBudgetFileName('Depence_2018_34012.csv')).toMatchObject({ kind: 'monthly', alternate: true });
    expect(parseBudgetFileName('depense_simple_34012.csv')).toEqual({ kind: 'simple', code: '34012' });
    expect(parseBudgetFileName('budget.csv')).toBeNull();
  });

  it('builds a line code, naming the column that spoils it', () => {
    const row = { Titre: '1', Article: '01100', Paragraphe: '0001', Sous_paragraphe: ' 000 ' };
    expect(lineCode(row)).toEqual({ ok: true, code: '1.01100.0001.000' });
    expect(lineCode({ ...row, Article: '' })).toMatchObject({ ok: false, column: 'Article' });
    expect(lineCode({ ...row, Paragraphe: '0x1' })).toMatchObject({
      ok: false,
      column: 'Paragraphe',
      reason: 'Paragraphe "0x1" is not a numeric code part',
    });
  });

  it('tells the direction by the shape of a code, and the phases of monthly columns', () => {
    expect(directionOfCodeShape('1.01100.0001.000')).toBe('EXPENDITURE');
    expect(directionOfCodeShape('1.01101.00.00')).toBe('REVENUE');
    expect(directionOfCodeShape('1.01101.000.00')).toBeNull();
    const misfits: string[] = [];
    expect(
      monthlyAmountColumns(
        ['Titre', 'Budget_01_2018', 'Budget_02_2018', 'Budget_2018', 'Budget_2017'],
        2018,
        (c) => misfits.push(c),
      ),
    ).toEqual([
      { column: 'Budget_01_2018', phase: 'EXECUTED', asOf: '2018-01-31' },
      { column: 'Budget_02_2018', phase: 'EXECUTED', asOf: '2018-02-28' },
      { column: 'Budget_2018', phase: 'APPROVED', asOf: '' },
    ]);
    expect(misfits).toEqual(['Budget_2017']);
  });
});

describe('tn-municipal-budget validation', () => {
  const HEADER = 'Titre,Article,Paragraphe,Sous_paragraphe,Imputation,2017,2018';
  const bad = [
    HEADER,
    '1,01100,0001,000,المنحة المخوّلة لرؤساء البلديات,960000,960000', // 2 valid
    '1,,0001,000,بلا فصل,1,2', // 3 missing code
    '1,01101,0001,000,الأجر الأساسي,12a5,190000000', // 4 malformed amount
    '1,01101,0002,000,المنح الخصوصية,70800000,1.5', // 5 decimals
    '1,01100,0001,000,المنحة المخوّلة لرؤساء البلديات,960000,960000', // 6 repeats line 2 cell for cell
    '1,01100,0001,000,المنحة المخوّلة لرؤساء البلديات,960000,960001', // 7 same code, other amount
    '1,01101,0004,"00"0,منحة,1,2', // 8 broken quoting
    '1,01101,0005,000,منحة,1,2,3', // 9 too many values
    '2,06600,0020,000,  تهيئة  ,,0', // 10 valid: empty cell, a zero, a label to trim
  ].join('\n');

  let report: ImportReport;
  beforeAll(async () => {
    report = await dry('tn-municipal-budget', file('depense_per_year_34012.csv', `${bad}\n`));
  });

  it('validates every row, loading none on a dry run', () => {
    expect(report.outcome).toBe('validated');
    expect(report.rows).toEqual({ read: 8, valid: 2, refused: 6 });
    expect(report.parts[0].scope).toBe('municipality 34012, expenditure, 2017, 2018');
  });

  it('refuses a row without a full code, naming the column', () => {
    expect(at(report, 3)).toEqual([
      expect.objectContaining({
        column: 'Article',
        value: '',
        reason: 'Article "" is not a numeric code part',
      }),
    ]);
  });

  it('refuses a malformed amount and an amount in millimes with decimals, naming the column', () => {
    expect(at(report, 4)).toEqual([
      expect.objectContaining({
        column: '2017',
        value: '12a5',
        reason: '"12a5" is not an integer number of millimes',
      }),
    ]);
    expect(at(report, 5)).toEqual([
      expect.objectContaining({
        column: '2018',
        value: '1.5',
        reason: '"1.5" has decimals: amounts in these files are integer millimes',
      }),
    ]);
  });

  it('merges a row repeated cell for cell, and refuses one with the same code but other values', () => {
    expect(report.warnings).toContainEqual(
      expect.objectContaining({ line: 6, reason: expect.stringMatching(/^repeats line 2 .* merged/) }),
    );
    expect(at(report, 7)).toEqual([
      expect.objectContaining({
        reason:
          'same code 1.01100.0001.000 as line 2 but different label or amounts; cannot tell which is right',
      }),
    ]);
  });

  it('refuses broken quoting and a row with more values than the header', () => {
    expect(at(report, 8)[0].reason).toMatch(/^broken quoting/);
    expect(at(report, 9)[0].reason).toMatch(/8 values but the header has 7 columns/);
  });

  it('refuses a value in another encoding than UTF-8', async () => {
    const latin = Buffer.concat([
      Buffer.from(`${HEADER}\n1,01100,0001,000,`),
      Buffer.from([0xe3, 0xe4, 0xcd, 0xc9]), // "منحة" in Windows-1256
      Buffer.from(',1,2\n1,01101,0001,000,الأجر,3,4\n'),
    ]);
    const r = await dry('tn-municipal-budget', file('depense_per_year_34012.csv', latin));
    expect(r.rows).toEqual({ read: 2, valid: 1, refused: 1 });
    expect(r.refused[0]).toMatchObject({
      line: 2,
      column: 'Imputation',
      reason: expect.stringMatching(/not valid UTF-8/),
    });
  });

  it('refuses an empty file, a header alone, a missing column and an unknown layout as a whole', async () => {
    const cases: [string, string, RegExp][] = [
      ['depense_per_year_34012.csv', '', /no header line/],
      ['depense_per_year_34012.csv', `${HEADER}\n`, /header but no rows/],
      [
        'depense_per_year_34012.csv',
        'Titre,Article,Paragraphe,Sous_paragraphe,2018\n1,01100,0001,000,5\n',
        /missing required column "Imputation"/,
      ],
      [
        'depense_per_year_34012.csv',
        'Titre,Article,Paragraphe,Sous_paragraphe,Imputation,Amount\n1,2,3,4,x,5\n',
        /not a Tunisian municipal budget layout/,
      ],
      ['budget.csv', `${HEADER}\n1,01100,0001,000,x,1,2\n`, /no municipal code.*--municipality/],
      ['depense_per_year_99012.csv', `${HEADER}\n1,01100,0001,000,x,1,2\n`, /no governorate/],
    ];
    for (const [name, content, reason] of cases) {
      const r = await dry('tn-municipal-budget', file(name, content));
      expect(r.outcome).toBe('refused');
      expect(reasons(r)).toEqual([expect.stringMatching(reason)]);
    }
  });

  it('takes the municipality, year and direction from options when the name does not say', async () => {
    const monthly =
      'Titre,Article,Paragraphe,Sous_paragraphe,Imputation,Budget_01_2019,Budget_2019\n1,01100,0001,000,x,5,10\n';
    const r = await dry('tn-municipal-budget', file('budget.csv', monthly), {
      municipality: '33011',
      year: '2019',
    });
    expect(r.outcome).toBe('validated');
    expect(r.parts[0].scope).toBe('municipality 33011, expenditure and revenue (by code), 2019');
    const conflict = await dry('tn-municipal-budget', file('Depence_mensuelle_2018_34012.csv', monthly), {
      year: '2019',
    });
    expect(reasons(conflict)).toEqual(['--year 2019 but the file name says 2018']);
  });

  it('refuses wrong options before reading anything', () => {
    const part = budgetsImporters.find((i) => i.kind === 'tn-municipal-budget')!.part;
    expect(() => part({ municipality: '1234' })).toThrow(
      /--municipality: "1234" is not a Tunisian municipal code/,
    );
    expect(() => part({ year: '18' })).toThrow(/--year must be a fiscal year/);
    expect(() => part({ direction: 'out' })).toThrow(/--direction must be expenditure or revenue/);
  });

  it('loads nothing with --strict when a row is refused', async () => {
    const importer = budgetsImporters.find((i) => i.kind === 'tn-municipal-budget')!;
    const r = await runImport(
      'tn-municipal-budget',
      file('depense_per_year_34012.csv', bad),
      [{ part: importer.part({}), ds: noDatabase }],
      { strict: true, dryRun: false, prune: false, batchSize: 2, params: {} },
    );
    expect(r.outcome).toBe('refused');
    expect(r.rows.refused).toBe(6);
  });
});

describe('fiscal-data-package validation', () => {
  /** A copy of the COFOG sample package with another CSV and descriptor changes. */
  function cofogPackage(
    csv: string | Buffer | null,
    change: (d: Record<string, unknown>) => void = () => {},
  ) {
    const folder = join(dir, `p${++n}`);
    cpSync(join(FIXTURES, 'cofog-sample'), folder, { recursive: true });
    const desc = JSON.parse(readFileSync(join(folder, 'datapackage.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    change(desc);
    writeFileSync(join(folder, 'datapackage.json'), JSON.stringify(desc));
    if (csv !== null) writeFileSync(join(folder, 'budget.csv'), csv);
    return folder;
  }
  const HEADER = 'cofog_code,label_en,label_fr,label_es,approved,executed';
  type Model = {
    measures: Record<string, Record<string, unknown>>;
    dimensions: Record<string, Record<string, unknown>>;
  };
  const model = (d: Record<string, unknown>) => d.model as Model;

  it('reads the real-data package: 98 lines, 87 amounts, no issue', async () => {
    const r = await dry('fiscal-data-package', join(FIXTURES, 'bou-arada-2018'));
    expect(r.outcome).toBe('validated');
    expect(r.rows).toEqual({ read: 98, valid: 98, refused: 0 });
    expect(r.warnings).toEqual([]);
    expect(r.parts[0].scope).toBe('package bou-arada-2018-approved-expenditure');
  });

  it('reads a model under "mapping" (its earlier name) as the model, saying so', async () => {
    const r = await dry(
      'fiscal-data-package',
      cofogPackage(null, (d) => {
        d.mapping = d.model;
        delete d.model;
      }),
    );
    const original = await dry('fiscal-data-package', cofogPackage(null));
    expect(r.outcome).toBe('validated');
    expect(r.rows).toEqual(original.rows);
    expect(r.rows.refused).toBe(0);
    expect(r.warnings.map((w) => w.reason)).toContainEqual(expect.stringMatching(/model is under "mapping"/));
  });

  it('reads a semicolon CSV with a byte-order mark and no dialect, saying which delimiter it found', async () => {
    // The sample's cells hold no semicolon: the same rows, separated by ";" as a French spreadsheet writes.
    const source = readFileSync(join(FIXTURES, 'cofog-sample', 'budget.csv'), 'utf8');
    expect(source).not.toContain(';');
    const lines = source.trimEnd().split('\n');
    const semicolons = `\uFEFF${lines.map((l) => l.replace(/,/g, ';')).join('\r\n')}\r\n`;
    const r = await dry(
      'fiscal-data-package',
      cofogPackage(semicolons, (d) => {
        for (const res of d.resources as Record<string, unknown>[]) delete res.dialect;
      }),
    );
    expect(r.outcome).toBe('validated');
    expect(r.rows).toEqual({ read: lines.length - 1, valid: lines.length - 1, refused: 0 });
    expect(r.warnings.map((w) => w.reason)).toContainEqual(
      expect.stringMatching(/declares no dialect; its header is separated by ";"/),
    );
    // Declared, a dialect is taken as it is: the same file read with "," is one column, refused whole.
    const declared = await dry(
      'fiscal-data-package',
      cofogPackage(semicolons, (d) => {
        for (const res of d.resources as Record<string, unknown>[]) res.dialect = { delimiter: ',' };
      }),
    );
    expect(declared.outcome).toBe('refused');
  });

  it('refuses each bad row with its resource file, line, column, value and reason', async () => {
    const csv = [
      HEADER,
      '01.1.1,Executive,Exécutif,Ejecutivo,1250000.00,1198430.55', // 2 valid
      ',Police,Police,Policía,480000.00,', // 3 missing code
      '04.5.1,Road,Route,Carretera,2 300 000,', // 4 malformed
      '07.3.1,Hospitals,Hôpitaux,Hospitales,3100000.005,', // 5 three decimals in EUR
      '01.1.1,Executive,Exécutif,Ejecutivo,1250000.00,1198430.55', // 6 valid: identical to line 2 (warned)
      '09.1.2,"Primary" education,Primaire,Primaria,1,', // 7 broken quoting
      '10.1.2,Disability,Invalidité,Incapacidad,-650000,0', // 8 valid: negative, zero
    ].join('\n');
    const folder = cofogPackage(csv);
    const r = await dry('fiscal-data-package', folder);
    expect(r.rows).toEqual({ read: 7, valid: 3, refused: 4 });
    const csvFile = join(folder, 'budget.csv');
    expect(at(r, 3)).toEqual([
      {
        file: csvFile,
        line: 3,
        column: 'cofog_code',
        value: '',
        reason: 'missing code: code is empty (the line code is code)',
      },
    ]);
    expect(at(r, 4)).toEqual([
      {
        file: csvFile,
        line: 4,
        column: 'approved',
        value: '2 300 000',
        reason: '"2 300 000" is not a decimal amount',
      },
    ]);
    expect(at(r, 5)).toEqual([
      {
        file: csvFile,
        line: 5,
        column: 'approved',
        value: '3100000.005',
        reason: '"3100000.005" has 3 decimals; EUR has 2',
      },
    ]);
    // Two identical rows can be two real payments: the second is a fact of its own, said in a warning.
    expect(at(r, 6)).toEqual([]);
    expect(r.warnings.filter((w) => w.line === 6)).toEqual([
      expect.objectContaining({
        file: csvFile,
        reason:
          'identical in every column to line 2: loaded as a fact of its own (two identical payments can be real; --dedupe merges such rows)',
      }),
    ]);
    expect(at(r, 7)[0]).toMatchObject({ file: csvFile, reason: expect.stringMatching(/^broken quoting/) });
  });

  it('refuses a value that is not UTF-8, an empty resource and a header alone', async () => {
    const latin = Buffer.concat([
      Buffer.from(`${HEADER}\n01.1.1,Executive,`),
      Buffer.from([0x45, 0x78, 0xe9, 0x63]), // "Exéc" in Latin-1
      Buffer.from(',Ejecutivo,1.00,\n03.1.0,Police,Police,Policía,2.00,\n'),
    ]);
    const r = await dry('fiscal-data-package', cofogPackage(latin));
    expect(r.rows).toEqual({ read: 2, valid: 1, refused: 1 });
    expect(r.refused[0]).toMatchObject({
      line: 2,
      column: 'label_fr',
      reason: expect.stringMatching(/not valid UTF-8/),
    });
    for (const [csv, reason] of [
      ['', /budget.csv: the file is empty/],
      [`${HEADER}\n`, /budget.csv: the file has a header but no rows/],
    ] as const) {
      const e = await dry('fiscal-data-package', cofogPackage(csv));
      expect(e.outcome).toBe('refused');
      expect(reasons(e)).toEqual([expect.stringMatching(reason)]);
    }
  });

  it('refuses the whole package for an unknown currency, naming the measure', async () => {
    const r = await dry(
      'fiscal-data-package',
      cofogPackage(null, (d) => (model(d).measures.executed.currency = 'XYZ')),
    );
    expect(r.outcome).toBe('refused');
    expect(r.refused).toEqual([
      expect.objectContaining({
        column: 'model.measures.executed.currency',
        value: 'XYZ',
        reason: 'unknown currency "XYZ": not an ISO 4217 code',
      }),
    ]);
  });

  it('refuses a package it cannot map, saying what is missing', async () => {
    const cases: [(d: Record<string, unknown>) => void, Record<string, string>, RegExp][] = [
      [(d) => delete d.organization, {}, /no organization: give --organization/],
      [(d) => (d.organization = 'Not A Key'), {}, /not a stable organization key/],
      [
        (d) => (model(d).measures.approved.phase = 'spent'),
        {},
        /phase must be proposed, approved, adjusted or executed/,
      ],
      [
        (d) => (model(d).measures.approved.direction = 'outgoing'),
        {},
        /direction must be expenditure or revenue/,
      ],
      [(d) => (model(d).measures.approved.factor = -1000), {}, /factor must be a positive number/],
      [(d) => (model(d).measures.approved.factor = 'thousands'), {}, /factor must be a positive number/],
      [(d) => delete d.fiscalPeriod, {}, /no fiscal year.*--year/],
      [
        (d) => {
          delete d.model;
          const fields = (d.resources as { schema: { fields: Record<string, string>[] } }[])[0].schema.fields;
          fields[0].columnType = 'functional-classification:cofog:code:full';
        },
        {},
        // Fiscal Data Package 1.0 is read from its columnTypes: this package types one code and no figure.
        /no field has columnType "value": the package types its fields \(Fiscal Data Package 1\.0\) but gives no figures/,
      ],
      [
        (d) => ((d.resources as { path: string }[])[0].path = '../budget.csv'),
        {},
        /inside the package folder/,
      ],
      [
        (d) => ((d.resources as { path: string }[])[0].path = 'https://example.org/b.csv'),
        {},
        /remote resources/,
      ],
      [(d) => ((d.resources as { path: string }[])[0].path = 'missing.csv'), {}, /no file .*missing.csv/],
    ];
    for (const [change, params, reason] of cases) {
      const r = await dry('fiscal-data-package', cofogPackage(null, change), params);
      expect({ outcome: r.outcome, reasons: reasons(r) }).toEqual({
        outcome: 'refused',
        reasons: [expect.stringMatching(reason)],
      });
    }
    const notJson = join(dir, `p${++n}`);
    mkdirSync(notJson);
    writeFileSync(join(notJson, 'datapackage.json'), '{ "name": ');
    expect(reasons(await dry('fiscal-data-package', notJson))).toEqual([
      expect.stringMatching(/is not JSON/),
    ]);
  });

  it('reads what a package leaves unsaid as the report explains: direction, phase, type, measures of one phase', async () => {
    const r = await dry(
      'fiscal-data-package',
      cofogPackage(null, (d) => {
        for (const m of Object.values(model(d).measures)) {
          delete m.direction;
          delete m.phase;
        }
        const { classificationType: _, ...programme } = model(d).dimensions.cofog;
        model(d).dimensions = { programme: { ...programme, dimensionType: undefined } };
      }),
    );
    expect(r.outcome).toBe('validated');
    expect(r.rows).toEqual({ read: 7, valid: 7, refused: 0 });
    expect(r.warnings.map((w) => w.reason)).toEqual([
      'measures approved, executed say no direction: taken as expenditure (give --direction revenue if they are revenue)',
      'measures approved, executed say no phase: taken as approved (the package\'s granularity is not "transactional"); give --phase to say otherwise',
      'measures approved, executed are all expenditure approved: each is its own figure, named by its measure; a summary of the phase adds them unless it is filtered by measure',
      'dimension programme (no dimensionType) is taken as ACTIVITY, as its name says',
      'the model declares no classification dimension: lines have no code, each fact is told by its dimensions',
    ]);
  });

  it('takes the direction, phase and year from options when the package does not say', async () => {
    const folder = cofogPackage(null, (d) => {
      delete model(d).measures.executed;
      delete model(d).measures.approved.direction;
      delete model(d).measures.approved.phase;
      delete d.fiscalPeriod;
    });
    const r = await dry('fiscal-data-package', folder, {
      direction: 'revenue',
      phase: 'proposed',
      year: '2024',
    });
    expect(r.outcome).toBe('validated');
    expect(r.rows.valid).toBe(7);
  });

  it('applies a measure factor exactly, refusing what the currency cannot hold', async () => {
    const folder = cofogPackage(`${HEADER}\n01.1.1,a,b,c,1.2345,\n03.1.0,a,b,c,1.234567,\n`, (d) => {
      model(d).measures.approved.factor = 1000;
      model(d).measures.approved.currency = 'EUR';
    });
    const r = await dry('fiscal-data-package', folder);
    expect(r.rows).toEqual({ read: 2, valid: 1, refused: 1 });
    expect(r.refused[0]).toMatchObject({
      line: 3,
      reason: '"1.234567" × 1000 has more decimals than EUR\'s 2',
    });
  });

  it('refuses wrong options before reading anything', () => {
    const part = budgetsImporters.find((i) => i.kind === 'fiscal-data-package')!.part;
    expect(() => part({ organization: 'Bou Arada' })).toThrow(
      /--organization must be a stable organization key/,
    );
    expect(() => part({ phase: 'spent' })).toThrow(/--phase must be/);
  });
});
