import { join } from 'node:path';
import type { ImportReport } from '@civic/common/import/report';
import { importers as budgetsImporters } from '@civic/subgraphs/budgets/src/import';
import { byCodePoint } from '../support/datasets';
import { csvRecords } from '../support/fdp';
import { importWith } from '../support/imports';
import { BACKENDS, startSystem, type System } from '../support/system';

/*
 * The questions a data journalist asks of budget facts, asked of the whole system over HTTP (three subgraphs
 * and the gateway on port 0), after importing two of OpenSpending's demo packages as the CLI would:
 * - Madrid's 2015 spending by programme (ACTIVITY) and by economic chapter (ECONOMIC level 1);
 * - Albania's treasury payments by payee (PAYEE);
 * - the lines behind one of Madrid's programmes, with their classifications and where each came from.
 * Every figure expected is read here from the CSV files themselves (csv-parse, exact BigInt minor units),
 * never through the importer's code, and compared exactly: amounts as decimal strings, line counts, labels.
 */

const DEMOS = join(__dirname, '..', 'fixtures', 'import', 'fdp-demos');
const PKG = 'fiscal-data-package';

const MADRID = {
  dir: join(DEMOS, 'madrid-municipal-gastos'),
  file: 'data/gastos_v40_2012-2015.csv',
  organization: 'es-ayuntamiento-de-madrid',
  // A package's own codes are in `fdp:<package>:<dimension>` (BudgetClassification.scheme).
  scheme: (dimension: string) => `fdp:madrid-municipal-gastos:${dimension}`,
  currency: 'EUR',
  digits: 2,
};
const ALBANIA = {
  dir: join(DEMOS, 'al-treasury-spending'),
  file: 'data/treasury.csv',
  organization: 'al-ministry-of-agriculture',
  scheme: (dimension: string) => `fdp:al-treasury-spending:${dimension}`,
  currency: 'ALL',
  digits: 2,
};

type Row = Record<string, string>;

/** One record of a CSV file, with the line it starts on (1 is the header). */
interface Rec {
  line: number;
  row: Row;
}

const recordsOf = (path: string): Rec[] => csvRecords(path, ',');

/** A cell holding an exact decimal amount, in minor units of a currency of `digits` decimals. */
function minorUnits(cell: string, digits: number): bigint {
  const m = /^(-)?(\d+)(?:\.(\d+))?$/.exec(cell.trim());
  if (!m) throw new Error(`"${cell}" is not a decimal amount`);
  const [, sign, whole, frac = ''] = m;
  if (frac.length > digits) throw new Error(`"${cell}" has more than ${digits} decimals`);
  const v = BigInt(whole + frac.padEnd(digits, '0'));
  return sign ? -v : v;
}

/** Minor units as the API writes an amount: an exact decimal string with the currency's decimals. */
function money(minor: bigint, digits: number): string {
  const negative = minor < 0n;
  const s = (negative ? -minor : minor).toString().padStart(digits + 1, '0');
  return `${negative ? '-' : ''}${s.slice(0, -digits)}.${s.slice(-digits)}`;
}

interface Question {
  /** The records the question is about. */
  records: Rec[];
  /** The grouping dimension (BudgetDimension) and the scheme of its codes. */
  dimension: string;
  scheme: string;
  /** A record's code in that dimension (null: none), and the code's label in the source (null: none). */
  code(r: Row): string | null;
  label(r: Row): string | null;
  /** The column of the figure, the phase it is in, and the currency. */
  column: string;
  phase: 'APPROVED' | 'EXECUTED';
  currency: string;
  digits: number;
}

/**
 * The groups `budgetSummary` must answer, from the file: one per code, in the API's order (by code point, no
 * code first), each with its source label, its number of rows and the exact sum of its figures. A code given
 * two different labels by the file fails here, so the label expected is the file's one label for it.
 */
function expectedGroups(q: Question) {
  const groups = new Map<string | null, { label: string | null; minor: bigint; lines: number }>();
  for (const { line, row } of q.records) {
    const code = q.code(row);
    const label = code === null ? null : q.label(row);
    const g = groups.get(code) ?? { label, minor: 0n, lines: 0 };
    if (g.label !== label) throw new Error(`line ${line}: code ${code} labelled "${label}" and "${g.label}"`);
    g.minor += minorUnits(row[q.column], q.digits);
    g.lines += 1;
    groups.set(code, g);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a === b ? 0 : a === null ? -1 : b === null ? 1 : byCodePoint(a, b)))
    .map(([code, g]) => ({
      keys: [
        { dimension: q.dimension, value: code, scheme: code === null ? null : q.scheme, label: g.label },
      ],
      currency: q.currency,
      lineCount: g.lines,
      totals: [
        { phase: q.phase, amount: { amount: money(g.minor, q.digits), currency: q.currency }, asOf: null },
      ],
      executionRate: null,
    }));
}

const SUMMARY = /* GraphQL */ `
  query Summary($filter: BudgetLineFilter, $grouping: [BudgetGrouping!]) {
    budgetSummary(filter: $filter, grouping: $grouping) {
      keys {
        dimension
        value
        scheme
        label
      }
      currency
      lineCount
      totals {
        phase
        amount {
          amount
          currency
        }
        asOf
      }
      executionRate
    }
  }
`;

const LINES = /* GraphQL */ `
  query Lines($filter: BudgetLineFilter) {
    budgetLines(first: 100, filter: $filter, orderBy: [{ field: ID }]) {
      totalCount
      nodes {
        budget {
          id
          fiscalYear
          currency
        }
        direction
        amounts {
          phase
          amount {
            amount
            currency
          }
          asOf
          sourceColumn
        }
        classifications {
          type
          dimension
          scheme
          code
          level
          label
          sourceLabel
          ancestors {
            code
            level
            label
          }
        }
        source {
          record
          line
        }
      }
    }
  }
`;

const madridRecords = recordsOf(join(MADRID.dir, MADRID.file));
const madrid2015 = madridRecords.filter((r) => r.row['AÑO'].trim() === '2015');
const albaniaRecords = recordsOf(join(ALBANIA.dir, ALBANIA.file));
const cell = (column: string) => (r: Row) => r[column].trim() || null;

describe.each(BACKENDS)('a data journalist asks the graph on %s', (backend) => {
  let sys: System;
  let madridImport: ImportReport;
  let albaniaImport: ImportReport;

  const summary = async (filter: Record<string, unknown>, grouping: Record<string, unknown>[]) => {
    const res = await sys.queryGateway<{ budgetSummary: unknown[] }>(SUMMARY, { filter, grouping });
    expect(res.errors).toBeUndefined();
    return res.data!.budgetSummary;
  };

  beforeAll(async () => {
    sys = await startSystem(backend);
    const run = (dir: string, organization: string) =>
      importWith(budgetsImporters, PKG, sys.dataSources.budgets, dir, { params: { organization } });
    madridImport = await run(MADRID.dir, MADRID.organization);
    albaniaImport = await run(ALBANIA.dir, ALBANIA.organization);
  }, 120_000);
  afterAll(() => sys?.stop());

  test('a budget of an organization the organizations subgraph does not know: an error says so, not a bare null', async () => {
    // es-ayuntamiento-de-madrid is no organization of ours: the budgets subgraph refers to it by id only.
    const res = await sys.queryGateway(/* GraphQL */ `
      {
        budgets(filter: { organizationId: "${MADRID.organization}" }, first: 1) {
          nodes {
            id
            organization {
              id
              name
            }
          }
        }
      }
    `);
    // Budget.organization is nullable (partial data by design): only the organization is null, the budget stands.
    expect(res.data).toEqual({ budgets: { nodes: [{ id: expect.any(String), organization: null }] } });
    expect(res.errors).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/^Cannot return null for non-nullable field Organization\.name\b/),
        extensions: { code: 'INCOMPLETE_RESULT' },
      }),
    ]);
    expect(res.extensions?.valueCompletion).toBeUndefined();
    // Without a field the organizations subgraph must give, the reference answers as it is.
    const ids = await sys.queryGateway<{ budgets: { nodes: { organization: { id: string } }[] } }>(
      `{ budgets(filter: { organizationId: "${MADRID.organization}" }, first: 1) { nodes { organization { id } } } }`,
    );
    expect(ids.errors).toBeUndefined();
    expect(ids.data!.budgets.nodes).toEqual([{ organization: { id: MADRID.organization } }]);
  });

  test('both packages load whole: every row of the files, none refused', () => {
    for (const [report, records] of [
      [madridImport, madridRecords],
      [albaniaImport, albaniaRecords],
    ] as const) {
      expect(report.error).toBeNull();
      expect(report.outcome).toBe('loaded');
      expect(report.rows).toEqual({ read: records.length, valid: records.length, refused: 0 });
    }
    // The excerpt holds four years of 75 rows each.
    expect(madrid2015).toHaveLength(75);
  });

  test("Madrid's 2015 spending by programme: each programme's approved total and rows, as the file adds up", async () => {
    const want = expectedGroups({
      records: madrid2015,
      dimension: 'ACTIVITY',
      scheme: MADRID.scheme('program'),
      code: cell('PROGRAMA'),
      label: cell('DESCRIPCION PROGRAMA'),
      column: 'IMPORTE',
      phase: 'APPROVED',
      currency: MADRID.currency,
      digits: MADRID.digits,
    });
    const got = await summary(
      { organizationId: MADRID.organization, fiscalYear: 2015, direction: 'EXPENDITURE' },
      [{ dimension: 'ACTIVITY' }],
    );
    expect(got).toEqual(want);
    // Written out once, so the expectation cannot drift with the helpers: the largest programme.
    expect(got).toContainEqual({
      keys: [
        {
          dimension: 'ACTIVITY',
          value: '91240',
          scheme: 'fdp:madrid-municipal-gastos:program',
          label: 'GRUPOS POLÍTICOS MUNICIPALES',
        },
      ],
      currency: 'EUR',
      lineCount: 25,
      totals: [{ phase: 'APPROVED', amount: { amount: '9402995.00', currency: 'EUR' }, asOf: null }],
      executionRate: null,
    });
    // The programmes add up to the year's whole budget.
    const [all] = (await summary(
      { organizationId: MADRID.organization, fiscalYear: 2015, direction: 'EXPENDITURE' },
      [],
    )) as { lineCount: number; totals: { amount: { amount: string } }[] }[];
    const sum = madrid2015.reduce((s, r) => s + minorUnits(r.row.IMPORTE, MADRID.digits), 0n);
    expect(all.lineCount).toBe(madrid2015.length);
    expect(all.totals.map((t) => t.amount.amount)).toEqual([money(sum, MADRID.digits)]);
  });

  test("Madrid's 2015 spending by economic chapter (level 1): each chapter's total, labelled as in the file", async () => {
    const want = expectedGroups({
      records: madrid2015,
      dimension: 'ECONOMIC',
      scheme: MADRID.scheme('economic'),
      code: cell('CAPITULO'),
      label: cell('DESCRIPCION CAPITULO'),
      column: 'IMPORTE',
      phase: 'APPROVED',
      currency: MADRID.currency,
      digits: MADRID.digits,
    });
    const got = await summary(
      { organizationId: MADRID.organization, fiscalYear: 2015, direction: 'EXPENDITURE' },
      [{ dimension: 'ECONOMIC', level: 1 }],
    );
    expect(got).toEqual(want);
    expect(want.map((g) => g.keys[0].value)).toEqual(['1', '2', '4']);
  });

  test("Albania's treasury payments by payee: each supplier's payments and their exact total", async () => {
    const want = expectedGroups({
      records: albaniaRecords.filter((r) => r.row['Date registered'].trim().startsWith('2014')),
      dimension: 'PAYEE',
      scheme: ALBANIA.scheme('supplier'),
      code: cell('Supplier'),
      // The package gives its suppliers no label: the name is the code.
      label: () => null,
      column: 'Value',
      // A transactional package's payments are executed spending.
      phase: 'EXECUTED',
      currency: ALBANIA.currency,
      digits: ALBANIA.digits,
    });
    expect(want.length).toBeGreaterThan(1);
    const got = await summary(
      { organizationId: ALBANIA.organization, fiscalYear: 2014, direction: 'EXPENDITURE' },
      [{ dimension: 'PAYEE' }],
    );
    expect(got).toEqual(want);
    expect(got).toContainEqual({
      keys: [
        {
          dimension: 'PAYEE',
          value: 'LE SPOT PRODUCTION SH.P.K',
          scheme: 'fdp:al-treasury-spending:supplier',
          label: null,
        },
      ],
      currency: 'ALL',
      lineCount: 3,
      totals: [{ phase: 'EXECUTED', amount: { amount: '18252456.00', currency: 'ALL' }, asOf: null }],
      executionRate: null,
    });
  });

  test("the lines behind Madrid's largest 2015 programme: each row of the file, its classifications and source", async () => {
    // The programme with the largest total in the file, found from the file.
    const totals = new Map<string, bigint>();
    for (const { row } of madrid2015)
      totals.set(row.PROGRAMA, (totals.get(row.PROGRAMA) ?? 0n) + minorUnits(row.IMPORTE, MADRID.digits));
    const [programme] = [...totals.entries()].sort((a, b) => (a[1] < b[1] ? 1 : a[1] > b[1] ? -1 : 0))[0];
    const rows = madrid2015.filter((r) => r.row.PROGRAMA === programme);

    const res = await sys.queryGateway<{ budgetLines: { totalCount: number; nodes: any[] } }>(LINES, {
      filter: {
        organizationId: MADRID.organization,
        fiscalYear: 2015,
        classifications: [{ type: 'ACTIVITY', code: programme }],
      },
    });
    expect(res.errors).toBeUndefined();
    const lines = res.data!.budgetLines;
    expect(lines.totalCount).toBe(rows.length);
    const code = (c: string | null) => ({ level: 1, ancestors: [], sourceLabel: c, label: c });
    const want = rows.map(({ line, row }) => ({
      budget: { id: 'fdp-madrid-municipal-gastos-2015', fiscalYear: 2015, currency: 'EUR' },
      direction: 'EXPENDITURE',
      amounts: [
        {
          phase: 'APPROVED',
          amount: { amount: money(minorUnits(row.IMPORTE, MADRID.digits), MADRID.digits), currency: 'EUR' },
          asOf: null,
          sourceColumn: 'IMPORTE',
        },
      ],
      classifications: [
        { type: 'PERIOD', dimension: 'date', scheme: MADRID.scheme('date'), code: row['AÑO'], ...code(null) },
        {
          type: 'ADMINISTRATIVE',
          dimension: 'administrative',
          scheme: MADRID.scheme('administrative'),
          // A section is coded under its centre (001 and 002 → 001.002): a section number alone is not unique.
          code: `${row.CENTRO}.${row.SECCION}`,
          ...code(row['DESCRIPCION SECCION']),
          level: 2,
          ancestors: [{ code: row.CENTRO, level: 1, label: row['DESCRIPCION CENTRO'] }],
        },
        {
          type: 'ACTIVITY',
          dimension: 'program',
          scheme: MADRID.scheme('program'),
          code: row.PROGRAMA,
          ...code(row['DESCRIPCION PROGRAMA']),
        },
        {
          type: 'ECONOMIC',
          dimension: 'economic',
          scheme: MADRID.scheme('economic'),
          code: `${row.CAPITULO}.${row.ECONOMICO}`,
          ...code(row['DESCRIPCION ECONOMICO']),
          level: 2,
          ancestors: [{ code: row.CAPITULO, level: 1, label: row['DESCRIPCION CAPITULO'] }],
        },
      ],
      source: { record: `${MADRID.file}:line ${line}`, line },
    }));
    const bySource = (a: { source: { line: number } }, b: { source: { line: number } }) =>
      a.source.line - b.source.line;
    expect([...lines.nodes].sort(bySource)).toEqual(want.sort(bySource));
  });
});
