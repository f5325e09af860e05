import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runImport, type ImporterPart } from '@civic/common/import/pipeline';
import type { ImportReport } from '@civic/common/import/report';
import { digest } from '@civic/common/import/write';
import type { Budget, BudgetAmount } from '@civic/subgraphs/budgets/src/entities/Budget';
import { dimensionsContent, factId, type FactDimension } from '@civic/subgraphs/budgets/src/facts';
import {
  amountSource,
  newWriterState,
  slotOf,
  writeLineGroups,
  type LineGroup,
} from '@civic/subgraphs/budgets/src/import/lines';
import { byCodePoint } from '../support/datasets';
import { BACKENDS, startSystem, type System } from '../support/system';

/**
 * Budget lines as facts, through the gateway on every backend: `BudgetLine.classifications` (labels, the
 * label of no named language, ancestors), `filter.classifications` and `filter.measure`, and `budgetSummary`
 * by any classification type, level and dimension name. The facts are written by the real write path
 * (import/lines.ts `writeLineGroups`, run by the import pipeline over a small JSON file of facts); every
 * expected total is added up here, with BigInt, from the figures this file defines.
 */

// ---- The facts: an economic, a functional, an activity, a second economic and a payee dimension. ----------

/** A code's labels as a source gives them: `source` is a label in a language it does not name. */
interface Label {
  en?: string;
  fr?: string;
  source?: string;
}

const ECONOMIC: Record<string, Label> = {
  '1': { en: 'Compensation of employees', fr: 'Rémunération des salariés' },
  '1.1': { en: 'Wages and salaries', fr: 'Traitements et salaires' },
  '1.1.1': { en: 'Basic wages', fr: 'Traitements de base' },
  // No label: the line's own labels stand in for its own code.
  '1.1.2': {},
  '1.2': { source: 'Kontribute sociale' },
  '1.2.1': { source: 'Sigurime shoqërore' },
  '2': { en: 'Use of goods and services', fr: 'Biens et services' },
  '2.1': { en: 'Supplies', fr: 'Fournitures' },
  '2.1.1': { en: 'Office supplies', fr: 'Fournitures de bureau' },
  '2.1.2': { en: 'Fuel', fr: 'Carburant' },
  '2.2': { en: 'Maintenance', fr: 'Entretien' },
  '2.2.1': { en: 'Road maintenance', fr: 'Entretien des routes' },
  '3': { en: 'Interest', fr: 'Intérêts' },
  // Two levels only: its own level 3.
  '3.1': { en: 'Interest on domestic debt', fr: 'Intérêts de la dette intérieure' },
};
const COFOG: Record<string, Label> = {
  '04': { en: 'Economic affairs', fr: 'Affaires économiques' },
  '04.5': { en: 'Transport', fr: 'Transports' },
  '04.5.1': { en: 'Road transport', fr: 'Transport routier' },
  '07': { en: 'Health', fr: 'Santé' },
  '07.3': { en: 'Hospital services', fr: 'Services hospitaliers' },
  '07.3.1': { en: 'General hospital services' },
  '09': { en: 'Education', fr: 'Enseignement' },
  '09.1': { en: 'Pre-primary and primary education' },
  '09.1.2': { en: 'Primary education' },
};
const PROGRAMMES: Record<string, Label> = {
  P1: { en: 'Roads programme', fr: 'Programme routier' },
  P2: { en: 'Public services programme', fr: 'Programme des services publics' },
};
const GFS: Record<string, Label> = {
  '21': { en: 'Compensation of employees (GFS)' },
  '22': { en: 'Use of goods and services (GFS)' },
};
const PAYEES: Record<string, Label> = {
  ACME: { source: 'ACME Ndërtim sh.p.k.' },
  HOSP: { source: 'Spitali Rajonal' },
};

const SCHEMES = {
  economic: 'test-economic',
  function: 'cofog',
  programme: 'test-programmes',
  gfs: 'gfs-2014',
  payee: 'test-payees',
} as const;
type Dimension = keyof typeof SCHEMES;
const TYPES: Record<Dimension, string> = {
  economic: 'ECONOMIC',
  function: 'FUNCTIONAL',
  programme: 'ACTIVITY',
  gfs: 'ECONOMIC',
  payee: 'PAYEE',
};
const DICTIONARY: Record<Dimension, Record<string, Label>> = {
  economic: ECONOMIC,
  function: COFOG,
  programme: PROGRAMMES,
  gfs: GFS,
  payee: PAYEES,
};

interface Figure {
  phase: 'APPROVED' | 'EXECUTED';
  measure: string;
  asOf: string;
  minor: bigint;
}

/** One fact: its budget, its code in each dimension (null: the fact has none), its figures. */
interface Fact {
  n: number;
  currency: 'EUR' | 'TND';
  economic: string;
  function: string | null;
  programme: string;
  gfs: string | null;
  payee: string | null;
  figures: Figure[];
  /** The line's own labels. */
  labels: { en: string; fr: string };
}

const approved = (minor: number): Figure => ({
  phase: 'APPROVED',
  measure: '',
  asOf: '',
  minor: BigInt(minor),
});
const executed = (measure: string, minor: number, asOf = ''): Figure => ({
  phase: 'EXECUTED',
  measure,
  asOf,
  minor: BigInt(minor),
});

const ROWS: Omit<Fact, 'n' | 'labels'>[] = [
  // EUR
  {
    currency: 'EUR',
    economic: '1.1.1',
    function: '07.3.1',
    programme: 'P2',
    gfs: '21',
    payee: null,
    figures: [approved(1200000), executed('Advance', 300000), executed('Interim', 200000)],
  },
  {
    currency: 'EUR',
    economic: '1.1.1',
    function: '09.1.2',
    programme: 'P2',
    gfs: '21',
    payee: null,
    figures: [approved(800050), executed('Advance', 100000)],
  },
  {
    currency: 'EUR',
    economic: '1.1.2',
    function: '09.1.2',
    programme: 'P2',
    gfs: '21',
    payee: null,
    figures: [approved(45099)],
  },
  {
    currency: 'EUR',
    economic: '1.2.1',
    function: '07.3.1',
    programme: 'P2',
    gfs: '21',
    payee: 'HOSP',
    figures: [approved(30000), executed('Interim', 15000)],
  },
  {
    currency: 'EUR',
    economic: '2.1.1',
    function: '04.5.1',
    programme: 'P1',
    gfs: '22',
    payee: null,
    // Execution to date at two dates: the latest counts.
    figures: [
      approved(12345),
      executed('Advance', 1000, '2024-03-31'),
      executed('Advance', 5000, '2024-06-30'),
    ],
  },
  {
    currency: 'EUR',
    economic: '2.1.2',
    function: '04.5.1',
    programme: 'P1',
    gfs: '22',
    payee: 'ACME',
    figures: [approved(99999), executed('Advance', 50000)],
  },
  // The same cell again (two payments can be real): a second fact, counted too.
  {
    currency: 'EUR',
    economic: '2.1.2',
    function: '04.5.1',
    programme: 'P1',
    gfs: '22',
    payee: 'ACME',
    figures: [approved(99999), executed('Advance', 50000)],
  },
  {
    currency: 'EUR',
    economic: '2.2.1',
    function: '04.5.1',
    programme: 'P1',
    gfs: '22',
    payee: 'ACME',
    figures: [approved(5000000), executed('Advance', 1000000), executed('Interim', 2500000)],
  },
  {
    currency: 'EUR',
    economic: '2.2.1',
    function: null,
    programme: 'P1',
    gfs: '22',
    payee: 'ACME',
    figures: [approved(777)],
  },
  {
    currency: 'EUR',
    economic: '3.1',
    function: null,
    programme: 'P1',
    gfs: null,
    payee: null,
    figures: [approved(31400)],
  },
  // TND: never added to euros.
  {
    currency: 'TND',
    economic: '1.1.1',
    function: '07.3.1',
    programme: 'P2',
    gfs: '21',
    payee: 'HOSP',
    figures: [approved(123456), executed('Advance', 23456)],
  },
  {
    currency: 'TND',
    economic: '2.1.2',
    function: '04.5.1',
    programme: 'P1',
    gfs: '22',
    payee: null,
    figures: [approved(7000)],
  },
];
const FACTS: Fact[] = ROWS.map((r, i) => ({
  ...r,
  n: i + 1,
  labels:
    r.economic === '1.1.2'
      ? { en: 'Overtime', fr: 'Heures supplémentaires' }
      : { en: `Entry ${i + 1}`, fr: `Écriture ${i + 1}` },
}));

const DIGITS = { EUR: 2, TND: 3 } as const;
const YEAR = 2024;
const budgetOf = (f: Pick<Fact, 'currency'>) => `test-facts-${f.currency.toLowerCase()}-${YEAR}`;

/** A code's levels, top first: `2.1.2` → `2`, `2.1`, `2.1.2`. */
const levelsOf = (code: string) => code.split('.').map((_, i, parts) => parts.slice(0, i + 1).join('.'));

/** The dimensions of a fact, in source order, as its importer would give them. */
function dimensionsOf(f: Fact): FactDimension[] {
  return (Object.keys(SCHEMES) as Dimension[]).flatMap((d) => {
    const code = f[d];
    if (code === null) return [];
    return [
      {
        dimension: d,
        type: TYPES[d] as FactDimension['type'],
        scheme: SCHEMES[d],
        levels: (d === 'economic' || d === 'function' ? levelsOf(code) : [code]).map((c) => {
          const l = DICTIONARY[d][c];
          return { code: c, labels: { en: l.en ?? null, fr: l.fr ?? null }, label: l.source ?? null };
        }),
      },
    ];
  });
}

/** Each fact's line id, as the importers name facts: the n-th fact of the same cell ends in `-n`. */
const IDS: string[] = (() => {
  const seen = new Map<string, number>();
  return FACTS.map((f) => {
    const cell = JSON.stringify([budgetOf(f), dimensionsContent(dimensionsOf(f))]);
    const occurrence = (seen.get(cell) ?? 0) + 1;
    seen.set(cell, occurrence);
    return factId(budgetOf(f), 'EXPENDITURE', f.economic, dimensionsOf(f), occurrence);
  });
})();

// ---- The write path: a minimal importer of a JSON file of facts, run by the real import pipeline. ----------

function factsPart(organizationId: string): ImporterPart<Fact, LineGroup> {
  let writer = newWriterState();
  return {
    importer: 'test-facts',
    subgraph: 'budgets',
    scope: () => 'test facts',
    async *read(ctx) {
      writer = newWriterState();
      const rows = JSON.parse(readFileSync(ctx.path, 'utf8')) as Fact[];
      for (const [i, data] of rows.entries()) yield { line: i + 2, data };
    },
    validate(row, ctx) {
      const f = row.data;
      const id = IDS[f.n - 1];
      const source = { dataset: 'budget facts test' };
      const budget: Budget = {
        id: budgetOf(f),
        organizationId,
        fiscalYear: YEAR,
        currency: f.currency,
        ...ctx.provenance(source, row.line, `fact ${f.n}`, digest([budgetOf(f), f.currency])),
      };
      const amounts: BudgetAmount[] = f.figures.map((g) => ({
        lineId: id,
        phase: g.phase,
        asOf: g.asOf,
        measure: g.measure,
        amountMinor: g.minor.toString(),
        ...amountSource(ctx, row.line, `${g.phase} ${g.measure}`, `fact ${f.n} ${g.phase} ${g.measure}`),
      }));
      const dimensions = dimensionsOf(f);
      return {
        key: id,
        budgets: [budget],
        lines: [
          {
            line: {
              id,
              budgetId: budgetOf(f),
              direction: 'EXPENDITURE',
              code: f.economic,
              labelAr: null,
              labelFr: f.labels.fr,
              labelEn: f.labels.en,
              labelEs: null,
              classification: SCHEMES.economic,
              ...ctx.provenance(
                source,
                row.line,
                `fact ${f.n}`,
                digest([f, dimensionsContent(dimensions), amounts.map((a) => a.sourceRecord)]),
              ),
            },
            amounts,
            slots: f.figures.map((g) => slotOf(g.phase, g.asOf, g.measure)),
            dimensions,
          },
        ],
      };
    },
    key: (g) => g.key,
    write: (m, rows, w) => writeLineGroups(m, rows, w, writer),
  };
}

// ---- Expected values, computed here from FACTS. -------------------------------------------------------------

const money = (minor: bigint, currency: 'EUR' | 'TND') => {
  const digits = DIGITS[currency];
  const negative = minor < 0n;
  const s = (negative ? -minor : minor).toString().padStart(digits + 1, '0');
  return `${negative ? '-' : ''}${s.slice(0, -digits)}.${s.slice(-digits)}`;
};

/** A label for people, as the API chooses it without Accept-Language: French, English, else the source's. */
const labelOf = (l: Label | undefined) => (l ? (l.fr ?? l.en ?? l.source ?? null) : null);

/** EXECUTED / APPROVED rounded to 6 decimals, half away from zero, in integers (values here are >= 0). */
function rate(executedMinor: bigint, approvedMinor: bigint): number {
  const q = (executedMinor * 2_000_000n + approvedMinor) / (2n * approvedMinor);
  return Number(`${q / 1_000_000n}.${(q % 1_000_000n).toString().padStart(6, '0')}`);
}

/** The figures a fact adds to a phase: per measure, the whole-year figure, else the latest dated one. */
function counted(f: Fact, phase: Figure['phase'], measure: string | null): Figure[] {
  const byMeasure = new Map<string, Figure>();
  for (const g of f.figures) {
    if (g.phase !== phase || (measure !== null && g.measure !== measure)) continue;
    const best = byMeasure.get(g.measure);
    const better = !best || (best.asOf !== '' && (g.asOf === '' || g.asOf > best.asOf));
    if (better) byMeasure.set(g.measure, g);
  }
  return [...byMeasure.values()];
}

interface Key {
  dimension: string;
  value: string | null;
  scheme: string | null;
  label: string | null;
}

/** A grouping of the test, as the test computes it: the key of a fact. */
type KeyOf = (f: Fact) => Key;

/** A classification key: the code of a dimension at a level (null: the most specific). */
const classKey =
  (dimension: string, d: Dimension, level: number | null): KeyOf =>
  (f) => {
    const code = f[d];
    if (code === null) return { dimension, value: null, scheme: null, label: null };
    const levels = d === 'economic' || d === 'function' ? levelsOf(code) : [code];
    const value = level === null ? code : levels[Math.min(level, levels.length) - 1];
    return { dimension, value, scheme: SCHEMES[d], label: labelOf(DICTIONARY[d][value]) };
  };

/** The groups a summary of `facts` by `keys` gives, in the API's order, with exact totals. */
function expectedGroups(facts: readonly Fact[], keys: readonly KeyOf[], measure: string | null = null) {
  const groups = new Map<string, { keys: Key[]; currency: 'EUR' | 'TND'; facts: Fact[] }>();
  for (const f of facts) {
    if (measure !== null && !f.figures.some((g) => g.measure === measure)) continue;
    const k = keys.map((key) => key(f));
    const id = JSON.stringify([k, f.currency]);
    if (!groups.has(id)) groups.set(id, { keys: k, currency: f.currency, facts: [] });
    groups.get(id)!.facts.push(f);
  }
  const cmp = (a: string | null, b: string | null) =>
    a === b ? 0 : a === null ? -1 : b === null ? 1 : byCodePoint(a, b);
  return [...groups.values()]
    .sort((a, b) => {
      for (let i = 0; i < a.keys.length; i++) {
        const c = cmp(a.keys[i].scheme, b.keys[i].scheme) || cmp(a.keys[i].value, b.keys[i].value);
        if (c) return c;
      }
      return byCodePoint(a.currency, b.currency);
    })
    .map((g) => {
      const totals = (['APPROVED', 'EXECUTED'] as const).flatMap((phase) => {
        const figures = g.facts.flatMap((f) => counted(f, phase, measure));
        if (!figures.length) return [];
        const sum = figures.reduce((s, x) => s + x.minor, 0n);
        const latest = figures.map((x) => x.asOf).reduce((a, b) => (b > a ? b : a), '');
        return [
          {
            phase,
            minor: sum,
            amount: { amount: money(sum, g.currency), currency: g.currency },
            asOf: latest || null,
          },
        ];
      });
      const a = totals.find((t) => t.phase === 'APPROVED');
      const e = totals.find((t) => t.phase === 'EXECUTED');
      return {
        keys: g.keys,
        currency: g.currency,
        lineCount: g.facts.length,
        totals: totals.map(({ phase, amount, asOf }) => ({ phase, amount, asOf })),
        executionRate: a && e && a.minor !== 0n ? rate(e.minor, a.minor) : null,
      };
    });
}

const SUMMARY = /* GraphQL */ `
  query Summary($filter: BudgetLineFilter, $groupBy: [BudgetDimension!], $grouping: [BudgetGrouping!]) {
    budgetSummary(filter: $filter, groupBy: $groupBy, grouping: $grouping) {
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

const CODE_FIELDS = /* GraphQL */ `
  scheme
  code
  level
  label(lang: EN)
  labels {
    en
    fr
  }
  sourceLabel
`;

const CLASSIFICATIONS = /* GraphQL */ `
  query Classifications($id: ID!, $type: ClassificationType) {
    budgetLine(id: $id) {
      labels {
        ar
        fr
      }
      classifications(type: $type) {
        type
        dimension
        ${CODE_FIELDS}
        ancestors {
          ${CODE_FIELDS}
        }
      }
    }
  }
`;

/** A code as `CODE_FIELDS` shows it, from the test's dictionary (label in English first, as asked). */
const codeView = (scheme: string, code: string, level: number, l: Label | undefined) => ({
  scheme,
  code,
  level,
  label: l ? (l.en ?? l.fr ?? l.source ?? null) : null,
  labels: { en: l?.en ?? null, fr: l?.fr ?? null },
  sourceLabel: l?.source ?? null,
});

describe.each(BACKENDS)('budget lines as facts on %s', (backend) => {
  let sys: System;
  let org: string;
  let dir: string;
  let firstImport: ImportReport;
  const q = (query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) =>
    sys.queryGateway<any>(query, variables, headers);
  const importFacts = () =>
    runImport(
      'test-facts',
      join(dir, 'facts.json'),
      [{ part: factsPart(org), ds: sys.dataSources.budgets }],
      {
        strict: false,
        dryRun: false,
        prune: false,
        batchSize: 5,
        params: {},
      },
    );

  beforeAll(async () => {
    sys = await startSystem(backend);
    // The facts belong to an organization of the graph that has no budget yet (for Organization.budgetSummary).
    const orgs = await q(`{ organizations(first: 10) { nodes { id budgets { id } } } }`);
    org = orgs.data.organizations.nodes.find((o: { budgets: unknown[] }) => !o.budgets.length).id;
    dir = mkdtempSync(join(tmpdir(), 'civic-facts-'));
    writeFileSync(
      join(dir, 'facts.json'),
      JSON.stringify(FACTS, (_, v) => (typeof v === 'bigint' ? String(v) : v)),
    );
    firstImport = await importFacts();
  });
  afterAll(async () => {
    await sys?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the facts load through the write path, and loading them again changes nothing', async () => {
    expect(firstImport.outcome).toBe('loaded');
    expect(firstImport.rows).toEqual({ read: FACTS.length, valid: FACTS.length, refused: 0 });
    const tables = firstImport.parts[0].tables;
    expect(tables.budget_lines.inserted).toBe(FACTS.length);
    expect(tables.budget_line_dimensions.inserted).toBe(
      FACTS.reduce((n, f) => n + dimensionsOf(f).length, 0),
    );
    const again = await importFacts();
    expect(again.outcome).toBe('loaded');
    expect(again.parts[0].tables.budget_lines).toMatchObject({
      inserted: 0,
      updated: 0,
      unchanged: FACTS.length,
    });
    expect(new Set(IDS).size).toBe(FACTS.length);
  });

  test('classifications in source order, with labels in two languages, a label of no named language, and ancestors', async () => {
    for (const f of FACTS) {
      const res = await q(CLASSIFICATIONS, { id: IDS[f.n - 1] });
      expect(res.errors).toBeUndefined();
      const expected = dimensionsOf(f).map((d) => {
        const codes = d.levels.map((l) => l.code);
        const own = codes[codes.length - 1];
        const dictionary = DICTIONARY[d.dimension as Dimension];
        let view = codeView(d.scheme, own, codes.length, dictionary[own]);
        // The line's own code in its own classification, unlabelled in the dictionary: the line's labels.
        if (d.dimension === 'economic' && !Object.keys(dictionary[own]).length) {
          view = codeView(d.scheme, own, codes.length, f.labels);
        }
        return {
          type: d.type,
          dimension: d.dimension,
          ...view,
          ancestors: codes.slice(0, -1).map((c, i) => codeView(d.scheme, c, i + 1, dictionary[c])),
        };
      });
      expect({ n: f.n, classifications: res.data.budgetLine.classifications }).toEqual({
        n: f.n,
        classifications: expected,
      });
    }
    // Written out once, so the expectation above cannot drift with the helpers.
    const overtime = await q(CLASSIFICATIONS, { id: IDS[2], type: 'ECONOMIC' });
    expect(overtime.data.budgetLine.classifications).toEqual([
      {
        type: 'ECONOMIC',
        dimension: 'economic',
        scheme: 'test-economic',
        code: '1.1.2',
        level: 3,
        label: 'Overtime',
        labels: { en: 'Overtime', fr: 'Heures supplémentaires' },
        sourceLabel: null,
        ancestors: [
          {
            scheme: 'test-economic',
            code: '1',
            level: 1,
            label: 'Compensation of employees',
            labels: { en: 'Compensation of employees', fr: 'Rémunération des salariés' },
            sourceLabel: null,
          },
          {
            scheme: 'test-economic',
            code: '1.1',
            level: 2,
            label: 'Wages and salaries',
            labels: { en: 'Wages and salaries', fr: 'Traitements et salaires' },
            sourceLabel: null,
          },
        ],
      },
      {
        type: 'ECONOMIC',
        dimension: 'gfs',
        scheme: 'gfs-2014',
        code: '21',
        level: 1,
        label: 'Compensation of employees (GFS)',
        labels: { en: 'Compensation of employees (GFS)', fr: null },
        sourceLabel: null,
        ancestors: [],
      },
    ]);
    const payee = await q(CLASSIFICATIONS, { id: IDS[3], type: 'PAYEE' });
    expect(payee.data.budgetLine.classifications).toEqual([
      {
        type: 'PAYEE',
        dimension: 'payee',
        scheme: 'test-payees',
        code: 'HOSP',
        level: 1,
        label: 'Spitali Rajonal',
        labels: { en: null, fr: null },
        sourceLabel: 'Spitali Rajonal',
        ancestors: [],
      },
    ]);

    // A Tunisian line: one economic dimension of four levels, labelled by the line itself.
    const tn = await q(CLASSIFICATIONS, { id: 'tn-34012-2018-EXP-1.01101.0001.000' });
    expect(tn.errors).toBeUndefined();
    const scheme = 'tn-municipal-budget-nomenclature';
    const bare = (code: string, level: number) => ({
      scheme,
      code,
      level,
      label: null,
      labels: { en: null, fr: null },
      sourceLabel: null,
    });
    expect(tn.data.budgetLine.labels.ar).toBeTruthy();
    expect(tn.data.budgetLine.classifications).toEqual([
      {
        type: 'ECONOMIC',
        dimension: 'nomenclature',
        scheme,
        code: '1.01101.0001.000',
        level: 4,
        label: tn.data.budgetLine.labels.fr ?? tn.data.budgetLine.labels.ar,
        labels: { en: null, fr: tn.data.budgetLine.labels.fr },
        sourceLabel: null,
        ancestors: [bare('1', 1), bare('1.01101', 2), bare('1.01101.0001', 3)],
      },
    ]);
  });

  test('filter.classifications: by a code, by an ancestor, by scheme or name, conditions ANDed', async () => {
    const ids = async (filter: Record<string, unknown>) => {
      const res = await q(
        `query L($filter: BudgetLineFilter) { budgetLines(first: 100, filter: $filter) { totalCount nodes { id } } }`,
        { filter: { organizationId: org, ...filter } },
      );
      expect(res.errors).toBeUndefined();
      expect(res.data.budgetLines.totalCount).toBe(res.data.budgetLines.nodes.length);
      return res.data.budgetLines.nodes.map((n: { id: string }) => n.id).sort(byCodePoint);
    };
    const where = (p: (f: Fact) => boolean) =>
      FACTS.filter(p)
        .map((f) => IDS[f.n - 1])
        .sort(byCodePoint);
    const under = (code: string | null, prefix: string) => code !== null && levelsOf(code).includes(prefix);

    expect(await ids({ classifications: [{ type: 'FUNCTIONAL', code: '07' }] })).toEqual(
      where((f) => under(f.function, '07')),
    );
    expect(await ids({ classifications: [{ type: 'ECONOMIC', code: '2.1.2' }] })).toEqual(
      where((f) => f.economic === '2.1.2'),
    );
    // By ancestor, in either economic dimension: `2` is in the first, `22` is the second's.
    expect(await ids({ classifications: [{ type: 'ECONOMIC', code: '2' }] })).toEqual(
      where((f) => under(f.economic, '2')),
    );
    expect(await ids({ classifications: [{ dimension: 'gfs', code: '22' }] })).toEqual(
      where((f) => f.gfs === '22'),
    );
    expect(await ids({ classifications: [{ scheme: 'test-payees', code: 'ACME' }] })).toEqual(
      where((f) => f.payee === 'ACME'),
    );
    // Codes are exact: `2.1` is no ancestor of `2.1.2`'s sibling `2.2.1`, and `4` is no code of `04`.
    expect(await ids({ classifications: [{ type: 'FUNCTIONAL', code: '4' }] })).toEqual([]);
    expect(await ids({ classifications: [{ type: 'ECONOMIC', code: '2.1' }] })).toEqual(
      where((f) => under(f.economic, '2.1')),
    );
    // The type, name and scheme restrict where the code is looked for.
    expect(await ids({ classifications: [{ type: 'FUNCTIONAL', code: '2' }] })).toEqual([]);
    expect(await ids({ classifications: [{ dimension: 'economic', scheme: 'cofog', code: '2' }] })).toEqual(
      [],
    );
    // ANDed, and with the other filters (fiscal year, currency through the budget).
    expect(
      await ids({
        budgetId: budgetOf({ currency: 'EUR' }),
        classifications: [
          { type: 'ECONOMIC', code: '1' },
          { type: 'FUNCTIONAL', code: '07.3' },
        ],
      }),
    ).toEqual(where((f) => f.currency === 'EUR' && under(f.economic, '1') && under(f.function, '07.3')));

    // On the Tunisian lines: a code and its ancestors, the same lines as the code prefix.
    const tn = async (filter: Record<string, unknown>) =>
      (
        await q(`query L($filter: BudgetLineFilter) { budgetLines(filter: $filter) { totalCount } }`, {
          filter: { budgetId: 'tn-34012-2018', ...filter },
        })
      ).data.budgetLines.totalCount;
    const article = await tn({
      classifications: [{ scheme: 'tn-municipal-budget-nomenclature', code: '1.01101' }],
    });
    expect(article).toBeGreaterThan(1);
    expect(article).toBe(await tn({ codePrefix: '1.01101.' }));
    expect(await tn({ classifications: [{ type: 'ECONOMIC', code: '2' }] })).toBe(
      await tn({ codePrefix: '2.' }),
    );
  });

  test('budgetSummary by a classification type and level, by two types, by payee and by name: exact, each line once', async () => {
    const filter = { organizationId: org };
    const cases: { grouping?: unknown[]; groupBy?: string[]; keys: KeyOf[] }[] = [
      { grouping: [{ dimension: 'ECONOMIC', level: 1 }], keys: [classKey('ECONOMIC', 'economic', 1)] },
      { grouping: [{ dimension: 'ECONOMIC', level: 2 }], keys: [classKey('ECONOMIC', 'economic', 2)] },
      // A code of two levels is its own level 3.
      { grouping: [{ dimension: 'ECONOMIC', level: 3 }], keys: [classKey('ECONOMIC', 'economic', 3)] },
      { groupBy: ['FUNCTIONAL'], keys: [classKey('FUNCTIONAL', 'function', null)] },
      { grouping: [{ dimension: 'FUNCTIONAL', level: 1 }], keys: [classKey('FUNCTIONAL', 'function', 1)] },
      {
        grouping: [
          { dimension: 'FUNCTIONAL', level: 1 },
          { dimension: 'ECONOMIC', level: 1 },
        ],
        keys: [classKey('FUNCTIONAL', 'function', 1), classKey('ECONOMIC', 'economic', 1)],
      },
      { groupBy: ['PAYEE'], keys: [classKey('PAYEE', 'payee', null)] },
      {
        groupBy: ['ACTIVITY', 'PAYEE'],
        keys: [classKey('ACTIVITY', 'programme', null), classKey('PAYEE', 'payee', null)],
      },
      // The second economic dimension, by its name; the first economic dimension beside it.
      { grouping: [{ dimension: 'ECONOMIC', name: 'gfs' }], keys: [classKey('ECONOMIC', 'gfs', null)] },
      {
        grouping: [
          { dimension: 'ECONOMIC', name: 'gfs' },
          { dimension: 'ECONOMIC', level: 1 },
        ],
        keys: [classKey('ECONOMIC', 'gfs', null), classKey('ECONOMIC', 'economic', 1)],
      },
      // With a dimension of the line itself.
      {
        grouping: [{ dimension: 'FISCAL_YEAR' }, { dimension: 'FUNCTIONAL', level: 2 }],
        keys: [
          () => ({ dimension: 'FISCAL_YEAR', value: String(YEAR), scheme: null, label: String(YEAR) }),
          classKey('FUNCTIONAL', 'function', 2),
        ],
      },
      { groupBy: [], keys: [] },
    ];
    for (const c of cases) {
      const res = await q(SUMMARY, { filter, groupBy: c.groupBy, grouping: c.grouping });
      expect(res.errors).toBeUndefined();
      const expected = expectedGroups(FACTS, c.keys);
      expect({ case: c.grouping ?? c.groupBy, groups: res.data.budgetSummary }).toEqual({
        case: c.grouping ?? c.groupBy,
        groups: expected,
      });
      // Each line in exactly one group.
      const lines = res.data.budgetSummary.reduce(
        (n: number, g: { lineCount: number }) => n + g.lineCount,
        0,
      );
      expect(lines).toBe(FACTS.length);
    }
    // Written out once: euros by COFOG division, each total added by hand from the rows above.
    const divisions = await q(SUMMARY, {
      filter: { organizationId: org, fiscalYear: YEAR },
      grouping: [{ dimension: 'FUNCTIONAL', level: 1 }],
    });
    expect(
      divisions.data.budgetSummary
        .filter((g: { currency: string }) => g.currency === 'EUR')
        .map((g: any) => [
          g.keys[0].value,
          g.keys[0].label,
          g.lineCount,
          g.totals.map((t: any) => t.amount.amount),
        ]),
    ).toEqual([
      [null, null, 2, ['321.77']],
      ['04', 'Affaires économiques', 4, ['52123.43', '36050.00']],
      ['07', 'Santé', 2, ['12300.00', '5150.00']],
      ['09', 'Enseignement', 2, ['8451.49', '1000.00']],
    ]);
    // In the request's language, else the label of no named language.
    const payees = await q(SUMMARY, { filter, groupBy: ['PAYEE'] }, { 'accept-language': 'en' });
    expect(payees.data.budgetSummary.map((g: any) => [g.keys[0].value, g.keys[0].label, g.currency])).toEqual(
      [
        [null, null, 'EUR'],
        [null, null, 'TND'],
        ['ACME', 'ACME Ndërtim sh.p.k.', 'EUR'],
        ['HOSP', 'Spitali Rajonal', 'EUR'],
        ['HOSP', 'Spitali Rajonal', 'TND'],
      ],
    );
    const english = await q(
      SUMMARY,
      { filter, grouping: [{ dimension: 'ECONOMIC', level: 1 }] },
      { 'accept-language': 'en' },
    );
    expect(english.data.budgetSummary.map((g: any) => g.keys[0].label)).toEqual([
      'Compensation of employees',
      'Compensation of employees',
      'Use of goods and services',
      'Use of goods and services',
      'Interest',
    ]);

    // Organization.budgetSummary groups the same way.
    const byOrg = await q(
      `query O($id: ID!) { organization(id: $id) { budgetSummary(grouping: [{ dimension: ECONOMIC, level: 2 }]) { keys { dimension value scheme label } currency lineCount totals { phase amount { amount currency } asOf } executionRate } } }`,
      { id: org },
    );
    expect(byOrg.errors).toBeUndefined();
    expect(byOrg.data.organization.budgetSummary).toEqual(
      expectedGroups(FACTS, [classKey('ECONOMIC', 'economic', 2)]),
    );

    // On the Tunisian lines, ECONOMIC levels 1 and 2 are the code levels: the same groups and totals.
    for (const [level, codeLevel] of [
      [1, 'CODE_LEVEL_1'],
      [2, 'CODE_LEVEL_2'],
    ] as const) {
      const tnFilter = { organizationId: 'tn-municipality-34012' };
      const economic = await q(SUMMARY, {
        filter: tnFilter,
        grouping: [
          { dimension: 'FISCAL_YEAR' },
          { dimension: 'DIRECTION' },
          { dimension: 'ECONOMIC', level },
        ],
      });
      const codes = await q(SUMMARY, { filter: tnFilter, groupBy: ['FISCAL_YEAR', 'DIRECTION', codeLevel] });
      expect(economic.errors).toBeUndefined();
      const strip = (groups: any[]) => groups.map((g) => ({ ...g, keys: g.keys.map((k: Key) => k.value) }));
      expect(strip(economic.data.budgetSummary)).toEqual(strip(codes.data.budgetSummary));
      expect(economic.data.budgetSummary.length).toBeGreaterThan(12);
      expect(
        economic.data.budgetSummary.every(
          (g: any) =>
            g.keys[2].scheme === 'tn-municipal-budget-nomenclature' && g.keys[2].dimension === 'ECONOMIC',
        ),
      ).toBe(true);
    }

    // The existing dimensions still work over facts: CLASSIFICATION and CODE_LEVEL_1 read the line's code.
    const legacy = await q(SUMMARY, { filter, groupBy: ['CLASSIFICATION', 'CODE_LEVEL_1'] });
    expect(legacy.errors).toBeUndefined();
    expect(legacy.data.budgetSummary.map((g: any) => [g.keys[1].value, g.currency, g.lineCount])).toEqual([
      ['1', 'EUR', 4],
      ['1', 'TND', 1],
      ['2', 'EUR', 5],
      ['2', 'TND', 1],
      ['3', 'EUR', 1],
    ]);
  });

  test('filter.measure: only the lines with a figure of that measure, and only those figures count', async () => {
    for (const measure of ['Advance', 'Interim']) {
      const byTitle = await q(SUMMARY, {
        filter: { organizationId: org, measure },
        grouping: [{ dimension: 'ECONOMIC', level: 1 }],
      });
      expect(byTitle.errors).toBeUndefined();
      expect(byTitle.data.budgetSummary).toEqual(
        expectedGroups(FACTS, [classKey('ECONOMIC', 'economic', 1)], measure),
      );
      const whole = await q(SUMMARY, { filter: { organizationId: org, measure }, groupBy: [] });
      expect(whole.data.budgetSummary).toEqual(expectedGroups(FACTS, [], measure));
    }
    // Written out: Advance in euros is the latest Advance figure of each line having one.
    const advance = await q(SUMMARY, { filter: { organizationId: org, measure: 'Advance' }, groupBy: [] });
    expect(advance.data.budgetSummary[0]).toMatchObject({
      currency: 'EUR',
      lineCount: 6,
      totals: [{ phase: 'EXECUTED', amount: { amount: '15050.00' }, asOf: '2024-06-30' }],
    });
    // Without a measure, a phase adds every measure's figure.
    const all = await q(SUMMARY, { filter: { organizationId: org }, groupBy: [] });
    expect(all.data.budgetSummary).toEqual(expectedGroups(FACTS, []));

    // Lines, amount ranges and the AMOUNT order read the measure too; each figure says its measure.
    const lines = await q(
      /* GraphQL */ `
        query L($filter: BudgetLineFilter) {
          budgetLines(filter: $filter, orderBy: [{ field: AMOUNT, phase: EXECUTED, direction: DESC }]) {
            totalCount
            nodes {
              id
              amounts {
                phase
                measure
                asOf
                amount {
                  amount
                }
              }
            }
          }
        }
      `,
      {
        filter: {
          organizationId: org,
          measure: 'Interim',
          amount: { phase: 'EXECUTED', min: '150.00', max: '25000' },
        },
      },
    );
    expect(lines.errors).toBeUndefined();
    const interim = (f: Fact) => counted(f, 'EXECUTED', 'Interim')[0]?.minor;
    const want = FACTS.filter(
      (f) => interim(f) !== undefined && interim(f)! >= 15000n && interim(f)! <= 2500000n,
    ).sort((a, b) => Number(interim(b)! - interim(a)!));
    expect(lines.data.budgetLines.nodes.map((n: { id: string }) => n.id)).toEqual(
      want.map((f) => IDS[f.n - 1]),
    );
    expect(want.length).toBe(3);
    const first = lines.data.budgetLines.nodes[0];
    expect(first.amounts).toEqual(
      [...FACTS[7].figures]
        .sort(
          (a, b) =>
            byCodePoint(a.phase, b.phase) || byCodePoint(a.asOf, b.asOf) || byCodePoint(a.measure, b.measure),
        )
        .map((g) => ({
          phase: g.phase,
          measure: g.measure || null,
          asOf: g.asOf || null,
          amount: { amount: money(g.minor, 'EUR') },
        })),
    );
  });

  test('search finds a line by the labels of its classifications, with a highlight', async () => {
    const res = await q(
      `{ budgetLines(filter: { organizationId: "${org}", search: "carburant" }) { nodes { id searchHighlights { field snippet } } } }`,
    );
    expect(res.errors).toBeUndefined();
    const want = FACTS.filter((f) => f.economic === '2.1.2').map((f) => IDS[f.n - 1]);
    expect(res.data.budgetLines.nodes.map((n: { id: string }) => n.id).sort(byCodePoint)).toEqual(
      want.sort(byCodePoint),
    );
    for (const n of res.data.budgetLines.nodes)
      expect(n.searchHighlights).toEqual([
        { field: 'classificationLabelFr', snippet: expect.stringContaining('<mark>Carburant</mark>') },
      ]);
    // An ancestor's label, and a label in no named language.
    const ancestor = await q(
      `{ budgetLines(filter: { organizationId: "${org}", search: "hospital services" }) { totalCount } }`,
    );
    expect(ancestor.data.budgetLines.totalCount).toBe(
      FACTS.filter((f) => f.function?.startsWith('07.3')).length,
    );
    const source = await q(
      `{ budgetLines(filter: { organizationId: "${org}", search: "Spitali" }) { totalCount } }`,
    );
    expect(source.data.budgetLines.totalCount).toBe(FACTS.filter((f) => f.payee === 'HOSP').length);
  });

  test('bad input is refused with BAD_USER_INPUT naming the argument', async () => {
    const long = 'x'.repeat(192);
    const cases: [string, string, RegExp][] = [
      [
        `{ budgetLines(filter: { classifications: [${'{ type: ECONOMIC, code: "1" }, '.repeat(21)}] }) { totalCount } }`,
        'filter.classifications',
        /21 conditions; at most 20/,
      ],
      [
        `{ budgetLines(filter: { classifications: [{ code: "1" }] }) { totalCount } }`,
        'filter.classifications[0]',
        /at least one/,
      ],
      [
        `{ budgetLines(filter: { classifications: [{ type: ECONOMIC, code: "" }] }) { totalCount } }`,
        'filter.classifications[0].code',
        /1 to 191 characters/,
      ],
      [
        `{ budgetLines(filter: { classifications: [{ type: ECONOMIC, code: "1" }, { scheme: "${long}", code: "1" }] }) { totalCount } }`,
        'filter.classifications[1].scheme',
        /1 to 191 characters/,
      ],
      [
        `{ budgetLines(filter: { classifications: [{ dimension: "", code: "1" }] }) { totalCount } }`,
        'filter.classifications[0].dimension',
        /1 to 64 characters/,
      ],
      [
        `{ budgetSummary(filter: { measure: "" }, groupBy: []) { currency } }`,
        'filter.measure',
        /measure name of 1 to 64/,
      ],
      [
        `{ budgetSummary(groupBy: [FUNCTIONAL], grouping: [{ dimension: FUNCTIONAL }]) { currency } }`,
        'grouping',
        /not both/,
      ],
      [`{ budgetSummary { currency } }`, 'groupBy', /one of them is required/],
      [
        `{ budgetSummary(grouping: [{ dimension: DIRECTION, level: 1 }]) { currency } }`,
        'grouping[0].level',
        /only classification types/,
      ],
      [
        `{ budgetSummary(grouping: [{ dimension: FUNCTIONAL, level: 4 }]) { currency } }`,
        'grouping[0].level',
        /must be 1 to 3.*got 4/,
      ],
      [
        `{ budgetSummary(grouping: [{ dimension: ECONOMIC, level: 0 }]) { currency } }`,
        'grouping[0].level',
        /must be 1 to 3.*got 0/,
      ],
      [
        `{ budgetSummary(grouping: [{ dimension: FISCAL_YEAR, name: "year" }]) { currency } }`,
        'grouping[0].name',
        /only classification types/,
      ],
      [
        `{ budgetSummary(grouping: [{ dimension: ECONOMIC, name: "" }]) { currency } }`,
        'grouping[0].name',
        /1 to 64 characters/,
      ],
      [
        `{ budgetSummary(grouping: [{ dimension: ECONOMIC, level: 1 }, { dimension: ECONOMIC, level: 1 }]) { currency } }`,
        'grouping',
        /ECONOMIC level 1 twice/,
      ],
      [`{ budgetSummary(groupBy: [PAYEE, PAYEE]) { currency } }`, 'groupBy', /lists PAYEE twice/],
    ];
    for (const [query, argument, message] of cases) {
      const res = await q(query);
      expect({ query, data: res.data ?? null }).toEqual({ query, data: null });
      expect({ query, error: res.errors?.[0] }).toMatchObject({
        query,
        error: {
          message: expect.stringMatching(message),
          extensions: { code: 'BAD_USER_INPUT', argumentName: argument },
        },
      });
    }
    // On Organization.budgetSummary too.
    const nested = await q(`query O($id: ID!) { organization(id: $id) { budgetSummary { currency } } }`, {
      id: org,
    });
    expect(nested.errors?.[0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', argumentName: 'groupBy' },
    });
  });

  test('classifications and their labels cost two statements for a page of 10 lines as for 100', async () => {
    const PAGE = /* GraphQL */ `
      query Page($first: Int!, $classifications: Boolean!) {
        budgetLines(first: $first, filter: { classification: "tn-municipal-budget-nomenclature" }) {
          nodes {
            id
            classifications @include(if: $classifications) {
              code
              label
              labels {
                ar
              }
              ancestors {
                code
                label
              }
            }
          }
        }
      }
    `;
    const count = async (first: number, classifications: boolean) => {
      sys.counters.budgets.reset();
      const res = await q(PAGE, { first, classifications });
      expect(res.errors).toBeUndefined();
      expect(res.data.budgetLines.nodes).toHaveLength(first);
      if (classifications)
        for (const n of res.data.budgetLines.nodes)
          expect(n.classifications[0].ancestors.length).toBeGreaterThan(0);
      return sys.counters.budgets.total;
    };
    const extra = {
      ten: (await count(10, true)) - (await count(10, false)),
      hundred: (await count(100, true)) - (await count(100, false)),
    };
    // One statement for the dimension rows of the page, one for every code's labels.
    expect(extra).toEqual({ ten: 2, hundred: 2 });

    // Summaries of a page of organizations by a classification: the same statements for 10 as for 100.
    const summaries = async (first: number) => {
      sys.counters.budgets.reset();
      const res = await q(
        `{ organizations(first: ${first}) { nodes { id budgetSummary(grouping: [{ dimension: ECONOMIC, level: 1 }]) { keys { value label } lineCount } } } }`,
      );
      expect(res.errors).toBeUndefined();
      expect(
        res.data.organizations.nodes.some(
          (o: { id: string; budgetSummary: unknown[] }) => o.id === org && o.budgetSummary.length,
        ),
      ).toBe(true);
      return sys.counters.budgets.total;
    };
    const ten = await summaries(10);
    expect(await summaries(100)).toBe(ten);
    // The grouped totals, and the labels of their codes.
    expect(ten).toBe(2);
  });
});
