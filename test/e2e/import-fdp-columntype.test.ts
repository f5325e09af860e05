import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { DataSource } from 'typeorm';
import type { ImportOptions } from '@civic/common/import/pipeline';
import type { ImportReport } from '@civic/common/import/report';
import { importers as budgetsImporters } from '@civic/subgraphs/budgets/src/import';
import { emptyBudgetsDb, storedCode, storedFacts } from '../support/fdp';
import { importWith } from '../support/imports';
import { BACKENDS } from '../support/system';

/*
 * A Fiscal Data Package in its 1.0 form: no model, a `columnType` (OpenSpending's os-types) on every field it
 * maps. The package (test/fixtures/import/fiscal-data-package/fdp-1.0) is loaded as facts; what it must give
 * is computed here from its files, with csv-parse and BigInt and the fixture's own reading of the types,
 * never through the importer's code: the rows, the refused ones, every total per value field and budget, the
 * dimension rows; then a second import must change nothing. Variants of it, written to a temporary folder,
 * check what is refused or warned (dry runs) and that a package with a model as well is read by its model.
 */

const FIXTURE = join(__dirname, '..', 'fixtures', 'import', 'fiscal-data-package', 'fdp-1.0');
const PKG = 'fiscal-data-package';
const SLUG = 'commune-exemple-budget-fdp-1-0';
const CSV = 'budget.csv';

type Json = Record<string, any>;
type Row = Record<string, string>;

const descriptor = (): Json => JSON.parse(readFileSync(join(FIXTURE, 'datapackage.json'), 'utf8')) as Json;

/** The dimensions the fixture's columnTypes describe, each with its code columns (top level first). */
const DIMENSIONS: Record<string, string[]> = {
  date: ['annee'],
  'administrative-classification': ['dir_code', 'service_code'],
  'functional-classification': ['cofog_division', 'cofog_groupe'],
  'economic-classification': ['nature'],
  activity: ['programme'],
  geo: ['quartier'],
  'fin-source': ['financement'],
  arrondissement: ['arrondissement'],
};

/** The rows refused on purpose, by line, with the column and reason. */
const REFUSED = [
  { line: 9, column: 'credit_ouvert', reason: /^"12,5" is not a decimal amount$/ },
  { line: 15, column: 'cofog_groupe', reason: /^missing code: cofog_groupe is empty/ },
  { line: 20, column: 'credit_ouvert', reason: /^"0\.0001234" × 1000 has more decimals than MAD's 2$/ },
  { line: 28, column: 'annee', reason: /^"2025-13" is not a fiscal year/ },
];

/** ISO 4217 minor-unit digits of the currencies used here. */
const DIGITS: Record<string, number> = { MAD: 2 };

/** The value fields as FDP 1.0 gives them: the field's currency, else the package's; its factor. */
function valueFields(desc: Json) {
  return (desc.resources[0].schema.fields as Json[])
    .filter((f) => f.columnType === 'value')
    .map((f) => ({
      source: String(f.name),
      currency: String(f.currency ?? desc.currency),
      factor: f.factor ?? 1,
    }));
}

/** A cell in minor units times an integer factor; 'none' for no figure. Loaded rows only have exact ones. */
function minorUnits(cell: string, m: { currency: string; factor: number }): bigint | 'none' {
  const v = cell.trim();
  if (v === '' || v === '-') return 'none';
  const match = /^(-)?(\d+)(?:\.(\d+))?$/.exec(v);
  if (!match) throw new Error(`not a figure: ${v}`);
  const [, sign, whole, frac = ''] = match;
  const num = BigInt(whole + frac) * BigInt(m.factor) * 10n ** BigInt(DIGITS[m.currency]);
  const den = 10n ** BigInt(frac.length);
  if (num % den !== 0n) throw new Error(`not exact: ${v}`);
  return sign ? -(num / den) : num / den;
}

/** What the package must give, from its files. */
function expected() {
  const desc = descriptor();
  const records = (parse(readFileSync(join(FIXTURE, CSV), 'utf8'), { columns: true }) as Row[]).map(
    (row, i) => ({
      line: i + 2,
      row,
    }),
  );
  const refused = REFUSED.map((r) => r.line);
  const loaded = records.filter((r) => !refused.includes(r.line));
  const totals: Record<string, string> = {};
  for (const r of loaded)
    for (const m of valueFields(desc)) {
      const v = minorUnits(r.row[m.source], m);
      if (v === 'none') continue;
      const k = `${m.source} fdp-${SLUG}-${r.row.annee}`;
      totals[k] = String(BigInt(totals[k] ?? '0') + v);
    }
  const dimensionRows = loaded.reduce(
    (n, r) => n + Object.values(DIMENSIONS).filter((cols) => cols.some((c) => r.row[c].trim() !== '')).length,
    0,
  );
  return { records, loaded, totals, dimensionRows };
}

const openDb = emptyBudgetsDb;

const run = (ds: DataSource, dir: string, options: Partial<ImportOptions> = {}) =>
  importWith(budgetsImporters, PKG, ds, dir, options);

const tmp = mkdtempSync(join(tmpdir(), 'civic-fdp-columntype-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let variants = 0;
/** The fixture with its descriptor changed, in a folder of its own. */
function variant(change: (d: Json) => void): string {
  const dir = join(tmp, `v${++variants}`);
  mkdirSync(dir);
  copyFileSync(join(FIXTURE, CSV), join(dir, CSV));
  const desc = descriptor();
  change(desc);
  writeFileSync(join(dir, 'datapackage.json'), JSON.stringify(desc, null, 2));
  return dir;
}
const fieldsOf = (d: Json) => d.resources[0].schema.fields as Json[];
const field = (d: Json, name: string) => fieldsOf(d).find((f) => f.name === name)!;
const warned = (report: ImportReport, re: RegExp) => report.warnings.filter((w) => re.test(w.reason));

const stored = storedFacts;
const code = storedCode;

/** The dimension rows of the line a row of the file wrote. */
async function dimensionsOfRow(ds: DataSource, slug: string, line: number) {
  const [l] = await ds.query('SELECT id FROM budget_lines WHERE budget_id LIKE ? AND source_record = ?', [
    `fdp-${slug}-%`,
    `${CSV}:line ${line}`,
  ]);
  const rows: { dimension: string; type: string; scheme: string; code: string; depth: number; l1: string }[] =
    await ds.query(
      `SELECT dimension, type, scheme, code, depth, level_1 AS l1
         FROM budget_line_dimensions WHERE line_id = ? ORDER BY position`,
      [l.id],
    );
  return rows.map((r) => ({ ...r, depth: Number(r.depth) }));
}

describe.each(BACKENDS)('a Fiscal Data Package 1.0 (columnType, no model) on %s', (backend) => {
  let db: Awaited<ReturnType<typeof openDb>>;
  let first: ImportReport;
  let again: ImportReport;
  const want = expected();
  beforeAll(async () => {
    db = await openDb(backend);
    first = await run(db.ds, FIXTURE);
    again = await run(db.ds, FIXTURE);
  }, 120_000);
  afterAll(() => db?.close());

  it('loads every row or refuses it, naming its line and why', () => {
    expect(first.error).toBeNull();
    expect(first.rows.read).toBe(want.records.length);
    expect(first.rows.refused).toBe(REFUSED.length);
    expect(first.rows.valid + first.rows.refused).toBe(want.records.length);
    expect(first.outcome).toBe('loaded-with-refusals');
    expect([...new Set(first.refused.map((i) => i.line))].sort((a, b) => a! - b!)).toEqual(
      REFUSED.map((r) => r.line),
    );
    for (const x of REFUSED)
      expect(first.refused).toContainEqual(
        expect.objectContaining({
          file: join(FIXTURE, CSV),
          line: x.line,
          column: x.column,
          reason: expect.stringMatching(x.reason),
        }),
      );
  });

  it('says how it read the columnTypes, and what it read otherwise than the taxonomy says', () => {
    expect(
      warned(
        first,
        /^the package types its fields with "columnType" \(Fiscal Data Package 1\.0\): read as the measures credit_ouvert, realise and the dimensions date \(PERIOD: annee\), administrative-classification \(ADMINISTRATIVE: dir_code > service_code\), functional-classification \(FUNCTIONAL: cofog_division > cofog_groupe\), economic-classification \(ECONOMIC: nature\), activity \(ACTIVITY: programme\), geo \(GEOGRAPHY: quartier\), fin-source \(OTHER: financement\), arrondissement \(OTHER: arrondissement\)$/,
      ),
    ).toHaveLength(1);
    // A custom type extending a label type (the spec's implicit typing) and one extending nothing.
    expect(
      warned(
        first,
        /^field dir_libelle: columnType "administrative-classification:generic:level1:label:fr" is not in the taxonomy: read as "administrative-classification:generic:level1:label"/,
      ),
    ).toHaveLength(1);
    expect(
      warned(
        first,
        /^field arrondissement: columnType "x-decoupage:arrondissement" is not in the taxonomy: a dimension of its own, of type OTHER/,
      ),
    ).toHaveLength(1);
    expect(
      warned(
        first,
        /^field nature_description .* describes codes no label field names: read as their label$/,
      ),
    ).toHaveLength(1);
    expect(warned(first, /^"-" marks a cell with no figure/).map((w) => w.line)).toEqual([14]);
  });

  it("stores every figure: each total per value field and budget is the sum of the file's cells", async () => {
    const s = await stored(db.ds, SLUG);
    expect(Object.keys(want.totals).sort()).toEqual([
      `credit_ouvert fdp-${SLUG}-2024`,
      `credit_ouvert fdp-${SLUG}-2025`,
      `realise fdp-${SLUG}-2024`,
    ]);
    expect(s.totals).toEqual(want.totals);
    expect(s.lines).toBe(want.loaded.length);
    expect(s.dims).toBe(want.dimensionRows);
    const budgets: { id: string; y: number; c: string; o: string }[] = await db.ds.query(
      'SELECT id, fiscal_year AS y, currency AS c, organization_id AS o FROM budgets WHERE id LIKE ? ORDER BY id',
      [`fdp-${SLUG}-%`],
    );
    expect(budgets.map((b) => [b.id, Number(b.y), b.c, b.o])).toEqual([
      [`fdp-${SLUG}-2024`, 2024, 'MAD', 'example-fdp-municipality'],
      [`fdp-${SLUG}-2025`, 2025, 'MAD', 'example-fdp-municipality'],
    ]);
    // 18250.5 thousand dirhams (factor 1000, currency from the package) approved, 17980400.25 dirhams executed.
    const line2: { p: string; a: string; c: string }[] = await db.ds.query(
      `SELECT a.phase AS p, CAST(a.amount_minor AS CHAR) AS a, a.source_column AS c FROM budget_amounts a
         JOIN budget_lines l ON l.id = a.line_id WHERE l.source_record = ? AND l.budget_id LIKE ? ORDER BY a.phase`,
      [`${CSV}:line 2`, `fdp-${SLUG}-%`],
    );
    expect(line2.map((x) => [x.p, String(x.a), x.c])).toEqual([
      ['APPROVED', '1825050000', 'credit_ouvert'],
      ['EXECUTED', '1798040025', 'realise'],
    ]);
  });

  it('stores the dimensions, codes and labels of its facts', async () => {
    const ds = db.ds;
    expect(await dimensionsOfRow(ds, SLUG, 2)).toEqual([
      { dimension: 'date', type: 'PERIOD', scheme: `fdp:${SLUG}:date`, code: '2024', depth: 1, l1: '2024' },
      {
        dimension: 'administrative-classification',
        type: 'ADMINISTRATIVE',
        scheme: `fdp:${SLUG}:administrative-classification`,
        code: 'D1-01',
        depth: 2,
        l1: 'D1',
      },
      {
        dimension: 'functional-classification',
        type: 'FUNCTIONAL',
        scheme: 'cofog',
        code: '01.3',
        depth: 2,
        l1: '01',
      },
      {
        dimension: 'economic-classification',
        type: 'ECONOMIC',
        scheme: `fdp:${SLUG}:economic-classification`,
        code: '10',
        depth: 1,
        l1: '10',
      },
      {
        dimension: 'activity',
        type: 'ACTIVITY',
        scheme: `fdp:${SLUG}:activity`,
        code: 'P01',
        depth: 1,
        l1: 'P01',
      },
      {
        dimension: 'fin-source',
        type: 'OTHER',
        scheme: `fdp:${SLUG}:fin-source`,
        code: 'FP',
        depth: 1,
        l1: 'FP',
      },
    ]);
    expect((await dimensionsOfRow(ds, SLUG, 4)).map((d) => [d.dimension, d.type, d.code])).toEqual([
      ['date', 'PERIOD', '2024'],
      ['administrative-classification', 'ADMINISTRATIVE', 'D2-01'],
      ['functional-classification', 'FUNCTIONAL', '06.4'],
      ['economic-classification', 'ECONOMIC', '20'],
      ['activity', 'ACTIVITY', 'P02'],
      ['geo', 'GEOGRAPHY', 'Q-NORD'],
      ['fin-source', 'OTHER', 'TVA'],
      ['arrondissement', 'OTHER', 'A1'],
    ]);
    // A direction without a service codes the fact to the direction.
    expect((await dimensionsOfRow(ds, SLUG, 13))[1]).toMatchObject({ code: 'D3', depth: 1 });
    const admin = `fdp:${SLUG}:administrative-classification`;
    expect(await code(ds, admin, 'D1')).toMatchObject({
      type: 'ADMINISTRATIVE',
      depth: 1,
      parent: null,
      fr: 'Direction des affaires administratives et financières',
      ar: 'مديرية الشؤون الإدارية والمالية',
    });
    expect(await code(ds, admin, 'D1-01')).toMatchObject({
      depth: 2,
      parent: 'D1',
      fr: 'Service des ressources humaines',
      ar: null,
    });
    expect(await code(ds, 'cofog', '01.3')).toMatchObject({
      type: 'FUNCTIONAL',
      depth: 2,
      parent: '01',
      fr: 'Services généraux',
      ar: 'الخدمات العامة',
      label: null,
    });
    expect(await code(ds, 'cofog', '05')).toMatchObject({
      fr: "Protection de l'environnement",
      ar: 'حماية البيئة',
    });
    // A description is no language's label: kept as the code's label, never filed under a guessed language.
    expect(await code(ds, `fdp:${SLUG}:economic-classification`, '30')).toMatchObject({
      type: 'ECONOMIC',
      label: "Dépenses d'investissement",
      fr: null,
    });
    const [l] = await ds.query(
      'SELECT code, classification AS c, label_fr AS fr, label_ar AS ar, label_en AS en FROM budget_lines WHERE source_record = ? AND budget_id LIKE ?',
      [`${CSV}:line 3`, `fdp-${SLUG}-%`],
    );
    expect(l).toEqual({
      code: '01.1',
      c: 'functional-classification',
      fr: 'Organes exécutifs et législatifs, affaires financières et fiscales, affaires étrangères',
      ar: 'الأجهزة التنفيذية والتشريعية والشؤون المالية والضريبية والشؤون الخارجية',
      en: null,
    });
    // The untyped column is not read: no dimension, no label holds it.
    const [{ n }] = await ds.query("SELECT COUNT(*) AS n FROM budget_codes WHERE label LIKE 'Traitements%'");
    expect(Number(n)).toBe(0);
  });

  it('changes nothing when imported again', () => {
    expect(again.rows).toEqual(first.rows);
    for (const [table, t] of Object.entries(again.parts[0].tables))
      expect({ table, ...t, unchanged: undefined }).toEqual({
        table,
        inserted: 0,
        updated: 0,
        deleted: 0,
        unchanged: undefined,
      });
  });

  it('reads the model, not the columnTypes, of a package that has both, and says so', async () => {
    const dir = variant((d) => {
      d.name = 'fdp-1-0-with-model';
      d.model = {
        measures: {
          approved: {
            source: 'credit_ouvert',
            currency: 'MAD',
            factor: 1000,
            direction: 'expenditure',
            phase: 'approved',
          },
        },
        dimensions: {
          annee: { dimensionType: 'datetime', attributes: { annee: { source: 'annee' } } },
          cofog: {
            dimensionType: 'classification',
            classificationType: 'functional',
            attributes: {
              division: { source: 'cofog_division' },
              group: { source: 'cofog_groupe', parent: 'division' },
            },
            primaryKey: ['division', 'group'],
          },
        },
      };
    });
    const r = await run(db.ds, dir);
    expect(r.rows).toEqual({ read: 28, valid: 24, refused: 4 });
    expect(
      warned(
        r,
        /^the package has both a "model" \(Fiscal Data Package 0\.3\) and fields typed by "columnType" \(1\.0\): the model is read, the columnTypes are not$/,
      ),
    ).toHaveLength(1);
    expect(warned(r, /read as the measures/)).toHaveLength(0);
    expect((await dimensionsOfRow(db.ds, 'fdp-1-0-with-model', 2)).map((d) => [d.dimension, d.code])).toEqual(
      [
        ['annee', '2024'],
        ['cofog', '01.3'],
      ],
    );
    const [{ n }] = await db.ds.query(
      "SELECT COUNT(*) AS n FROM budget_amounts a JOIN budget_lines l ON l.id = a.line_id WHERE l.budget_id LIKE 'fdp-fdp-1-0-with-model-%' AND a.source_column = 'realise'",
    );
    expect(Number(n)).toBe(0);
  });
});

describe('packages typed by columnType: what is refused or warned', () => {
  const noDatabase = null as unknown as DataSource;
  const dry = (dir: string) => run(noDatabase, dir, { dryRun: true });

  it('refuses the package, naming the field at fault, when its types cannot make a model', async () => {
    const cases: [(d: Json) => void, Json][] = [
      [
        (d) => (field(d, 'service_code').columnType = 'administrative-classification:generic:level1:code'),
        {
          column: 'resources[0].schema.fields[4].columnType',
          value: 'administrative-classification:generic:level1:code',
          reason:
            'fields "dir_code" and "service_code" are both of columnType "administrative-classification:generic:level1:code": a code is given by one field (type its labels with the matching label type)',
        },
      ],
      [
        (d) => {
          delete d.currency;
          delete field(d, 'realise').currency;
        },
        {
          column: 'resources[0].schema.fields[19].currency',
          value: null,
          reason: 'a measure needs a currency (ISO 4217)',
        },
      ],
      [
        (d) => (field(d, 'realise').currency = 'DHS'),
        {
          column: 'resources[0].schema.fields[20].currency',
          value: 'DHS',
          reason: 'unknown currency "DHS": not an ISO 4217 code',
        },
      ],
      [
        (d) => (field(d, 'credit_ouvert').phase = 'voted'),
        {
          column: 'resources[0].schema.fields[19].phase',
          value: 'voted',
          reason: 'phase must be proposed, approved, adjusted or executed',
        },
      ],
      [
        (d) => {
          for (const f of fieldsOf(d)) if (f.columnType === 'value') delete f.columnType;
        },
        {
          column: 'resources',
          value: null,
          reason:
            'no field has columnType "value": the package types its fields (Fiscal Data Package 1.0) but gives no figures',
        },
      ],
      [
        (d) => {
          field(d, 'credit_ouvert').normalize = { Phase: 'approved' };
          d.resources[0].schema.extraFields = [
            { name: 'Phase', type: 'string', columnType: 'phase:id' },
            { name: 'Amount', type: 'number', columnType: 'value', normalizationTarget: true },
          ];
        },
        {
          column: 'resources[0].schema.fields[19].normalize',
          value: 'credit_ouvert',
          reason: expect.stringMatching(/^measures unpivoted by "normalize" \(FDP 1\.0\) are not read/),
        },
      ],
    ];
    for (const [change, issue] of cases) {
      const r = await dry(variant(change));
      expect({ outcome: r.outcome, refused: r.refused }).toEqual({
        outcome: 'refused',
        refused: [expect.objectContaining(issue)],
      });
    }
  });

  it('reads types the package defines itself, a constant extra field, and a label given without its code', async () => {
    const r = await dry(
      variant((d) => {
        // The spec's explicit typing: a ColumnType definition package inline, under the spec's property names.
        // x-decoupage:arrondissement, not defined, then extends x-decoupage (the spec's implicit typing).
        d.columnTypes = [
          'https://specs.frictionlessdata.io/taxonomies/fiscal/budgets.json',
          [{ name: 'x-decoupage', dataType: 'string', dimensionType: 'location' }],
          { name: 'x-quartier:code', dataType: 'string', unique: true },
        ];
        // The programme's name without its code: read as the code, said so.
        field(d, 'programme').columnType = 'activity:generic:program:label';
        // A constant column the file does not have (the spec's constant fields).
        d.resources[0].schema.extraFields = [
          { name: 'commune', type: 'string', columnType: 'geo:address:city:code', constant: 'MA-0001' },
        ];
      }),
    );
    expect(r.outcome).toBe('validated');
    expect(r.rows).toEqual({ read: 28, valid: 24, refused: 4 });
    expect(warned(r, /is not in the taxonomy/).map((w) => w.reason)).toEqual([
      expect.stringMatching(/^field dir_libelle:/),
      expect.stringMatching(
        /^field arrondissement: columnType "x-decoupage:arrondissement" is not in the taxonomy: read as "x-decoupage"/,
      ),
    ]);
    expect(warned(r, /URL/)).toHaveLength(0);
    expect(
      warned(
        r,
        /^field programme \(activity:generic:program:label\) labels "activity:generic:program:code", which no field has: its text is read as the code$/,
      ),
    ).toHaveLength(1);
    expect(warned(r, /read as the measures/)[0].reason).toMatch(
      /activity \(ACTIVITY: programme\), geo-target \(GEOGRAPHY: quartier\), fin-source \(OTHER: financement\), arrondissement \(GEOGRAPHY: arrondissement\), geo-address-city \(GEOGRAPHY: commune\)$/,
    );
  });
});
