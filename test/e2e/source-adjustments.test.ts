import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { datasetPath } from '@civic/formats/sources';
import { readCsv, readJson } from '../support/datasets';
import { BACKENDS, systemsPerBackend, type GraphQLResponse } from '../support/system';

/**
 * Every text value a journalist reads either matches the source cell it came from, or its record's
 * `source.adjustments` says how and why it differs, with the cell verbatim. Checked through the gateway on
 * the seeded system, against the bundled files read here independently of the importers (CSV cells from the
 * raw bytes of the cited line).
 */

interface Adjustment {
  column: string;
  field: string | null;
  asWritten: string;
  stored: string | null;
  reasons: string[];
}
interface Source {
  file: string | null;
  line: number | null;
  record: string | null;
  adjustments: Adjustment[];
}
interface Names {
  ar: string | null;
  fr: string | null;
  en: string | null;
  es: string | null;
}
interface Org {
  id: string;
  names: Names;
  source: Source;
}

const SOURCE = /* GraphQL */ `
  source {
    file
    line
    record
    adjustments {
      column
      field
      asWritten
      stored
      reasons
    }
  }
`;

const ORGS = /* GraphQL */ `
  query Orgs($first: Int, $after: String, $filter: OrganizationFilter) {
    organizations(first: $first, after: $after, filter: $filter) {
      nodes {
        id
        names {
          ar
          fr
          en
          es
        }
        ${SOURCE}
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

const LINES = /* GraphQL */ `
  query Lines($first: Int, $after: String, $filter: BudgetLineFilter) {
    budgetLines(first: $first, after: $after, filter: $filter) {
      nodes {
        id
        labels {
          ar
        }
        ${SOURCE}
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

const LANGS = ['ar', 'fr', 'en', 'es'] as const;

/**
 * The records of a bundled CSV file by the line they are on (the files have no multi-line cells), each with
 * its cells (nothing trimmed) and that line's raw bytes.
 */
function csvByLine(file: string): Map<number, { cells: Record<string, string>; raw: Buffer }> {
  const bytes = readFileSync(datasetPath(file));
  const rawLines: Buffer[] = [];
  for (let start = 0; start < bytes.length;) {
    const end = bytes.indexOf(0x0a, start);
    rawLines.push(bytes.subarray(start, end < 0 ? bytes.length : end));
    start = end < 0 ? bytes.length : end + 1;
  }
  const records: { record: Record<string, string>; info: { lines: number } }[] = parse(bytes, {
    columns: true,
    bom: true,
    info: true,
    skip_empty_lines: true,
  });
  const out = new Map<number, { cells: Record<string, string>; raw: Buffer }>();
  for (const r of records) out.set(r.info.lines, { cells: r.record, raw: rawLines[r.info.lines - 1] });
  return out;
}

/**
 * The check every value passes: the stored value equals the cell, or exactly one adjustment of the record
 * for that column holds the cell verbatim and says what is stored instead, and why.
 */
function expectMatchesOrSays(
  stored: string | null,
  cell: string | undefined,
  column: string,
  source: Source,
  storedOf: (a: Adjustment) => string | null,
) {
  const adjustment = source.adjustments.filter((a) => a.column === column);
  const asWritten = cell === undefined || cell === '' ? null : cell;
  if (stored === asWritten) {
    expect(adjustment).toEqual([]);
    return;
  }
  expect(adjustment).toHaveLength(1);
  expect(adjustment[0].asWritten).toBe(cell);
  expect(adjustment[0].stored).toBe(storedOf(adjustment[0]));
  expect(adjustment[0].reasons.length).toBeGreaterThan(0);
}

describe.each(BACKENDS)('source adjustments on %s', (backend) => {
  const system = systemsPerBackend();

  async function all<T>(query: string, key: string, filter: Record<string, unknown>): Promise<T[]> {
    const out: T[] = [];
    let after: string | null = null;
    for (;;) {
      type Page = { nodes: T[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
      const res: GraphQLResponse<Record<string, Page>> = await system(backend).queryGateway(query, {
        first: 100,
        after,
        filter,
      });
      expect(res.errors).toBeUndefined();
      const page: Page = res.data![key];
      out.push(...page.nodes);
      if (!page.pageInfo.hasNextPage) return out;
      after = page.pageInfo.endCursor;
    }
  }

  const organization = async (id: string): Promise<Org> => {
    const res = await system(backend).queryGateway<{ organization: Org }>(
      /* GraphQL */ `
        query ($id: ID!) {
          organization(id: $id) {
            id
            names {
              ar
              fr
              en
              es
            }
            ${SOURCE}
          }
        }
      `,
      { id },
    );
    expect(res.errors).toBeUndefined();
    return res.data!.organization;
  };

  test('"Bembla et  Manarah": the double space folded, the cell kept', async () => {
    const o = await organization('tn-municipality-52013');
    expect(o.names.fr).toBe('Bembla et Manarah');
    expect(o.source.adjustments).toEqual([
      {
        column: 'name',
        field: 'names.fr',
        asWritten: 'Bembla et  Manarah',
        stored: 'Bembla et Manarah',
        reasons: ['SPACES_FOLDED'],
      },
    ]);
  });

  test('"Nabeul" with U+200E: the mark removed, the cell kept', async () => {
    const o = await organization('tn-municipality-21011');
    expect(o.names.fr).toBe('Nabeul');
    expect(o.source.adjustments).toEqual([
      {
        column: 'name',
        field: 'names.fr',
        asWritten: 'Nabeul\u200e',
        stored: 'Nabeul',
        reasons: ['INVISIBLE_REMOVED'],
      },
    ]);
  });

  test("a Moroccan commune's Arabic name with a trailing space: trimmed, the cell kept", async () => {
    const o = await organization('ma-commune-0149');
    expect(o.names.ar).toBe('آيت سبعة الجروف');
    expect(o.source.adjustments).toEqual([
      {
        column: 'name.ar',
        field: 'names.ar',
        asWritten: 'آيت سبعة الجروف ',
        stored: 'آيت سبعة الجروف',
        reasons: ['TRIMMED'],
      },
    ]);
  });

  test('ma-commune-0881: the French field holds Arabic; not shown as French, and said so', async () => {
    const o = await organization('ma-commune-0881');
    expect(o.names.fr).toBeNull();
    expect(o.names.ar).toBe('دار بل عمري');
    expect(o.source.adjustments).toEqual([
      {
        column: 'name.fr',
        field: null,
        asWritten: 'دار بل عمري',
        stored: null,
        reasons: ['WRONG_SCRIPT_DROPPED'],
      },
    ]);
  });

  test('a record as the source wrote it has no adjustments', async () => {
    const o = await organization('tn-municipality-11013');
    expect(o.names.fr).toBe('Carthage');
    expect(o.source.adjustments).toEqual([]);
  });

  test('every Tunisian municipality: each name is its cell, or an adjustment says how it differs', async () => {
    const rows = readCsv('tunisia/municipalities.csv');
    const orgs = new Map(
      (await all<Org>(ORGS, 'organizations', { country: 'TN' })).map((o) => [o.id, o] as const),
    );
    const seen = new Set<string>();
    let adjusted = 0;
    for (const r of rows) {
      if (seen.has(r.municipal_id)) continue;
      seen.add(r.municipal_id);
      const o = orgs.get(`tn-municipality-${r.municipal_id}`);
      expect(o).toBeDefined();
      expectMatchesOrSays(o!.names.fr, r.name, 'name', o!.source, () => o!.names.fr);
      expectMatchesOrSays(o!.names.ar, r.name_ar, 'name_ar', o!.source, () => o!.names.ar);
      adjusted += o!.source.adjustments.length;
    }
    // Bembla et  Manarah and Nabeul<U+200E>: the file's only cells not stored as written.
    expect(adjusted).toBe(2);
  });

  test('every Moroccan commune: each name is its cell, or an adjustment says how it differs', async () => {
    const { communes } = readJson<{ communes: { id: string; name: Record<string, string> }[] }>(
      'morocco/communes.json',
    );
    const orgs = await all<Org>(ORGS, 'organizations', { country: 'MA' });
    const byRecord = new Map(
      orgs.filter((o) => o.id.startsWith('ma-commune-')).map((o) => [o.source.record, o]),
    );
    let adjusted = 0;
    for (const c of communes) {
      const o = byRecord.get(c.id);
      expect(o).toBeDefined();
      for (const lang of LANGS) {
        const storedOf = (a: Adjustment) =>
          a.field === null ? null : o!.names[a.field.replace('names.', '') as (typeof LANGS)[number]];
        // A name moved to Arabic is the Arabic name; the Arabic field itself is then the cell or adjusted.
        expectMatchesOrSays(o!.names[lang], c.name[lang], `name.${lang}`, o!.source, storedOf);
      }
      adjusted += o!.source.adjustments.length;
    }
    expect(adjusted).toBe(2);
  });

  test("Bou Arada's labels: shown trimmed, each trimmed cell kept verbatim as the cited line's bytes hold it", async () => {
    const lines = await all<{ id: string; labels: { ar: string | null }; source: Source }>(
      LINES,
      'budgetLines',
      { organizationId: 'tn-municipality-34012' },
    );
    expect(lines.length).toBeGreaterThan(0);
    const files = new Map<string, ReturnType<typeof csvByLine>>();
    const trimmedLabels = new Set<string>();
    const cellsWithSpaces = new Set<string>();
    for (const l of lines) {
      const file = l.source.file!.replace(/^data\/datasets\//, '');
      if (!files.has(file)) files.set(file, csvByLine(file));
      const record = files.get(file)!.get(l.source.line!);
      expect(record).toBeDefined();
      const cell = record!.cells.Imputation;
      if (cell !== cell.trim()) cellsWithSpaces.add(cell.trim());
      expectMatchesOrSays(l.labels.ar, cell, 'Imputation', l.source, () => l.labels.ar);
      for (const a of l.source.adjustments) {
        expect(a).toEqual({
          column: 'Imputation',
          field: 'labels.ar',
          asWritten: cell,
          stored: cell.trim(),
          reasons: ['TRIMMED'],
        });
        // The cell is in the line's raw bytes exactly so, its spaces included (CSV-quoted when it holds a quote).
        const field = /[",]/.test(a.asWritten) ? `"${a.asWritten.replace(/"/g, '""')}"` : a.asWritten;
        expect(record!.raw.includes(Buffer.from(`,${field},`, 'utf8'))).toBe(true);
        trimmedLabels.add(a.stored!);
      }
    }
    // The count: labels that lose a leading space (distinct labels, over the cited rows).
    const leading = lines.filter((l) => l.source.adjustments.some((a) => /^\s/.test(a.asWritten)));
    expect(leading.length).toBeGreaterThan(0);
    expect(trimmedLabels).toEqual(cellsWithSpaces);
    expect(trimmedLabels.size).toBeGreaterThan(30);
  });
});
