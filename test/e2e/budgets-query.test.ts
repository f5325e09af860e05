import {
  BudgetAmountEntity,
  BudgetEntity,
  BudgetLineEntity,
  CommitmentBudgetLineEntity,
} from '@civic/subgraphs/budgets/src/entities/Budget';
import { bouAradaLineId, byCodePoint, readCsv, sumMillimes, tnBudgetCode } from '../support/datasets';
import { refreshStoredSums } from '../support/budget-summaries';
import { BACKENDS, startSystem, type GraphQLResponse, type System } from '../support/system';

/**
 * The budget queries through the gateway, on every backend: `budgetSummary` groups, `budgetLines` filters and
 * AMOUNT order walked page by page, `Organization.budgetSummary` and `Commitment.funding`. Expected values are
 * computed here from the Bou Arada files themselves, with csv-parse and BigInt, never from the seed code.
 */

type Row = Record<string, string>;
const expenditure = readCsv('tunisia/depense_per_year_34012.csv');
const revenue = readCsv('tunisia/recette_per_year_34012.csv');
/** The monthly file repeats 15 rows cell for cell: a repeated row is one line. */
const monthly = [
  ...new Map(readCsv('tunisia/Depence_mensuelle_2018_34012.csv').map((r) => [JSON.stringify(r), r])).values(),
];
const YEARS = ['2013', '2014', '2015', '2016', '2017', '2018'];
const BOU_ARADA = 'tn-municipality-34012';
const FEB = 'Budget_02_2018';

const cells = (rows: Row[], column: string) => rows.map((r) => r[column]).filter((c) => c.trim() !== '');
const millimes = (cell: string) => {
  // BigInt('') is 0: an empty cell (no amount) must never pass for a zero.
  if (cell.trim() === '') throw new Error('empty amount cell');
  return BigInt(cell.trim());
};
/** EXECUTED / APPROVED rounded to 6 decimals, half away from zero, in integers (all values here are >= 0). */
function rate(executed: string, approved: string): number {
  const e = BigInt(executed.replace('.', ''));
  const a = BigInt(approved.replace('.', ''));
  const q = (e * 2_000_000n + a) / (2n * a);
  return Number(`${q / 1_000_000n}.${(q % 1_000_000n).toString().padStart(6, '0')}`);
}

/** The totals an expected group has: APPROVED from a per-year column, EXECUTED from the February column. */
function totals(approvedCells: string[], executedCells: string[]) {
  const out: { phase: string; amount: { amount: string; currency: string }; asOf: string | null }[] = [];
  if (approvedCells.length) {
    out.push({
      phase: 'APPROVED',
      amount: { amount: sumMillimes(approvedCells), currency: 'TND' },
      asOf: null,
    });
  }
  if (executedCells.length) {
    out.push({
      phase: 'EXECUTED',
      amount: { amount: sumMillimes(executedCells), currency: 'TND' },
      asOf: '2018-02-28',
    });
  }
  return out;
}

const GROUP_FIELDS = /* GraphQL */ `
  keys {
    dimension
    value
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
`;

const SUMMARY = /* GraphQL */ `
  query Summary($filter: BudgetLineFilter, $groupBy: [BudgetDimension!]!) {
    budgetSummary(filter: $filter, groupBy: $groupBy) {
      ${GROUP_FIELDS}
    }
  }
`;

const LINES = /* GraphQL */ `
  query Lines($first: Int, $after: String, $filter: BudgetLineFilter, $orderBy: [BudgetLineOrder!]) {
    budgetLines(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
      totalCount
      nodes {
        id
        code
        label(lang: AR)
        amounts {
          phase
          amount {
            amount
          }
          asOf
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

interface LineNode {
  id: string;
  code: string;
  label: string;
  amounts: { phase: string; amount: { amount: string }; asOf: string | null }[];
}

describe.each(BACKENDS)('budget queries on %s', (backend) => {
  let sys: System;
  const q = (query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) =>
    sys.queryGateway<any>(query, variables, headers);

  beforeAll(async () => {
    sys = await startSystem(backend);
  });
  afterAll(async () => {
    await sys?.stop();
  });

  /** Walks a budgetLines query page by page; returns every node, checking totalCount on each page. */
  async function walk(variables: Record<string, unknown>, first: number): Promise<LineNode[]> {
    const nodes: LineNode[] = [];
    let after: string | null = null;
    let total = -1;
    for (let i = 0; i < 200; i++) {
      const res: GraphQLResponse = await q(LINES, { ...variables, first, after });
      expect(res.errors).toBeUndefined();
      const page = (res.data as any).budgetLines;
      if (total >= 0) expect(page.totalCount).toBe(total);
      total = page.totalCount;
      // A full page while there is more; the last page exactly what is left (never empty unless nothing is).
      expect({ size: page.nodes.length, hasNextPage: page.pageInfo.hasNextPage }).toEqual({
        size: Math.min(first, total - nodes.length),
        hasNextPage: nodes.length + first < total,
      });
      nodes.push(...page.nodes);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(nodes).toHaveLength(total);
    return nodes;
  }

  test("Bou Arada's 2018 approved expenditure by Titre (CODE_LEVEL_1), with execution to February", async () => {
    const titres = [...new Set(expenditure.map((r) => r.Titre.trim()))].sort(byCodePoint);
    // No line's code is a bare Titre: there is no aggregate line to take a label from.
    expect(expenditure.some((r) => titres.includes(tnBudgetCode(r)))).toBe(false);
    const expected = titres.map((t) => {
      const rows = expenditure.filter((r) => r.Titre.trim() === t);
      const approved = cells(rows, '2018');
      const executed = cells(
        monthly.filter((r) => r.Titre.trim() === t),
        FEB,
      );
      return {
        keys: [{ dimension: 'CODE_LEVEL_1', value: t, label: null }],
        currency: 'TND',
        lineCount: rows.length,
        totals: totals(approved, executed),
        executionRate: rate(sumMillimes(executed), sumMillimes(approved)),
      };
    });
    const res = await q(SUMMARY, {
      filter: { organizationId: BOU_ARADA, fiscalYear: 2018, direction: 'EXPENDITURE' },
      groupBy: ['CODE_LEVEL_1'],
    });
    expect(res.errors).toBeUndefined();
    expect(res.data.budgetSummary).toEqual(expected);
    // Written out too, so a change in the data cannot pass unnoticed.
    expect(expected.map((g) => [g.keys[0].value, g.lineCount, g.totals[0].amount.amount])).toEqual([
      ['1', 84, '1057523.409'],
      ['2', 14, '380279.874'],
    ]);
  });

  test('2018 approved amounts by direction and Titre.Article (CODE_LEVEL_2)', async () => {
    const expected = (
      [
        ['EXPENDITURE', expenditure],
        ['REVENUE', revenue],
      ] as const
    ).flatMap(([direction, rows]) => {
      const articles = [...new Set(rows.map((r) => `${r.Titre.trim()}.${r.Article.trim()}`))].sort(
        byCodePoint,
      );
      return articles.map((article) => {
        const group = rows.filter((r) => `${r.Titre.trim()}.${r.Article.trim()}` === article);
        return {
          direction,
          article,
          lineCount: group.length,
          approved: cells(group, '2018').length ? sumMillimes(cells(group, '2018')) : null,
        };
      });
    });
    const res = await q(SUMMARY, {
      filter: { budgetId: 'tn-34012-2018' },
      groupBy: ['DIRECTION', 'CODE_LEVEL_2'],
    });
    expect(res.errors).toBeUndefined();
    expect(
      res.data.budgetSummary.map(
        (g: {
          keys: { value: string }[];
          lineCount: number;
          totals: { phase: string; amount: { amount: string } }[];
        }) => ({
          direction: g.keys[0].value,
          article: g.keys[1].value,
          lineCount: g.lineCount,
          approved: g.totals.find((t) => t.phase === 'APPROVED')?.amount.amount ?? null,
        }),
      ),
    ).toEqual(expected);
  });

  test('code levels take their label from an aggregate line sharing the group keys, latest year first', async () => {
    const db = sys.dataSources.budgets;
    const org = 'test-org-labels';
    const source = {
      sourceDataset: 'test fixture',
      sourceUrl: null,
      sourceLicense: null,
      sourceRecord: null,
    };
    const budgets = [
      { id: 'test-labels-2018', organizationId: org, fiscalYear: 2018, currency: 'TND', ...source },
      { id: 'test-labels-2019', organizationId: org, fiscalYear: 2019, currency: 'TND', ...source },
    ];
    const line = (budgetId: string, code: string, labelFr: string | null, labelAr: string | null = null) => ({
      id: `${budgetId}-${code}`,
      budgetId,
      direction: 'EXPENDITURE' as const,
      code,
      labelAr,
      labelFr,
      labelEn: null,
      labelEs: null,
      classification: 'test',
      ...source,
    });
    const lines = [
      line('test-labels-2018', '7', 'Titre sept (2018)'),
      line('test-labels-2019', '7', 'Titre sept', 'الباب السابع'),
      line('test-labels-2019', '7.01', 'Article un'),
      line('test-labels-2019', '7.01.0001', null),
      line('test-labels-2019', '8.02.0001', 'Détail'),
    ];
    await db.getRepository(BudgetEntity).save(budgets);
    await db.getRepository(BudgetLineEntity).save(lines);
    await db.getRepository(BudgetAmountEntity).save(
      lines.map((l, i) => ({
        lineId: l.id,
        phase: 'APPROVED' as const,
        asOf: '',
        measure: '',
        amountMinor: String(10 ** i),
        sourceRecord: null,
      })),
    );
    await refreshStoredSums(
      db,
      budgets.map((b) => b.id),
      lines.map((l) => l.id),
    );
    try {
      const summary = async (filter: object, groupBy: string[], headers?: Record<string, string>) => {
        const res = await q(SUMMARY, { filter: { organizationId: org, ...filter }, groupBy }, headers);
        expect(res.errors).toBeUndefined();
        return res.data.budgetSummary.map(
          (g: { keys: { value: string; label: string | null }[]; lineCount: number }) => [
            ...g.keys.map((k) => `${k.value}: ${k.label}`),
            g.lineCount,
          ],
        );
      };
      expect(await summary({ fiscalYear: 2019 }, ['CODE_LEVEL_1', 'CODE_LEVEL_2'])).toEqual([
        ['7: Titre sept', '7: Titre sept', 1],
        ['7: Titre sept', '7.01: Article un', 2],
        ['8: null', '8.02: null', 1],
      ]);
      // A code prefix selects detail lines; the Titre keeps the label of its aggregate line.
      expect(await summary({ fiscalYear: 2019, codePrefix: '7.01.' }, ['CODE_LEVEL_1'])).toEqual([
        ['7: Titre sept', 1],
      ]);
      // Without a year key: the latest year's aggregate line; with one, each year's own.
      expect(await summary({ codePrefix: '7' }, ['CODE_LEVEL_1'], { 'accept-language': 'ar' })).toEqual([
        ['7: الباب السابع', 4],
      ]);
      expect(await summary({ codePrefix: '7' }, ['FISCAL_YEAR', 'CODE_LEVEL_1'])).toEqual([
        ['2018: 2018', '7: Titre sept (2018)', 1],
        ['2019: 2019', '7: Titre sept', 3],
      ]);
      // The same labels through Organization.budgetSummary (the organization is not in the organizations
      // subgraph, so it is asked of the budgets subgraph as the gateway would).
      const entity = await sys.querySubgraph<any>(
        'budgets',
        /* GraphQL */ `
          query ($reps: [_Any!]!) {
            _entities(representations: $reps) {
              ... on Organization {
                budgetSummary(groupBy: [CODE_LEVEL_1]) {
                  keys {
                    value
                    label
                  }
                  lineCount
                  totals {
                    amount {
                      amount
                    }
                  }
                }
              }
            }
          }
        `,
        { reps: [{ __typename: 'Organization', id: org }] },
      );
      expect(entity.errors).toBeUndefined();
      expect(entity.data._entities[0].budgetSummary).toEqual([
        {
          keys: [{ value: '7', label: 'Titre sept' }],
          lineCount: 4,
          totals: [{ amount: { amount: '1.111' } }],
        },
        { keys: [{ value: '8', label: null }], lineCount: 1, totals: [{ amount: { amount: '10.000' } }] },
      ]);
    } finally {
      await db.getRepository(BudgetAmountEntity).delete(lines.map((l) => ({ lineId: l.id })));
      await db.getRepository(BudgetLineEntity).delete(lines.map((l) => l.id));
      await db.getRepository(BudgetEntity).delete(budgets.map((b) => b.id));
      await refreshStoredSums(
        db,
        budgets.map((b) => b.id),
      );
    }
  });

  test('approved amounts by fiscal year and direction, labels in the request language', async () => {
    const expected = YEARS.flatMap((year) =>
      (
        [
          ['EXPENDITURE', 'Dépenses', expenditure],
          ['REVENUE', 'Recettes', revenue],
        ] as const
      ).map(([direction, label, rows]) => {
        const approved = cells(rows, year);
        // Execution figures exist for 2018 expenditure only (the revenue monthly file's months are empty).
        const executed = year === '2018' && direction === 'EXPENDITURE' ? cells(monthly, FEB) : [];
        return {
          keys: [
            { dimension: 'FISCAL_YEAR', value: year, label: year },
            { dimension: 'DIRECTION', value: direction, label },
          ],
          currency: 'TND',
          lineCount: rows.length,
          totals: totals(approved, executed),
          executionRate: executed.length ? rate(sumMillimes(executed), sumMillimes(approved)) : null,
        };
      }),
    );
    const res = await q(SUMMARY, {
      filter: { organizationId: BOU_ARADA },
      groupBy: ['FISCAL_YEAR', 'DIRECTION'],
    });
    expect(res.errors).toBeUndefined();
    expect(res.data.budgetSummary).toEqual(expected);
    expect(expected.find((g) => g.keys[0].value === '2018')!.totals[0].amount.amount).toBe('1437803.283');

    const arabic = await q(
      SUMMARY,
      { filter: { budgetId: 'tn-34012-2018' }, groupBy: ['DIRECTION'] },
      { 'accept-language': 'ar' },
    );
    expect(arabic.errors).toBeUndefined();
    expect(arabic.data.budgetSummary.map((g: { keys: { label: string }[] }) => g.keys[0].label)).toEqual([
      'نفقات',
      'موارد',
    ]);
  });

  test('the execution rate at the end of February 2018: executed / approved expenditure, exact', async () => {
    const approved = sumMillimes(cells(expenditure, '2018'));
    const executed = sumMillimes(cells(monthly, FEB));
    const res = await q(
      /* GraphQL */ `
        query Rate($filter: BudgetLineFilter) {
          budgetSummary(filter: $filter, groupBy: []) {
            ${GROUP_FIELDS}
          }
          budget(id: "tn-34012-2018") {
            executed: total(direction: EXPENDITURE, phase: EXECUTED) {
              amount
            }
          }
        }
      `,
      { filter: { budgetId: 'tn-34012-2018', direction: 'EXPENDITURE' } },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.budgetSummary).toEqual([
      {
        keys: [],
        currency: 'TND',
        lineCount: expenditure.length,
        totals: [
          { phase: 'APPROVED', amount: { amount: approved, currency: 'TND' }, asOf: null },
          { phase: 'EXECUTED', amount: { amount: executed, currency: 'TND' }, asOf: '2018-02-28' },
        ],
        executionRate: rate(executed, approved),
      },
    ]);
    // Budget.total adds each line's latest figure, as the summary does.
    expect(res.data.budget.executed.amount).toBe(executed);
    expect([approved, executed, rate(executed, approved)]).toEqual(['1437803.283', '78463.548', 0.054572]);
  });

  test("Budget.total is budgetSummary's total for every budget, direction and phase, one statement per direction", async () => {
    const TOTALS = /* GraphQL */ `
      {
        budgets(filter: { organizationId: "${BOU_ARADA}" }, orderBy: [{ field: FISCAL_YEAR }]) {
          nodes {
            fiscalYear
            expenditureApproved: total(direction: EXPENDITURE, phase: APPROVED) {
              amount
            }
            expenditureExecuted: total(direction: EXPENDITURE, phase: EXECUTED) {
              amount
            }
            revenueApproved: total(direction: REVENUE, phase: APPROVED) {
              amount
            }
            revenueExecuted: total(direction: REVENUE, phase: EXECUTED) {
              amount
            }
          }
        }
      }
    `;
    sys.counters.budgets.reset();
    const res = await q(TOTALS);
    const withTotals = sys.counters.budgets.total;
    expect(res.errors).toBeUndefined();
    sys.counters.budgets.reset();
    expect((await q(TOTALS.replace(/\w+: total\([^)]*\) \{\s*amount\s*\}/g, ''))).errors).toBeUndefined();
    // Four totals of six budgets: one statement for expenditure, one for revenue.
    expect(withTotals - sys.counters.budgets.total).toBe(2);
    const summary = await q(SUMMARY, {
      filter: { organizationId: BOU_ARADA },
      groupBy: ['FISCAL_YEAR', 'DIRECTION'],
    });
    expect(summary.errors).toBeUndefined();
    const fromSummary = (year: number, direction: string, phase: string) => {
      const group = summary.data.budgetSummary.find(
        (g: { keys: { value: string }[] }) =>
          g.keys[0].value === String(year) && g.keys[1].value === direction,
      );
      const total = group?.totals.find((t: { phase: string }) => t.phase === phase);
      return total ? { amount: total.amount.amount } : null;
    };
    expect(res.data.budgets.nodes).toEqual(
      YEARS.map((y) => ({
        fiscalYear: Number(y),
        expenditureApproved: fromSummary(Number(y), 'EXPENDITURE', 'APPROVED'),
        expenditureExecuted: fromSummary(Number(y), 'EXPENDITURE', 'EXECUTED'),
        revenueApproved: fromSummary(Number(y), 'REVENUE', 'APPROVED'),
        revenueExecuted: fromSummary(Number(y), 'REVENUE', 'EXECUTED'),
      })),
    );
    // And from the files: approved per year, execution only for 2018's expenditure, none for revenue.
    expect(
      res.data.budgets.nodes.map((b: any) => [
        b.expenditureApproved?.amount,
        b.expenditureExecuted?.amount ?? null,
        b.revenueApproved?.amount,
        b.revenueExecuted,
      ]),
    ).toEqual(
      YEARS.map((y) => [
        sumMillimes(cells(expenditure, y)),
        y === '2018' ? sumMillimes(cells(monthly, FEB)) : null,
        sumMillimes(cells(revenue, y)),
        null,
      ]),
    );

    // Lines recorded at different dates: each adds its own latest figure (a whole-year one first), never
    // only the lines that have a figure at the budget's latest date.
    const db = sys.dataSources.budgets;
    const source = {
      sourceDataset: 'test fixture',
      sourceUrl: null,
      sourceLicense: null,
      sourceRecord: null,
    };
    const figures: [string, string, string][] = [
      ['a', '2030-01-31', '100'], // January only: counts at January
      ['b', '2030-01-31', '50'],
      ['b', '2030-02-28', '70'], // counts at February
      ['c', '2030-02-28', '5'],
      ['c', '', '1000'], // a whole-year figure wins over a dated one
    ];
    await db
      .getRepository(BudgetEntity)
      .save({ id: 'test-total', organizationId: 'test-org', fiscalYear: 2030, currency: 'TND', ...source });
    await db.getRepository(BudgetLineEntity).save(
      ['a', 'b', 'c'].map((l) => ({
        id: `test-total-${l}`,
        budgetId: 'test-total',
        direction: 'EXPENDITURE' as const,
        code: `1.00000.0000.00${l}`,
        labelAr: null,
        labelFr: null,
        labelEn: null,
        labelEs: null,
        classification: null,
        ...source,
      })),
    );
    await db.getRepository(BudgetAmountEntity).save(
      figures.map(([l, asOf, minor]) => ({
        lineId: `test-total-${l}`,
        phase: 'EXECUTED' as const,
        asOf,
        measure: '',
        amountMinor: minor,
        sourceRecord: null,
      })),
    );
    await refreshStoredSums(
      db,
      ['test-total'],
      ['a', 'b', 'c'].map((l) => `test-total-${l}`),
    );
    try {
      const fixture = await q(/* GraphQL */ `
        {
          budget(id: "test-total") {
            executed: total(direction: EXPENDITURE, phase: EXECUTED) {
              amount
              currency
            }
            approved: total(direction: EXPENDITURE, phase: APPROVED) {
              amount
            }
          }
          budgetSummary(filter: { budgetId: "test-total" }, groupBy: []) {
            totals {
              phase
              amount {
                amount
              }
              asOf
            }
          }
        }
      `);
      expect(fixture.errors).toBeUndefined();
      expect(fixture.data).toEqual({
        budget: { executed: { amount: '1.170', currency: 'TND' }, approved: null },
        budgetSummary: [{ totals: [{ phase: 'EXECUTED', amount: { amount: '1.170' }, asOf: '2030-02-28' }] }],
      });
    } finally {
      await db
        .getRepository(BudgetAmountEntity)
        .delete(
          figures.map(([l, asOf]) => ({ lineId: `test-total-${l}`, phase: 'EXECUTED' as const, asOf })),
        );
      await db.getRepository(BudgetLineEntity).delete(['a', 'b', 'c'].map((l) => `test-total-${l}`));
      await db.getRepository(BudgetEntity).delete('test-total');
      await refreshStoredSums(db, ['test-total']);
    }
  });

  test('budgetLines: an amount range, ordered by APPROVED amount, walked across pages', async () => {
    const min = 5_000_000n; // "5000" TND
    const max = 60_000_000n; // "60000.000" TND
    const expected = [
      ...expenditure.map((r) => ({ id: bouAradaLineId('2018', 'EXP', r), row: r })),
      ...revenue.map((r) => ({ id: bouAradaLineId('2018', 'REV', r), row: r })),
    ]
      .filter(({ row }) => row['2018'].trim() !== '')
      .map(({ id, row }) => ({ id, amount: millimes(row['2018']), label: row.Imputation.trim() }))
      .filter((l) => l.amount >= min && l.amount <= max)
      // Largest first; equal amounts by id, ascending.
      .sort((a, b) => (a.amount !== b.amount ? (a.amount > b.amount ? -1 : 1) : byCodePoint(a.id, b.id)));
    // Ties are there to break, and the range holds both directions and more than a page.
    expect(expected.length).toBeGreaterThan(12);
    expect(new Set(expected.map((l) => l.amount)).size).toBeLessThan(expected.length);
    expect(new Set(expected.map((l) => l.id.split('-')[3])).size).toBe(2);

    const nodes = await walk(
      {
        filter: {
          organizationId: BOU_ARADA,
          fiscalYear: 2018,
          amount: { phase: 'APPROVED', min: '5000', max: '60000.000' },
        },
        orderBy: [{ field: 'AMOUNT', phase: 'APPROVED', direction: 'DESC' }],
      },
      4,
    );
    const approvedOf = (n: LineNode) => n.amounts.find((a) => a.phase === 'APPROVED')!.amount.amount;
    expect(nodes.map((n) => [n.id, approvedOf(n), n.label])).toEqual(
      expected.map((l) => [l.id, sumMillimes([String(l.amount)]), l.label]),
    );
  });

  test('budgetLines ordered by EXECUTED amount (latest date), lines with none first, by code on ties', async () => {
    // An empty cell, or a line the monthly file omits, is no execution figure.
    const feb = new Map(
      monthly.filter((r) => r[FEB].trim() !== '').map((r) => [tnBudgetCode(r), millimes(r[FEB])]),
    );
    const expected = expenditure
      .map((r) => ({ code: tnBudgetCode(r), executed: feb.get(tnBudgetCode(r)) ?? null }))
      .sort((a, b) => {
        if (a.executed !== b.executed) {
          if (a.executed === null) return -1;
          if (b.executed === null) return 1;
          return a.executed < b.executed ? -1 : 1;
        }
        return byCodePoint(a.code, b.code);
      });
    // Lines without a figure (more than a page of them, so the walk crosses null cursors), then ties at zero.
    expect(expected.filter((e) => e.executed === null).length).toBeGreaterThan(17);
    expect(expected.filter((e) => e.executed === 0n).length).toBeGreaterThan(17);
    const nodes = await walk(
      {
        filter: { budgetId: 'tn-34012-2018', direction: 'EXPENDITURE' },
        orderBy: [{ field: 'AMOUNT', phase: 'EXECUTED' }, { field: 'CODE' }],
      },
      17,
    );
    expect(nodes.map((n) => n.code)).toEqual(expected.map((e) => e.code));
    // The amount ordered by is the figure at the latest date.
    for (const [n, e] of nodes.map((n, i) => [n, expected[i]] as const)) {
      const latest = n.amounts.filter((a) => a.phase === 'EXECUTED').pop();
      expect(latest ? [latest.asOf, latest.amount.amount] : null).toEqual(
        e.executed === null ? null : ['2018-02-28', sumMillimes([String(e.executed)])],
      );
    }
  });

  test("Budget.lines takes the same filter, with amounts in the budget's currency; budgetLines agrees", async () => {
    const expected = monthly
      .filter((r) => r[FEB].trim() !== '' && millimes(r[FEB]) >= 1_000_000n)
      .map(tnBudgetCode)
      .filter((c) => c.startsWith('1.'))
      .sort(byCodePoint);
    expect(expected.length).toBeGreaterThan(3);
    const res = await q(/* GraphQL */ `
      {
        budget(id: "tn-34012-2018") {
          lines(first: 100, filter: { codePrefix: "1.", amount: { phase: EXECUTED, min: "1000" } }) {
            totalCount
            nodes {
              code
            }
          }
        }
        budgetLines(
          first: 100
          filter: { budgetId: "tn-34012-2018", codePrefix: "1.", amount: { phase: EXECUTED, min: "1000" } }
          orderBy: [{ field: CODE }]
        ) {
          totalCount
          nodes {
            code
          }
        }
      }
    `);
    expect(res.errors).toBeUndefined();
    for (const list of [res.data.budget.lines, res.data.budgetLines]) {
      expect(list.totalCount).toBe(expected.length);
      expect(list.nodes.map((n: { code: string }) => n.code)).toEqual(expected);
    }
  });

  test('budgets: fiscal year range and order', async () => {
    const res = await q(/* GraphQL */ `
      {
        budgets(
          filter: { organizationId: "tn-municipality-34012", fiscalYears: { min: 2014, max: 2016 } }
          orderBy: [{ field: FISCAL_YEAR, direction: DESC }]
        ) {
          totalCount
          nodes {
            id
          }
        }
      }
    `);
    expect(res.errors).toBeUndefined();
    expect(res.data.budgets).toEqual({
      totalCount: 3,
      nodes: [{ id: 'tn-34012-2016' }, { id: 'tn-34012-2015' }, { id: 'tn-34012-2014' }],
    });
  });

  test('bad arguments are refused with BAD_USER_INPUT, naming the argument', async () => {
    const cases: [string, string, RegExp][] = [
      [
        `{ budgets(filter: { fiscalYears: { min: 2018, max: 2013 } }) { totalCount } }`,
        'filter.fiscalYears',
        /min 2018 greater than max 2013/,
      ],
      [
        `{ budgetLines(filter: { amount: { phase: APPROVED, min: "12,5" } }) { totalCount } }`,
        'filter.amount.min',
        /exact decimal string.*got "12,5"/,
      ],
      [
        `{ budgetLines(filter: { organizationId: "tn-municipality-34012", amount: { phase: APPROVED, min: "1.0005" } }) { totalCount } }`,
        'filter.amount.min',
        /4 decimals.*TND, which has 3/,
      ],
      [
        `{ budgetSummary(filter: { amount: { phase: APPROVED, min: "1e3" } }, groupBy: []) { currency } }`,
        'filter.amount.min',
        /exact decimal string/,
      ],
      [
        `{ budget(id: "tn-34012-2018") { lines(filter: { amount: { phase: EXECUTED, max: "0.0001" } }) { totalCount } } }`,
        'filter.amount.max',
        /4 decimals.*TND, which has 3/,
      ],
      [
        `{ budgetLines(filter: { amount: { phase: APPROVED, min: "10", max: "9.999" } }) { totalCount } }`,
        'filter.amount',
        /min 10 greater than max 9.999/,
      ],
      [`{ budgetLines(orderBy: [{ field: AMOUNT }]) { totalCount } }`, 'orderBy', /AMOUNT without a phase/],
      [
        `{ budgetLines(orderBy: [{ field: CODE, phase: APPROVED }]) { totalCount } }`,
        'orderBy',
        /only AMOUNT takes one/,
      ],
      [`{ budgetSummary(groupBy: [DIRECTION, DIRECTION]) { currency } }`, 'groupBy', /lists DIRECTION twice/],
    ];
    for (const [query, argument, message] of cases) {
      const res = await q(query);
      // Nothing is returned: a root field is null (data null), a nested one nulls its nullable parent.
      expect({ query, data: Object.values(res.data ?? {}) }).toEqual({ query, data: res.data ? [null] : [] });
      expect(res.errors?.[0]).toMatchObject({
        message: expect.stringMatching(message),
        extensions: { code: 'BAD_USER_INPUT', argumentName: argument },
      });
    }

    // A cursor carries its ordering, phase included.
    const page = await q(LINES, {
      first: 1,
      filter: { budgetId: 'tn-34012-2018' },
      orderBy: [{ field: 'AMOUNT', phase: 'APPROVED' }],
    });
    const other = await q(LINES, {
      first: 1,
      after: page.data.budgetLines.pageInfo.endCursor,
      filter: { budgetId: 'tn-34012-2018' },
      orderBy: [{ field: 'AMOUNT', phase: 'EXECUTED' }],
    });
    expect(other.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/cursor from a list in another order/),
      extensions: { code: 'BAD_USER_INPUT', argumentName: 'after' },
    });
  });

  test('Commitment.funding adds up the linked lines by phase and currency, batched', async () => {
    const [first, second, unlinked] = (
      (await sys.dataSources.commitments.query('SELECT id FROM commitments ORDER BY id LIMIT 3')) as {
        id: string;
      }[]
    ).map((c) => c.id);
    const byCode = (rows: Row[], code: string) => rows.find((r) => tnBudgetCode(r) === code)!;
    const exp1 = byCode(expenditure, '1.01101.0001.000');
    const exp2 = byCode(expenditure, '1.01101.0002.000');
    const rev1 = byCode(revenue, '1.01101.00.00');
    const links = [
      { commitmentId: first, lineId: bouAradaLineId('2018', 'EXP', exp1) },
      { commitmentId: first, lineId: bouAradaLineId('2018', 'EXP', exp2) },
      { commitmentId: first, lineId: bouAradaLineId('2018', 'REV', rev1) },
      { commitmentId: second, lineId: bouAradaLineId('2017', 'EXP', exp1) },
    ];
    const repo = sys.dataSources.budgets.getRepository(CommitmentBudgetLineEntity);
    // The link table belongs to the budgets subgraph: the test writes it there, as an importer would.
    await repo.save(
      links.map((l) => ({
        ...l,
        sourceDataset: 'test fixture',
        sourceUrl: null,
        sourceLicense: null,
        sourceRecord: null,
      })),
    );
    try {
      const feb = (r: Row) => byCode(monthly, tnBudgetCode(r))[FEB];
      const both = await q(
        /* GraphQL */ `
          query Funding($a: ID!, $b: ID!, $c: ID!) {
            a: commitment(id: $a) {
              ...funding
            }
            b: commitment(id: $b) {
              ...funding
            }
            c: commitment(id: $c) {
              ...funding
            }
          }
          fragment funding on Commitment {
            funding {
              phase
              amount {
                amount
                currency
              }
              asOf
            }
          }
        `,
        { a: first, b: second, c: unlinked },
      );
      expect(both.errors).toBeUndefined();
      expect(both.data).toEqual({
        a: {
          funding: [
            {
              phase: 'APPROVED',
              amount: { amount: sumMillimes([exp1['2018'], exp2['2018'], rev1['2018']]), currency: 'TND' },
              asOf: null,
            },
            {
              phase: 'EXECUTED',
              amount: { amount: sumMillimes([feb(exp1), feb(exp2)]), currency: 'TND' },
              asOf: '2018-02-28',
            },
          ],
        },
        b: {
          funding: [
            {
              phase: 'APPROVED',
              amount: { amount: sumMillimes([exp1['2017']]), currency: 'TND' },
              asOf: null,
            },
          ],
        },
        c: { funding: [] },
      });

      // One statement for all the commitments of a page, however many.
      const counts: number[] = [];
      for (const n of [10, 100]) {
        sys.counters.budgets.reset();
        const page = await q(
          `{ commitments(first: ${n}) { nodes { id funding { phase amount { amount } } } } }`,
        );
        expect(page.errors).toBeUndefined();
        expect(page.data.commitments.nodes).toHaveLength(n);
        expect(
          page.data.commitments.nodes.filter((c: { funding: unknown[] }) => c.funding.length),
        ).toHaveLength(2);
        counts.push(sys.counters.budgets.total);
      }
      expect(counts).toEqual([1, 1]);
    } finally {
      await repo.delete(links);
    }
  });

  test('organizations(first: 10 vs 100) { budgetSummary } costs the budgets subgraph the same statements', async () => {
    const ids: string[] = (
      await q(`{ organizations(first: 100) { nodes { id } } }`)
    ).data.organizations.nodes.map((o: { id: string }) => o.id);
    expect(ids).toHaveLength(100);
    // Budgets for organizations on both pages (and two currencies for one of them, never added together).
    const fixtures = [
      { org: 0, year: 2020, currency: 'TND', minor: '1234567' },
      { org: 0, year: 2020, currency: 'MAD', minor: '98765' },
      { org: 3, year: 2021, currency: 'TND', minor: '5' },
      { org: 9, year: 2020, currency: 'TND', minor: '1000' },
      { org: 42, year: 2022, currency: 'MAD', minor: '700' },
      { org: 99, year: 2020, currency: 'TND', minor: '1' },
    ].map((f, i) => ({ ...f, id: `test-count-${i}`, organizationId: ids[f.org] }));
    const db = sys.dataSources.budgets;
    const source = {
      sourceDataset: 'test fixture',
      sourceUrl: null,
      sourceLicense: null,
      sourceRecord: null,
    };
    await db.getRepository(BudgetEntity).save(
      fixtures.map((f) => ({
        id: f.id,
        organizationId: f.organizationId,
        fiscalYear: f.year,
        currency: f.currency,
        ...source,
      })),
    );
    await db.getRepository(BudgetLineEntity).save(
      fixtures.map((f) => ({
        id: `${f.id}-line`,
        budgetId: f.id,
        direction: 'EXPENDITURE' as const,
        code: '1.00000.0000.000',
        labelAr: null,
        labelFr: 'ligne de test',
        labelEn: null,
        labelEs: null,
        classification: null,
        ...source,
      })),
    );
    await db.getRepository(BudgetAmountEntity).save(
      fixtures.map((f) => ({
        lineId: `${f.id}-line`,
        phase: 'APPROVED' as const,
        asOf: '',
        measure: '',
        amountMinor: f.minor,
        sourceRecord: null,
      })),
    );
    await refreshStoredSums(
      db,
      fixtures.map((f) => f.id),
      fixtures.map((f) => `${f.id}-line`),
    );
    try {
      const run = async (first: number) => {
        sys.counters.budgets.reset();
        const res = await q(
          `{ organizations(first: ${first}) { nodes { id budgetSummary(groupBy: [FISCAL_YEAR]) { ${GROUP_FIELDS} } } } }`,
        );
        expect(res.errors).toBeUndefined();
        return { nodes: res.data.organizations.nodes, statements: sys.counters.budgets.total };
      };
      const ten = await run(10);
      const hundred = await run(100);
      expect(hundred.statements).toBe(ten.statements);
      expect(hundred.statements).toBe(1);
      const expectedFor = (org: number) =>
        fixtures
          .filter((f) => f.org === org)
          .map((f) => ({
            keys: [{ dimension: 'FISCAL_YEAR', value: String(f.year), label: String(f.year) }],
            currency: f.currency,
            lineCount: 1,
            totals: [
              {
                phase: 'APPROVED',
                amount: {
                  amount:
                    f.currency === 'TND'
                      ? sumMillimes([f.minor])
                      : `${BigInt(f.minor) / 100n}.${f.minor.slice(-2).padStart(2, '0')}`,
                  currency: f.currency,
                },
                asOf: null,
              },
            ],
            executionRate: null,
          }))
          .sort((a, b) => byCodePoint(a.currency, b.currency));
      for (const { nodes } of [ten, hundred]) {
        nodes.forEach((n: { id: string; budgetSummary: unknown[] }, i: number) =>
          expect(n).toEqual({ id: ids[i], budgetSummary: expectedFor(i) }),
        );
      }
      expect(hundred.nodes.filter((n: { budgetSummary: unknown[] }) => n.budgetSummary.length)).toHaveLength(
        5,
      );

      // Amount bounds are converted into each budget's own minor units (TND: millimes, MAD: centimes), and
      // AMOUNT orders by minor units.
      const lines = await q(LINES, {
        filter: {
          fiscalYears: { min: 2020, max: 2022 },
          amount: { phase: 'APPROVED', min: '1.00', max: '987.65' },
        },
        orderBy: [{ field: 'AMOUNT', phase: 'APPROVED' }],
      });
      expect(lines.errors).toBeUndefined();
      expect(lines.data.budgetLines.nodes.map((n: LineNode) => [n.id, n.amounts[0].amount.amount])).toEqual([
        ['test-count-4-line', '7.00'],
        ['test-count-3-line', '1.000'],
        ['test-count-1-line', '987.65'],
      ]);
      // A bound too precise for one of those currencies is refused, naming it.
      const tooPrecise = await q(LINES, {
        filter: { fiscalYears: { min: 2020, max: 2022 }, amount: { phase: 'APPROVED', min: '1.001' } },
      });
      expect(tooPrecise.errors?.[0]).toMatchObject({
        message: expect.stringMatching(/3 decimals.*MAD, which has 2/),
        extensions: { code: 'BAD_USER_INPUT', argumentName: 'filter.amount.min' },
      });
    } finally {
      await db.getRepository(BudgetAmountEntity).delete(fixtures.map((f) => ({ lineId: `${f.id}-line` })));
      await db.getRepository(BudgetLineEntity).delete(fixtures.map((f) => `${f.id}-line`));
      await db.getRepository(BudgetEntity).delete(fixtures.map((f) => f.id));
      await refreshStoredSums(
        db,
        fixtures.map((f) => f.id),
      );
    }
  });
});
