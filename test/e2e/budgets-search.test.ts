import { bouAradaLineId, byCodePoint, readCsv, sumMillimes, tnBudgetCode } from '../support/datasets';
import { BACKENDS, type Backend, systemsPerBackend } from '../support/system';

/*
 * Searching budget lines through the gateway, on every backend: `budgetLines`, `Budget.lines` and
 * `budgetSummary` with `filter.search`, most relevant first, with highlights. The expected lines are computed
 * here from the Bou Arada files (csv-parse, test/support/datasets.ts) with a folding written for this test
 * from the documented behaviour, never with the search engine's own code: marks (harakat, shadda, the hamza
 * of أ إ آ ؤ ئ) and tatweel do not matter, ة is ه and ى is ي; words are runs of letters and digits; the
 * Arabic article (ال, وال, بال, كال, فال, لل) is taken off a word that keeps at least 3 letters; words shorter
 * than 3 letters are not searched; every word of the query must be a word of a label, except the last, which
 * may also start a longer one. Amounts are added with BigInt from the files' cells.
 */

const expenditure = readCsv('tunisia/depense_per_year_34012.csv');
const revenue = readCsv('tunisia/recette_per_year_34012.csv');
/** The monthly file repeats rows cell for cell: a repeated row is one line. */
const monthly = [
  ...new Map(readCsv('tunisia/Depence_mensuelle_2018_34012.csv').map((r) => [JSON.stringify(r), r])).values(),
];
const YEARS = ['2013', '2014', '2015', '2016', '2017', '2018'];
const FEB = 'Budget_02_2018';
const BOU_ARADA = 'tn-municipality-34012';

const sorted = (ids: Iterable<string>) => [...ids].sort(byCodePoint);

const ARTICLES = ['وال', 'بال', 'كال', 'فال', 'ال', 'لل'];
const withoutArticle = (w: string) => {
  const article = ARTICLES.find((a) => w.startsWith(a) && [...w].length - a.length >= 3);
  return article ? w.slice(article.length) : w;
};

/** The searchable words of a text, as documented (see the comment at the top). */
function words(text: string): string[] {
  return text
    .normalize('NFKD')
    .replace(/[\p{M}\u0640]/gu, '')
    .replace(/ة/g, 'ه')
    .replace(/ى/g, 'ي')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .map(withoutArticle)
    .filter((w) => [...w].length >= 3);
}

/** Whether a label holds every word of the query (the last one also as the start of a longer word). */
function matches(label: string, query: string): boolean {
  const terms = words(query);
  const have = words(label);
  return terms.every((t, i) => have.some((w) => w === t || (i === terms.length - 1 && w.startsWith(t))));
}

/** Every Bou Arada line (one per row, year and direction) whose label matches the query. */
function expectedLines(query: string, years = YEARS) {
  return years.flatMap((year) =>
    (
      [
        ['EXP', expenditure],
        ['REV', revenue],
      ] as const
    ).flatMap(([direction, rows]) =>
      rows
        .filter((r) => matches(r.Imputation, query))
        .map((row) => ({ id: bouAradaLineId(year, direction, row), year, direction, row })),
    ),
  );
}
const expectedIds = (query: string, years = YEARS) => sorted(expectedLines(query, years).map((l) => l.id));

const LINES = /* GraphQL */ `
  query Lines($first: Int, $after: String, $filter: BudgetLineFilter, $orderBy: [BudgetLineOrder!]) {
    budgetLines(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
      totalCount
      nodes {
        id
        code
        label(lang: AR)
        searchHighlights {
          field
          snippet
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

const BUDGET_LINES = /* GraphQL */ `
  query BudgetLines($id: ID!, $first: Int, $after: String, $filter: BudgetLineFilter) {
    budget(id: $id) {
      lines(first: $first, after: $after, filter: $filter) {
        totalCount
        nodes {
          id
          searchHighlights {
            field
            snippet
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`;

interface LineNode {
  id: string;
  code: string;
  label: string;
  searchHighlights: { field: string; snippet: string }[];
}

interface Walked {
  totalCount: number;
  nodes: LineNode[];
  pages: number;
}

/** Every line of a list, page after page, following the cursors; checks totalCount on each page. */
async function walk(
  page: (after: string | null) => Promise<{ totalCount: number; nodes: LineNode[]; pageInfo: any }>,
): Promise<Walked> {
  const found: Walked = { totalCount: -1, nodes: [], pages: 0 };
  let after: string | null = null;
  for (let i = 0; i < 200; i++) {
    const c = await page(after);
    if (found.pages) expect(c.totalCount).toBe(found.totalCount);
    found.totalCount = c.totalCount;
    found.nodes.push(...c.nodes);
    found.pages += 1;
    if (!c.pageInfo.hasNextPage) break;
    after = c.pageInfo.endCursor;
  }
  expect(found.nodes).toHaveLength(found.totalCount);
  return found;
}
const ids = (w: Walked) => w.nodes.map((n) => n.id);

/** The relevance order each backend gave, per query: the same lines on all of them. */
const walked: Partial<Record<Backend, Record<string, string[]>>> = {};
/** The searches walked in relevance order on each backend. */
const RELEVANCE_SEARCHES = ['منح', 'معلوم', 'الإعتناء', 'القروض'];

const systemOf = systemsPerBackend();

describe.each(BACKENDS)('budget lines: search on %s', (backend) => {
  const sys = () => systemOf(backend);
  const q = (query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) =>
    sys().queryGateway<any>(query, variables, headers);
  const lines = (variables: Record<string, unknown>, first = 100) =>
    walk(async (after) => {
      const res = await q(LINES, { ...variables, first, after });
      expect(res.errors).toBeUndefined();
      return res.data.budgetLines;
    });
  const budgetLines = (id: string, filter: Record<string, unknown>, first = 100) =>
    walk(async (after) => {
      const res = await q(BUDGET_LINES, { id, filter, first, after });
      expect(res.errors).toBeUndefined();
      return res.data.budget.lines;
    });

  test('"الأجر" and "أجر": Arabic finds Arabic, with or without the article, in every year', async () => {
    const want = expectedIds('الأجر');
    expect(expectedIds('أجر')).toEqual(want);
    // "الأجر الأساسي والتدرّج" (basic salary), code 1.01101.0001.000, in each of the six budgets.
    expect(want).toEqual(YEARS.map((y) => `tn-34012-${y}-EXP-1.01101.0001.000`));
    for (const text of ['الأجر', 'أجر', 'اجر', 'الاجر']) {
      const found = await lines({ filter: { search: text } });
      expect({ text, ids: sorted(ids(found)) }).toEqual({ text, ids: want });
      for (const n of found.nodes) {
        expect(n.label).toBe('الأجر الأساسي والتدرّج');
        // The whole original word is marked, article and hamza included.
        expect(n.searchHighlights).toEqual([
          { field: 'labelAr', snippet: '<mark>الأجر</mark> الأساسي والتدرّج' },
        ]);
      }
    }
  });

  test('search AND fiscalYear: "الطريق العام" in 2018, both words, the article in any form', async () => {
    const want = expectedIds('الطريق العام', ['2018']);
    // للطريق العام, بالطريق العام, الطريق العام: four revenue lines (road occupancy fees).
    expect(want).toHaveLength(4);
    expect(want.every((id) => id.startsWith('tn-34012-2018-REV-'))).toBe(true);
    const found = await lines({ filter: { search: 'الطريق العام', fiscalYear: 2018 } });
    expect(sorted(ids(found))).toEqual(want);
    expect(
      found.nodes.find((n) => n.label === 'معلوم الإشغال الوقتي للطريق العام')!.searchHighlights,
    ).toEqual([{ field: 'labelAr', snippet: 'معلوم الإشغال الوقتي <mark>للطريق</mark> <mark>العام</mark>' }]);
    // Every year: six times as many; one word alone: more.
    expect(sorted(ids(await lines({ filter: { search: 'الطريق العام' } })))).toEqual(
      expectedIds('الطريق العام'),
    );
    expect(expectedIds('الطريق العام')).toHaveLength(24);
    const road = await lines({ filter: { search: 'الطريق', fiscalYear: 2018 } });
    expect(sorted(ids(road))).toEqual(expectedIds('الطريق', ['2018']));
    // The same search on Budget.lines of the 2018 budget, and together with the other filters.
    expect(sorted(ids(await budgetLines('tn-34012-2018', { search: 'الطريق العام' })))).toEqual(want);
    expect(
      sorted(ids(await lines({ filter: { search: 'منح', fiscalYear: 2018, direction: 'REVENUE' } }))),
    ).toEqual(expectedIds('منح', ['2018']).filter((id) => id.includes('-REV-')));
  });

  test('budgetSummary with a search adds up exactly the matching lines (BigInt from the files)', async () => {
    const text = 'منح';
    const matching = expectedLines(text);
    // 16 labels (13 expenditure, 3 revenue) in each of the six budgets.
    expect(matching).toHaveLength(96);
    const expected = YEARS.flatMap((year) =>
      (['EXPENDITURE', 'REVENUE'] as const).flatMap((direction) => {
        const group = matching.filter((l) => l.year === year && l.direction === direction.slice(0, 3));
        if (!group.length) return [];
        const approved = group.map((l) => l.row[year]).filter((c) => c.trim() !== '');
        const codes = new Set(group.map((l) => tnBudgetCode(l.row)));
        const executed =
          year === '2018' && direction === 'EXPENDITURE'
            ? monthly.filter((r) => codes.has(tnBudgetCode(r)) && r[FEB].trim() !== '').map((r) => r[FEB])
            : [];
        return [
          {
            keys: [year, direction],
            lineCount: group.length,
            totals: [
              ...(approved.length ? [{ phase: 'APPROVED', amount: sumMillimes(approved), asOf: null }] : []),
              ...(executed.length
                ? [{ phase: 'EXECUTED', amount: sumMillimes(executed), asOf: '2018-02-28' }]
                : []),
            ],
          },
        ];
      }),
    );
    const res = await q(
      /* GraphQL */ `
        query Summary($filter: BudgetLineFilter) {
          budgetSummary(filter: $filter, groupBy: [FISCAL_YEAR, DIRECTION]) {
            keys {
              value
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
          }
        }
      `,
      { filter: { organizationId: BOU_ARADA, search: text } },
    );
    expect(res.errors).toBeUndefined();
    expect(
      res.data.budgetSummary.map((g: any) => ({
        keys: g.keys.map((k: { value: string }) => k.value),
        lineCount: g.lineCount,
        totals: g.totals.map((t: any) => ({ phase: t.phase, amount: t.amount.amount, asOf: t.asOf })),
      })),
    ).toEqual(expected);
    expect(res.data.budgetSummary.every((g: { currency: string }) => g.currency === 'TND')).toBe(true);
    // Written out, so a change in the data cannot pass unnoticed: 2018's grants (expenditure).
    expect(expected.find((g) => g.keys.join() === '2018,EXPENDITURE')).toEqual({
      keys: ['2018', 'EXPENDITURE'],
      lineCount: 13,
      totals: [
        { phase: 'APPROVED', amount: '164082.000', asOf: null },
        { phase: 'EXECUTED', amount: '7462.855', asOf: '2018-02-28' },
      ],
    });

    // The same lines, listed: their amounts add up to the summary's, and the search narrows the summary.
    const listed = await lines({ filter: { organizationId: BOU_ARADA, search: text, fiscalYear: 2018 } });
    expect(listed.totalCount).toBe(16);
    const whole = await q(/* GraphQL */ `
      {
        budgetSummary(filter: { fiscalYear: 2018, search: "منحة الخصوصية" }, groupBy: []) {
          lineCount
          totals {
            phase
            amount {
              amount
            }
          }
        }
      }
    `);
    expect(whole.errors).toBeUndefined();
    // "منحة الخصوصية المتغيرة" (1.01101.0004.000): 300 TND approved, and no execution in January or February.
    const [one, ...none] = expectedLines('منحة الخصوصية', ['2018']);
    expect([tnBudgetCode(one.row), none]).toEqual(['1.01101.0004.000', []]);
    const executed = monthly.filter((r) => tnBudgetCode(r) === tnBudgetCode(one.row)).map((r) => r[FEB]);
    expect(whole.data.budgetSummary).toEqual([
      {
        lineCount: 1,
        totals: [
          { phase: 'APPROVED', amount: { amount: sumMillimes([one.row['2018']]) } },
          { phase: 'EXECUTED', amount: { amount: sumMillimes(executed) } },
        ],
      },
    ]);
    expect([sumMillimes([one.row['2018']]), sumMillimes(executed)]).toEqual(['300.000', '0.000']);
  });

  test('no orderBy: most relevant first, walked with its cursors; with orderBy, that order', async () => {
    const results: Record<string, string[]> = {};
    for (const text of RELEVANCE_SEARCHES) {
      const want = expectedIds(text);
      const small = await lines({ filter: { search: text } }, 7);
      expect({ text, pages: small.pages }).toEqual({ text, pages: Math.ceil(want.length / 7) });
      expect(new Set(ids(small)).size).toBe(want.length);
      expect(sorted(ids(small))).toEqual(want);
      // One relevance order, and stable: pages of 100 give the same list.
      expect(ids(await lines({ filter: { search: text } }))).toEqual(ids(small));
      for (const n of small.nodes) expect(n.searchHighlights.length).toBeGreaterThan(0);
      results[text] = ids(small);
    }
    walked[backend] = results;
    // Relevance really orders: the lines whose label says "القروض" (loans) twice come before those that say it
    // once, on every backend; id order would mix them year by year.
    const twice = expectedLines('القروض').filter(
      (l) => words(l.row.Imputation).filter((w) => w === 'قروض').length === 2,
    );
    expect(twice).toHaveLength(12);
    expect(results['القروض']).toHaveLength(24);
    expect(sorted(results['القروض'].slice(0, 12))).toEqual(sorted(twice.map((l) => l.id)));

    // With orderBy: that order (code, ties by id), the same lines.
    const byCode = await lines({ filter: { search: 'منح' }, orderBy: [{ field: 'CODE' }] }, 9);
    expect(sorted(ids(byCode))).toEqual(expectedIds('منح'));
    const codes = byCode.nodes.map((n) => `${n.code} ${n.id}`);
    expect(codes).toEqual([...codes].sort(byCodePoint));
    for (const n of byCode.nodes) expect(n.searchHighlights.length).toBeGreaterThan(0);

    // Budget.lines: most relevant first too, in small pages, the same lines as the root list for that budget.
    const inBudget = await budgetLines('tn-34012-2016', { search: 'منح' }, 3);
    expect(inBudget.pages).toBe(6);
    expect(ids(inBudget)).toEqual(results['منح'].filter((id) => id.startsWith('tn-34012-2016-')));

    // A relevance cursor only works with its own search, and not with the plain id order.
    const first = await q(LINES, { first: 1, filter: { search: 'منح' } });
    const cursor = first.data.budgetLines.pageInfo.endCursor;
    for (const variables of [
      { first: 1, after: cursor, filter: { search: 'معلوم' } },
      { first: 1, after: cursor },
      { first: 1, after: cursor, filter: { search: 'منح' }, orderBy: [{ field: 'CODE' }] },
    ]) {
      const res = await q(LINES, variables);
      expect(res.errors?.[0]).toMatchObject({
        message: expect.stringMatching(/another order|not a cursor/),
        extensions: { code: 'BAD_USER_INPUT', argumentName: 'after' },
      });
    }
    const nested = await q(BUDGET_LINES, {
      id: 'tn-34012-2016',
      first: 1,
      after: cursor,
      filter: { search: 'معلوم' },
    });
    expect(nested.errors?.[0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', argumentName: 'after' },
    });
  });

  test('searchHighlights: [] when the list was not searched or the line is reached another way', async () => {
    const plain = await q(LINES, { first: 3, filter: { budgetId: 'tn-34012-2018' } });
    expect(plain.errors).toBeUndefined();
    for (const n of plain.data.budgetLines.nodes) expect(n.searchHighlights).toEqual([]);
    const one = await q(/* GraphQL */ `
      {
        budgetLine(id: "tn-34012-2018-EXP-1.01101.0001.000") {
          searchHighlights {
            field
          }
        }
        budget(id: "tn-34012-2018") {
          searched: lines(first: 100, filter: { search: "أجر" }) {
            nodes {
              id
              searchHighlights {
                snippet
              }
            }
          }
          plain: lines(first: 100) {
            nodes {
              id
              searchHighlights {
                snippet
              }
            }
          }
        }
      }
    `);
    expect(one.errors).toBeUndefined();
    expect(one.data.budgetLine.searchHighlights).toEqual([]);
    // The same line in a searched and an unsearched list of one request: highlights only in the first.
    expect(one.data.budget.searched.nodes).toEqual([
      {
        id: 'tn-34012-2018-EXP-1.01101.0001.000',
        searchHighlights: [{ snippet: '<mark>الأجر</mark> الأساسي والتدرّج' }],
      },
    ]);
    const same = one.data.budget.plain.nodes.find(
      (n: { id: string }) => n.id === 'tn-34012-2018-EXP-1.01101.0001.000',
    );
    expect(same).toEqual({ id: 'tn-34012-2018-EXP-1.01101.0001.000', searchHighlights: [] });
  });

  test('a search with no word of 3 letters is refused with BAD_USER_INPUT naming filter.search', async () => {
    for (const query of [
      `{ budgetLines(filter: { search: "في من" }) { totalCount } }`,
      `{ budgetLines(filter: { search: "  " }) { totalCount } }`,
      `{ budgetSummary(filter: { search: "a b" }, groupBy: []) { currency } }`,
      `{ budget(id: "tn-34012-2018") { lines(filter: { search: "ال في" }) { totalCount } } }`,
      `{ budgetLines(filter: { search: "the for with" }) { totalCount } }`,
    ]) {
      const res = await q(query);
      expect({ query, data: Object.values(res.data ?? {}) }).toEqual({ query, data: res.data ? [null] : [] });
      expect(res.errors?.[0]).toMatchObject({
        message: expect.stringMatching(/"filter.search" has no word that can be searched/),
        extensions: { code: 'BAD_USER_INPUT', argumentName: 'filter.search' },
      });
    }
  });

  test('a searched page costs the same statements for 10 lines as for 100', async () => {
    const PAGE = /* GraphQL */ `
      query Page($first: Int!) {
        budgetLines(first: $first, filter: { search: "منح" }) {
          totalCount
          nodes {
            id
            label
            amounts {
              phase
              amount {
                amount
              }
            }
            searchHighlights {
              field
              snippet
            }
            budget {
              fiscalYear
              total(direction: EXPENDITURE, phase: APPROVED) {
                amount
              }
              lines(first: 5, filter: { search: "منح" }) {
                totalCount
                nodes {
                  id
                  searchHighlights {
                    snippet
                  }
                }
              }
            }
          }
        }
      }
    `;
    const count = async (first: number) => {
      sys().counters.budgets.reset();
      const res = await q(PAGE, { first });
      expect(res.errors).toBeUndefined();
      // 96 lines match: the page of 100 holds them all.
      expect(res.data.budgetLines.nodes).toHaveLength(Math.min(first, expectedIds('منح').length));
      for (const n of res.data.budgetLines.nodes) expect(n.searchHighlights.length).toBeGreaterThan(0);
      return sys().counters.budgets.total;
    };
    const ten = await count(10);
    const hundred = await count(100);
    expect(hundred).toBe(ten);
    console.log(`budgets statements for a searched page on ${backend}: 10 lines ${ten}, 96 lines ${hundred}`);
    // MySQL probes a rare search in up to three statements: a few rows in id order (growing reads, which
    // decide if they reach the end of the table), then the FULLTEXT index.
    expect(hundred).toBeLessThanOrEqual(backend === 'mysql' ? 12 : 10);
  });
});

test('every backend finds, for each search, the lines whose labels hold its words: the same on each', () => {
  // Against the labels read from the files (expectedIds), not against another run: with one backend a
  // comparison of the runs would compare a run with itself.
  expect(Object.keys(walked).sort()).toEqual([...BACKENDS].sort());
  for (const backend of BACKENDS) {
    const run = walked[backend]!;
    expect(Object.keys(run).sort()).toEqual([...RELEVANCE_SEARCHES].sort());
    for (const text of RELEVANCE_SEARCHES) {
      expect(expectedIds(text).length).toBeGreaterThan(0);
      expect({ backend, text, ids: sorted(run[text]) }).toEqual({ backend, text, ids: expectedIds(text) });
    }
  }
});
