import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { SOURCES, datasetPath } from '@civic/formats/sources';
import { sumMillimes, tnBudgetCode } from '../support/datasets';
import { BACKENDS, systemsPerBackend, type GraphQLResponse, type System } from '../support/system';

// Issue 13, "executed amounts cite the wrong row": every figure of Bou Arada's 2018 budget, through the
// gateway of a seeded system, cites the file, line and column it was read from, checked against the raw
// files read here with plain csv-parse (not the importer's reader).

const DIR = datasetPath(SOURCES.tunisiaBudget.file);
const CITED = 'data/datasets/tunisia';
interface RawFile {
  name: string;
  lines: string[];
  header: string[];
  checksum: string;
  /** The first line of each code (1 = the header), as the importer cites a row repeated cell for cell. */
  lineOf: Map<string, number>;
}
function rawFile(name: string): RawFile {
  const buf = readFileSync(join(DIR, name));
  const text = buf.toString('utf8').replace(/^\uFEFF/, '');
  const lines = text.split(/\r?\n/);
  const header = (parse(lines[0]) as string[][])[0];
  const lineOf = new Map<string, number>();
  lines.forEach((l, i) => {
    if (i === 0 || !l.trim()) return;
    const code = tnBudgetCode(cellsOf({ header, lines } as RawFile, i + 1));
    if (!lineOf.has(code)) lineOf.set(code, i + 1);
  });
  return { name, lines, header, checksum: createHash('sha256').update(buf).digest('hex'), lineOf };
}
/** The cells of a raw line (1-based), by header. */
function cellsOf(f: Pick<RawFile, 'header' | 'lines'>, line: number): Record<string, string> {
  const cells = (parse(f.lines[line - 1], { relax_quotes: true }) as string[][])[0];
  return Object.fromEntries(f.header.map((h, i) => [h, cells[i] ?? '']));
}
const FILES = {
  EXPENDITURE: {
    monthly: rawFile('Depence_mensuelle_2018_34012.csv'),
    perYear: rawFile('depense_per_year_34012.csv'),
  },
  REVENUE: {
    monthly: rawFile('Recette_mensuelle_2018_34012.csv'),
    perYear: rawFile('recette_per_year_34012.csv'),
  },
};
const asDinars = (millimes: string) => sumMillimes([millimes]);

interface Source {
  dataset: string;
  file: string | null;
  checksum: string | null;
  line: number | null;
  record: string | null;
}
interface Amount {
  phase: string;
  asOf: string | null;
  amount: { amount: string; currency: string };
  sourceColumn: string | null;
  source: Source;
}
interface Line {
  id: string;
  code: string;
  direction: 'EXPENDITURE' | 'REVENUE';
  source: Source;
  amounts: Amount[];
}

const LINES = /* GraphQL */ `
  query ($after: String) {
    budgetLines(filter: { budgetId: "tn-34012-2018" }, first: 100, after: $after) {
      nodes {
        id
        code
        direction
        source {
          dataset
          file
          checksum
          line
          record
        }
        amounts {
          phase
          asOf
          amount {
            amount
            currency
          }
          sourceColumn
          source {
            dataset
            file
            checksum
            line
            record
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

async function allLines(sys: System): Promise<Line[]> {
  const out: Line[] = [];
  let after: string | null = null;
  for (;;) {
    const res: GraphQLResponse<{
      budgetLines: { nodes: Line[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
    }> = await sys.queryGateway(LINES, { after });
    expect(res.errors).toBeUndefined();
    out.push(...res.data!.budgetLines.nodes);
    if (!res.data!.budgetLines.pageInfo.hasNextPage) return out;
    after = res.data!.budgetLines.pageInfo.endCursor;
  }
}

/** What a figure should cite: its file, checksum, line and column, and the raw cell there. */
function expected(f: RawFile, code: string, column: string) {
  const line = f.lineOf.get(code)!;
  return {
    source: {
      dataset: SOURCES.tunisiaBudget.dataset,
      file: `${CITED}/${f.name}`,
      checksum: f.checksum,
      line,
      record: `${f.name}:line ${line} column ${column}`,
    },
    sourceColumn: column,
    cell: cellsOf(f, line)[column],
  };
}

const systemOf = systemsPerBackend();

describe.each(BACKENDS)('the sources of Bou Arada 2018 figures on %s', (backend) => {
  let lines: Line[];
  beforeAll(async () => {
    lines = await allLines(systemOf(backend));
  });

  it('has every line of both per-year files', () => {
    const codes = (d: 'EXPENDITURE' | 'REVENUE') => [...FILES[d].perYear.lineOf.keys()].sort();
    for (const d of ['EXPENDITURE', 'REVENUE'] as const)
      expect(
        lines
          .filter((l) => l.direction === d)
          .map((l) => l.code)
          .sort(),
      ).toEqual(expect.arrayContaining(codes(d)));
  });

  it('cites the monthly file, its line, column and date for every executed figure, each equal to its cell', () => {
    let executed = 0;
    for (const l of lines) {
      const { monthly } = FILES[l.direction];
      for (const a of l.amounts.filter((x) => x.phase === 'EXECUTED')) {
        executed += 1;
        const month = a.asOf === '2018-01-31' ? '01' : a.asOf === '2018-02-28' ? '02' : null;
        expect({ line: l.id, month }).toEqual({ line: l.id, month: expect.any(String) });
        const e = expected(monthly, l.code, `Budget_${month}_2018`);
        expect({ line: l.id, source: a.source, sourceColumn: a.sourceColumn }).toEqual({
          line: l.id,
          source: e.source,
          sourceColumn: e.sourceColumn,
        });
        expect(a.amount).toEqual({ amount: asDinars(e.cell), currency: 'TND' });
      }
    }
    // Every non-empty monthly execution cell of a distinct row is one figure.
    let cells = 0;
    for (const d of ['EXPENDITURE', 'REVENUE'] as const) {
      const f = FILES[d].monthly;
      for (const line of f.lineOf.values())
        for (const c of ['Budget_01_2018', 'Budget_02_2018'])
          if (cellsOf(f, line)[c].trim() !== '') cells += 1;
    }
    expect(executed).toBe(cells);
    expect(executed).toBeGreaterThan(100);
  });

  it('cites the per-year file, its line and the 2018 column for every approved figure, each equal to its cell', () => {
    let approved = 0;
    for (const l of lines) {
      const { perYear } = FILES[l.direction];
      for (const a of l.amounts.filter((x) => x.phase === 'APPROVED')) {
        approved += 1;
        expect(a.asOf).toBeNull();
        const e = expected(perYear, l.code, '2018');
        expect({ line: l.id, source: a.source, sourceColumn: a.sourceColumn }).toEqual({
          line: l.id,
          source: e.source,
          sourceColumn: e.sourceColumn,
        });
        expect(a.amount.amount).toBe(asDinars(e.cell));
      }
      // The line itself cites its row of the per-year file.
      expect(l.source.file).toBe(`${CITED}/${FILES[l.direction].perYear.name}`);
    }
    expect(approved).toBeGreaterThan(100);
  });

  it('lets a reader find the cell: three figures checked against the raw lines by hand', () => {
    const salaries = lines.find((l) => l.id === 'tn-34012-2018-EXP-1.01101.0001.000')!;
    const byColumn = Object.fromEntries(salaries.amounts.map((a) => [a.sourceColumn, a]));
    // Depence_mensuelle_2018_34012.csv line 3: 1,01101,0001,000,الأجر الأساسي والتدرّج,24539735,49113966,190000000
    expect(FILES.EXPENDITURE.monthly.lines[2]).toMatch(
      /^1,01101,0001,000,.*,24539735,49113966,190000000\s*$/,
    );
    expect(byColumn.Budget_01_2018).toMatchObject({
      phase: 'EXECUTED',
      asOf: '2018-01-31',
      amount: { amount: '24539.735' },
      source: { line: 3, record: 'Depence_mensuelle_2018_34012.csv:line 3 column Budget_01_2018' },
    });
    expect(byColumn.Budget_02_2018).toMatchObject({
      asOf: '2018-02-28',
      amount: { amount: '49113.966' },
      source: { line: 3 },
    });
    // depense_per_year_34012.csv line 3: ...,190000000 in the 2018 column.
    expect(FILES.EXPENDITURE.perYear.lines[2]).toMatch(/^1,01101,0001,000,.*,190000000\s*$/);
    expect(byColumn['2018']).toMatchObject({
      phase: 'APPROVED',
      asOf: null,
      amount: { amount: '190000.000' },
      source: { line: 3, file: `${CITED}/depense_per_year_34012.csv` },
    });
  });
});
