import { BACKENDS, startSystem, type GraphQLResponse, type System } from '../support/system';

type SubgraphName = keyof System['counters'];

/*
 * The contract every searchable, ordered root list keeps, whichever subgraph serves it: the same cases run on
 * organizations, commitments and budgets through the gateway, on every backend.
 * - A cursor only pages the list it came from: one from another search, another order, or the id order is
 *   refused (BAD_USER_INPUT naming `after`, with the same message everywhere) before any statement runs.
 * - `first: 0` asks for no row: no score statement and no row statement; `totalCount` is one count.
 * - Ranges of years and amounts are checked alike: min > max is refused naming the range, a year outside
 *   0..9999 naming its end, before any statement runs.
 */

/** A searchable root list: where it lives, its argument types, two searches that find several rows each. */
interface List {
  subgraph: SubgraphName;
  field: string;
  filterType: string;
  orderType: string;
  searches: [string, string];
  orderBy: Record<string, unknown>[];
}

const LISTS: List[] = [
  {
    subgraph: 'organizations',
    field: 'organizations',
    filterType: 'OrganizationFilter',
    orderType: 'OrganizationOrder',
    searches: ['sidi', 'Beni Mellal'],
    orderBy: [{ field: 'NAME' }],
  },
  {
    subgraph: 'commitments',
    field: 'commitments',
    filterType: 'CommitmentFilter',
    orderType: 'CommitmentOrder',
    searches: ['audit', 'budget'],
    orderBy: [{ field: 'TITLE' }],
  },
  {
    subgraph: 'commitments',
    field: 'actionPlans',
    filterType: 'ActionPlanFilter',
    orderType: 'ActionPlanOrder',
    searches: ['nigeria', 'El Kef'],
    orderBy: [{ field: 'START_YEAR' }],
  },
  {
    subgraph: 'budgets',
    field: 'budgetLines',
    filterType: 'BudgetLineFilter',
    orderType: 'BudgetLineOrder',
    searches: ['منح', 'معلوم'],
    orderBy: [{ field: 'CODE' }],
  },
];

const listQuery = (l: List) => /* GraphQL */ `
  query List($first: Int, $after: String, $filter: ${l.filterType}, $orderBy: [${l.orderType}!]) {
    ${l.field}(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
      totalCount
      nodes {
        id
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

/** The one refusal every list gives a cursor of another list (see common/src/pagination.ts). */
const ANOTHER_ORDER = /^Argument "after" is a cursor from a list in another order: use the same "orderBy"/;

describe.each(BACKENDS)('the searchable list contract on %s', (backend) => {
  let sys: System;
  beforeAll(async () => {
    sys = await startSystem(backend);
  });
  afterAll(async () => {
    await sys?.stop();
  });

  /** Runs a query through the gateway; returns the response and the statements each subgraph ran for it. */
  async function run(query: string, variables?: Record<string, unknown>) {
    for (const c of Object.values(sys.counters)) c.reset();
    const res: GraphQLResponse<any> = await sys.queryGateway(query, variables);
    const statements = Object.fromEntries(
      Object.entries(sys.counters).map(([n, c]) => [n, c.total]),
    ) as Record<SubgraphName, number>;
    return { res, statements };
  }

  /** The end cursor of a first page of one row, which must have a next page. */
  async function cursorOf(l: List, variables: Record<string, unknown>): Promise<string> {
    const { res } = await run(listQuery(l), { first: 1, ...variables });
    expect(res.errors).toBeUndefined();
    expect(res.data[l.field].pageInfo.hasNextPage).toBe(true);
    return res.data[l.field].pageInfo.endCursor;
  }

  /** Asserts the refusal of a cursor: BAD_USER_INPUT naming `after`, and no statement on any subgraph. */
  async function expectRefused(l: List, variables: Record<string, unknown>): Promise<string> {
    const { res, statements } = await run(listQuery(l), { first: 2, ...variables });
    expect(res.data ?? null).toBeNull();
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]).toMatchObject({
      message: expect.stringMatching(ANOTHER_ORDER),
      extensions: { code: 'BAD_USER_INPUT', argumentName: 'after' },
    });
    expect(statements).toEqual({ organizations: 0, commitments: 0, budgets: 0 });
    return res.errors![0].message;
  }

  test.each(LISTS.map((l) => [l.field, l] as const))(
    '%s: a cursor from another search or order is refused before any statement',
    async (_field, l) => {
      const [one, other] = l.searches;
      const relevance = await cursorOf(l, { filter: { search: one } });
      const ordered = await cursorOf(l, { orderBy: l.orderBy });
      const plain = await cursorOf(l, {});
      const refusals = [
        // A relevance cursor under another search, under an explicit order, and in the plain id order.
        await expectRefused(l, { after: relevance, filter: { search: other } }),
        await expectRefused(l, { after: relevance, filter: { search: one }, orderBy: l.orderBy }),
        await expectRefused(l, { after: relevance }),
        // Cursors of an explicit order and of the id order under a search's relevance order.
        await expectRefused(l, { after: ordered, filter: { search: one } }),
        await expectRefused(l, { after: plain, filter: { search: one } }),
      ];
      expect(new Set(refusals).size).toBe(1);
      // Its own search still pages on with it.
      const { res } = await run(listQuery(l), { first: 1, after: relevance, filter: { search: one } });
      expect(res.errors).toBeUndefined();
      expect(res.data[l.field].nodes).toHaveLength(1);
    },
  );

  test('Budget.lines: a cursor of another search is refused as a root list refuses it', async () => {
    const LINES = /* GraphQL */ `
      query Lines($first: Int, $after: String, $filter: BudgetLineFilter) {
        budget(id: "tn-34012-2016") {
          lines(first: $first, after: $after, filter: $filter) {
            pageInfo {
              endCursor
            }
          }
        }
      }
    `;
    const first = await run(LINES, { first: 1, filter: { search: 'منح' } });
    const cursor = first.res.data.budget.lines.pageInfo.endCursor;
    for (const variables of [{ filter: { search: 'معلوم' } }, {}]) {
      const { res } = await run(LINES, { first: 1, after: cursor, ...variables });
      expect(res.errors?.[0]).toMatchObject({
        message: expect.stringMatching(ANOTHER_ORDER),
        extensions: { code: 'BAD_USER_INPUT', argumentName: 'after' },
      });
    }
  });

  test.each(LISTS.map((l) => [l.field, l] as const))(
    '%s with a search and first: 0 runs no score statement: one count for totalCount, nothing for nodes',
    async (_field, l) => {
      const none = { organizations: 0, commitments: 0, budgets: 0 };
      const search = { filter: { search: l.searches[0] } };
      const COUNT = `query ($filter: ${l.filterType}) { ${l.field}(first: 0, filter: $filter) { totalCount } }`;
      const counted = await run(COUNT, search);
      expect(counted.res.errors).toBeUndefined();
      expect(counted.res.data[l.field].totalCount).toBeGreaterThan(1);
      expect(counted.statements).toEqual({ ...none, [l.subgraph]: 1 });

      const NODES = `query ($filter: ${l.filterType}) {
        ${l.field}(first: 0, filter: $filter) { nodes { id } pageInfo { hasNextPage endCursor } }
      }`;
      const empty = await run(NODES, search);
      expect(empty.res.errors).toBeUndefined();
      expect(empty.res.data[l.field]).toEqual({
        nodes: [],
        pageInfo: { hasNextPage: false, endCursor: null },
      });
      expect(empty.statements).toEqual(none);

      // With rows asked, the probe (more matches than the rank limit?), the scores (for the cursors) and the
      // rows come on top of the count. On MySQL the probe of a rare search may read a few entities in id order
      // (up to two reads, deciding alone if they reach the end of the table) before the FULLTEXT index
      // (common/src/search/sql.ts, commonInIdOrder).
      const page = await run(listQuery(l), { ...search, first: 3 });
      expect(page.res.errors).toBeUndefined();
      if (backend === 'mysql') {
        expect(page.statements[l.subgraph]).toBeGreaterThanOrEqual(4);
        expect(page.statements[l.subgraph]).toBeLessThanOrEqual(6);
      } else expect(page.statements[l.subgraph]).toBe(4);
    },
  );

  test('Budget.lines with a search and first: 0 runs no relevance page statement', async () => {
    const LINES = (first: number) => /* GraphQL */ `
      {
        budget(id: "tn-34012-2016") {
          lines(first: ${first}, filter: { search: "منح" }) {
            totalCount
          }
        }
      }
    `;
    const none = await run(LINES(0));
    expect(none.res.errors).toBeUndefined();
    expect(none.res.data.budget.lines.totalCount).toBeGreaterThan(1);
    // The budget, then the count.
    expect(none.statements).toEqual({ organizations: 0, commitments: 0, budgets: 2 });
    // With rows: the relevance page and the lines too.
    expect((await run(LINES(3))).statements.budgets).toBe(4);
  });

  /** Range arguments of commitments and budgets: the field, its range argument, the query around it. */
  const RANGES: [string, string, (range: string) => string][] = [
    ['commitments', 'filter.startYear', (r) => `{ commitments(filter: { startYear: ${r} }) { totalCount } }`],
    ['commitments', 'filter.endYear', (r) => `{ commitments(filter: { endYear: ${r} }) { totalCount } }`],
    [
      'commitmentStats',
      'filter.startYear',
      (r) => `{ commitmentStats(filter: { startYear: ${r} }, groupBy: []) { count } }`,
    ],
    ['budgets', 'filter.fiscalYears', (r) => `{ budgets(filter: { fiscalYears: ${r} }) { totalCount } }`],
    [
      'budgetLines',
      'filter.fiscalYears',
      (r) => `{ budgetLines(filter: { fiscalYears: ${r} }) { totalCount } }`,
    ],
    [
      'budgetSummary',
      'filter.fiscalYears',
      (r) => `{ budgetSummary(filter: { fiscalYears: ${r} }, groupBy: []) { currency } }`,
    ],
  ];

  /** Asserts one refusal of a range: the message, BAD_USER_INPUT naming `argument`, no statement at all. */
  async function expectRangeRefused(query: string, argument: string, message: string) {
    const { res, statements } = await run(query);
    expect(res.data ?? null).toBeNull();
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]).toMatchObject({
      message,
      extensions: { code: 'BAD_USER_INPUT', argumentName: argument },
    });
    expect(statements).toEqual({ organizations: 0, commitments: 0, budgets: 0 });
  }

  test.each(RANGES)('%s(%s): min > max is refused naming the range', async (_field, argument, query) => {
    await expectRangeRefused(
      query('{ min: 2020, max: 2018 }'),
      argument,
      `Argument "${argument}" has min 2020 greater than max 2018: expected min <= max`,
    );
  });

  test.each(RANGES)(
    '%s %s: a year outside 0..9999 is refused naming its end',
    async (_s, argument, query) => {
      await expectRangeRefused(
        query('{ min: -1 }'),
        `${argument}.min`,
        `Argument "${argument}.min" must be a year from 0 to 9999; got -1`,
      );
      await expectRangeRefused(
        query('{ min: 2018, max: 10000 }'),
        `${argument}.max`,
        `Argument "${argument}.max" must be a year from 0 to 9999; got 10000`,
      );
    },
  );

  test.each(RANGES)('%s(%s): min = max and open ends are accepted', async (_s, _argument, query) => {
    for (const range of ['{ min: 2018, max: 2018 }', '{ min: 2018 }', '{ max: 2018 }', '{}']) {
      const { res } = await run(query(range));
      expect(res.errors).toBeUndefined();
    }
  });

  test('an amount range with min > max is refused the same way, compared exactly', async () => {
    await expectRangeRefused(
      `{ budgetLines(filter: { amount: { phase: APPROVED, min: "2020", max: "2018.999" } }) { totalCount } }`,
      'filter.amount',
      'Argument "filter.amount" has min 2020 greater than max 2018.999: expected min <= max',
    );
  });
});
