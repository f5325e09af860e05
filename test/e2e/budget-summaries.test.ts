import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { prepareSubgraph } from '@civic/common/bootstrap';
import {
  storedSummaryPlan,
  summarize,
  summarizeLines,
  type GroupSpec,
  type SummarizeOptions,
} from '@civic/subgraphs/budgets/src/aggregates';
import { BUDGET_PHASES, CLASSIFICATION_TYPES } from '@civic/subgraphs/budgets/src/entities/Budget';
import { importers as budgetsImporters } from '@civic/subgraphs/budgets/src/import';
import { lineAmountSql, NO_LINE_FILTER, type LineFilter } from '@civic/subgraphs/budgets/src/list';
import { figureColumn } from '@civic/subgraphs/budgets/src/summaries';
import { generateBudgets } from '@civic/subgraphs/budgets/src/synthetic';
import { datasetPath, SOURCES } from '@civic/formats/sources';
import { importWith } from '../support/imports';
import { BACKENDS, MODULES, seededStorage, type Backend } from '../support/system';

/*
 * The stored sums (summaries.ts) against the lines they summarize: every summary shape they serve must give
 * exactly the rows computed from the lines (same groups, order, counts, totals and dates), and every line's
 * stored figure must be the one `lineAmountSql` picks, on the seeded real data with synthetic budgets, then
 * after imports that add, change and remove lines (a Tunisian file changed and pruned, data packages with
 * several classifications and measures, changed and pruned).
 */

const FDP = join(__dirname, '..', 'fixtures', 'import', 'fiscal-data-package');
const TUNISIA = datasetPath(SOURCES.tunisiaBudget.file);
const dir = mkdtempSync(join(tmpdir(), 'civic-budget-summaries-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let copies = 0;
/** A folder of its own holding `name` with `content` (the Tunisian importer reads the municipality from it). */
function fileCopy(name: string, content: string): string {
  const folder = join(dir, `f${++copies}`);
  mkdirSync(folder);
  writeFileSync(join(folder, name), content);
  return join(folder, name);
}
/** A copy of a data package with its CSV rewritten. */
function packageCopy(from: string, csv: (text: string) => string): string {
  const folder = join(dir, `p${++copies}`);
  cpSync(from, folder, { recursive: true });
  const file = readdirSync(folder).find((f) => f.endsWith('.csv'))!;
  writeFileSync(join(folder, file), csv(readFileSync(join(folder, file), 'utf8')));
  return folder;
}

const plain = (...dimensions: GroupSpec['dimension'][]): GroupSpec[] =>
  dimensions.map((dimension) => ({ dimension, level: null, name: null }));
const typed = (type: GroupSpec['dimension'], ...others: GroupSpec['dimension'][]): GroupSpec[] => [
  ...plain(...others),
  { dimension: type, level: 1, name: null },
];

/** Every grouping the stored sums serve, taken as subsets of their dimensions (property-style, exhaustive). */
function groupings(): GroupSpec[][] {
  const out: GroupSpec[][] = [];
  const base = ['FISCAL_YEAR', 'DIRECTION', 'CLASSIFICATION', 'CODE_LEVEL_1', 'ORGANIZATION'] as const;
  for (let mask = 0; mask < 1 << base.length; mask++)
    out.push(plain(...base.filter((_, i) => mask & (1 << i))));
  for (const t of CLASSIFICATION_TYPES) {
    out.push(typed(t), typed(t, 'FISCAL_YEAR'), typed(t, 'DIRECTION', 'FISCAL_YEAR'));
  }
  // Order matters to the rows' order: a type first, then the year.
  out.push([{ dimension: 'FUNCTIONAL', level: 1, name: null }, ...plain('FISCAL_YEAR')]);
  return out;
}

/** Filters the stored sums serve, for the data at hand (a year, an organization and a budget that exist). */
async function filters(ds: DataSource): Promise<Partial<LineFilter>[]> {
  const [b]: { id: string; o: string; y: number }[] = await ds.query(
    `SELECT id, organization_id AS o, fiscal_year AS y FROM budgets ORDER BY id LIMIT 1`,
  );
  const [c]: { c: string }[] = await ds.query(
    `SELECT classification AS c FROM budget_lines WHERE classification IS NOT NULL ORDER BY id LIMIT 1`,
  );
  return [
    {},
    { direction: 'EXPENDITURE' },
    { fiscalYear: Number(b.y) },
    { fiscalYears: { min: 2015, max: 2019 } },
    { fiscalYears: { min: 2018, max: null }, direction: 'REVENUE' },
    { classification: c.c },
    { organizationId: b.o },
    { budgetId: b.id },
  ];
}

/** Summarizes through the stored sums (which must serve the shape) and from the lines; both must agree. */
async function expectSame(ds: DataSource, opts: SummarizeOptions): Promise<boolean> {
  if (!storedSummaryPlan(opts)) return false;
  const stored = await summarize(ds, opts);
  const lines = await summarizeLines(ds, opts);
  expect({ opts, rows: stored }).toEqual({ opts, rows: lines });
  return true;
}

/** Every shape served from the stored sums equals the lines' answer; every stored figure is the line's. */
async function expectExact(ds: DataSource): Promise<void> {
  let served = 0;
  for (const f of await filters(ds))
    for (const groupBy of groupings()) {
      const filter = { ...NO_LINE_FILTER, ...f };
      if (await expectSame(ds, { filter, bounds: [], groupBy })) served += 1;
    }
  // Batches: Organization.budgetSummary (a hidden organization key) and Budget.total (a hidden budget key).
  const orgs: { o: string }[] = await ds.query(
    `SELECT DISTINCT organization_id AS o FROM budgets ORDER BY o`,
  );
  const budgets: { id: string }[] = await ds.query(`SELECT id FROM budgets ORDER BY id`);
  for (const groupBy of [plain(), plain('FISCAL_YEAR'), plain('FISCAL_YEAR', 'DIRECTION', 'CODE_LEVEL_1')]) {
    const organizationIds = [...orgs.map((r) => r.o), 'no-such-organization'];
    expect(await expectSame(ds, { filter: NO_LINE_FILTER, bounds: [], groupBy, organizationIds })).toBe(true);
  }
  for (const direction of ['EXPENDITURE', 'REVENUE'] as const) {
    const budgetIds = budgets.map((r) => r.id);
    const filter = { ...NO_LINE_FILTER, direction };
    expect(await expectSame(ds, { filter, bounds: [], groupBy: [], budgetIds })).toBe(true);
  }
  expect(served).toBeGreaterThan(200);

  const expected = BUDGET_PHASES.map((p, i) => `${lineAmountSql('l', p, false)} AS e${i}`);
  const stored = BUDGET_PHASES.map((p, i) => `l.${figureColumn(p)} AS s${i}`);
  const rows: Record<string, string | number | null>[] = await ds.query(
    `SELECT l.id, ${expected.join(', ')}, ${stored.join(', ')} FROM budget_lines l ORDER BY l.id`,
  );
  const text = (v: string | number | null) => (v === null ? null : String(v));
  const wrong = rows.filter((r) => BUDGET_PHASES.some((_, i) => text(r[`e${i}`]) !== text(r[`s${i}`])));
  expect(wrong).toEqual([]);
  expect(rows.some((r) => r.s1 !== null)).toBe(true);
}

/** What a shape not served from the stored sums looks like: the plan says so (and summarize reads the lines). */
test('the stored sums serve only the shapes they hold', () => {
  const filter = NO_LINE_FILTER;
  const plan = (groupBy: GroupSpec[], f: Partial<LineFilter> = {}, batch: Partial<SummarizeOptions> = {}) =>
    storedSummaryPlan({ filter: { ...filter, ...f }, bounds: [], groupBy, ...batch });
  expect(plan(plain('FISCAL_YEAR', 'DIRECTION'))).toEqual({ table: 'years', grain: '' });
  expect(plan(typed('FUNCTIONAL'))).toEqual({ table: 'years', grain: 'FUNCTIONAL' });
  expect(plan(plain('ORGANIZATION'))).toEqual({ table: 'cells', grain: '' });
  expect(plan(plain('DIRECTION'), { budgetId: 'b' })).toEqual({ table: 'cells', grain: '' });
  expect(plan(plain(), {}, { budgetIds: ['b'] })).toEqual({ table: 'cells', grain: '' });
  expect(plan(plain('CODE_LEVEL_2'))).toBeNull();
  expect(plan([{ dimension: 'FUNCTIONAL', level: 2, name: null }])).toBeNull();
  expect(plan([{ dimension: 'FUNCTIONAL', level: 1, name: 'cofog' }])).toBeNull();
  expect(plan([{ dimension: 'FUNCTIONAL', level: null, name: null }])).toBeNull();
  expect(plan([...typed('FUNCTIONAL'), { dimension: 'ECONOMIC', level: 1, name: null }])).toBeNull();
  expect(plan(typed('FUNCTIONAL', 'CODE_LEVEL_1'))).toBeNull();
  expect(plan(typed('FUNCTIONAL'), { organizationId: 'o' })).toBeNull();
  expect(plan(plain('FISCAL_YEAR'), { codePrefix: '1' })).toBeNull();
  expect(plan(plain('FISCAL_YEAR'), { measure: 'approved' })).toBeNull();
  expect(
    plan(plain('FISCAL_YEAR'), { search: { terms: [{ text: 'eau', prefix: false }] } as never }),
  ).toBeNull();
  expect(plan(plain('FISCAL_YEAR'), { amount: { phase: 'APPROVED', min: '1', max: null } })).toBeNull();
  expect(
    plan(plain('FISCAL_YEAR'), {
      classifications: [{ type: 'FUNCTIONAL', dimension: null, scheme: null, code: '01' }],
    }),
  ).toBeNull();
});

describe.each(BACKENDS)('stored budget sums on %s', (backend: Backend) => {
  let ds: DataSource;
  let drop: () => Promise<void>;
  const run = (kind: string, path: string, prune = false) =>
    importWith(budgetsImporters, kind, ds, path, { prune, batchSize: 50 });

  beforeAll(async () => {
    // Migrated and seeded: a copy of this run's seeded template (test/support/templates.ts).
    const fresh = await seededStorage(backend, ['budgets']);
    drop = fresh.drop;
    ds = await prepareSubgraph(MODULES.budgets, fresh.storage.budgets, { seed: 'never' });
  }, 240_000);
  afterAll(async () => {
    await ds?.destroy();
    await drop?.();
  });

  it('equal the lines on the real data with synthetic budgets', async () => {
    await generateBudgets(ds, 1, 7);
    await expectExact(ds);
  }, 240_000);

  it('equal the lines after a Tunisian file changes figures and loses a line (pruned)', async () => {
    const name = 'depense_per_year_34012.csv';
    const text = readFileSync(join(TUNISIA, name), 'utf8');
    const rows = text.split('\n');
    // A figure doubled on one row (digits appended), another row gone.
    const changed = rows
      .map((r, i) => (i === 3 ? r.replace(/(\d)(,|$)/, '$1$10$2') : r))
      .filter((_, i) => i !== 5);
    const report = await run('tn-municipal-budget', fileCopy(name, changed.join('\n')), true);
    expect(report.parts[0].pruned).toBeGreaterThan(0);
    expect(
      report.parts[0].tables.budget_lines.updated + report.parts[0].tables.budget_amounts.updated,
    ).toBeGreaterThan(0);
    await expectExact(ds);
    // And back: the real file again restores what was changed and removed.
    await run('tn-municipal-budget', fileCopy(name, text), true);
    await expectExact(ds);
  }, 240_000);

  it('equal the lines after data packages with several classifications and measures, changed and pruned', async () => {
    for (const pkg of ['three-classifications', 'two-classifications', 'cofog-sample', 'transactions'])
      await run('fiscal-data-package', join(FDP, pkg));
    await expectExact(ds);
    const fewer = packageCopy(join(FDP, 'cofog-sample'), (csv) => {
      const lines = csv.split('\n');
      return [lines[0], lines[1].replace('1250000.00', '1250001.00'), ...lines.slice(3)].join('\n');
    });
    const report = await run('fiscal-data-package', fewer, true);
    expect(report.parts[0].pruned).toBeGreaterThan(0);
    await expectExact(ds);
  }, 240_000);
});
