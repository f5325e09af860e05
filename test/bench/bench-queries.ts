/** The fixed queries of `npm run bench:queries`: what dashboards and journalists send again and again. */
export interface BenchQuery {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  language?: string;
  /** How many rows the answer holds, printed beside the timings so an empty answer is noticed. */
  count: (data: unknown) => number;
  /** Fewer timed runs for a query known to be slow (a word in a fifth of a million lines). */
  maxRuns?: number;
}

const at = (data: unknown, path: string): unknown => {
  let v: unknown = data;
  for (const k of path.split('.')) v = (v as Record<string, unknown> | undefined)?.[k];
  return v;
};
const rows = (path: string) => (data: unknown) => {
  const v = at(data, path);
  return Array.isArray(v) ? v.length : 0;
};

export const BENCH_QUERIES: BenchQuery[] = [
  // Dashboards
  {
    name: 'dashboard: budget by year and direction',
    query: /* GraphQL */ `
      {
        budgetSummary(groupBy: [FISCAL_YEAR, DIRECTION]) {
          keys {
            dimension
            value
            label
          }
          currency
          lineCount
          executionRate
          totals {
            phase
            asOf
            amount {
              amount
              currency
            }
          }
        }
      }
    `,
    count: rows('budgetSummary'),
  },
  {
    name: 'dashboard: execution by Titre for one budget year',
    query: /* GraphQL */ `
      {
        budgetSummary(
          filter: { organizationId: "tn-municipality-34012", fiscalYear: 2018 }
          groupBy: [DIRECTION, CODE_LEVEL_1]
        ) {
          keys {
            value
            label
          }
          currency
          executionRate
          totals {
            phase
            amount {
              amount
            }
          }
        }
      }
    `,
    count: rows('budgetSummary'),
  },
  {
    name: 'dashboard: budget by COFOG division (FUNCTIONAL 1)',
    query: /* GraphQL */ `
      {
        budgetSummary(grouping: [{ dimension: FUNCTIONAL, level: 1 }]) {
          keys {
            value
            scheme
            label
          }
          currency
          lineCount
          executionRate
          totals {
            phase
            amount {
              amount
            }
          }
        }
      }
    `,
    count: rows('budgetSummary'),
  },
  {
    // One organization: over every line, the level-2 codes (Titre.Article) are more than a summary returns.
    name: 'dashboard: one budget by ECONOMIC level 2',
    query: /* GraphQL */ `
      {
        budgetSummary(
          filter: { organizationId: "tn-municipality-34012", fiscalYear: 2018 }
          grouping: [{ dimension: DIRECTION }, { dimension: ECONOMIC, level: 2 }]
        ) {
          keys {
            value
            label
          }
          currency
          executionRate
          totals {
            phase
            amount {
              amount
            }
          }
        }
      }
    `,
    count: rows('budgetSummary'),
  },
  {
    name: 'dashboard: commitments by country and completion',
    query: `{ commitmentStats(groupBy: [COUNTRY, COMPLETION_END_OF_TERM]) { keys { value label } count } }`,
    count: rows('commitmentStats'),
  },
  {
    name: 'dashboard: commitments by policy area',
    query: `{ commitmentStats(groupBy: [POLICY_AREA]) { keys { value } count } }`,
    count: rows('commitmentStats'),
  },
  {
    name: 'dashboard: members with completion stats (50)',
    query: /* GraphQL */ `
      {
        organizations(first: 50, filter: { ogpMember: true }) {
          nodes {
            id
            name
            commitmentStats(groupBy: [COMPLETION_END_OF_TERM]) {
              keys {
                value
              }
              count
            }
          }
        }
      }
    `,
    count: rows('organizations.nodes'),
  },
  {
    name: 'dashboard: largest approved lines (100)',
    query: /* GraphQL */ `
      {
        budgetLines(
          first: 100
          filter: { direction: EXPENDITURE }
          orderBy: [{ field: AMOUNT, phase: APPROVED, direction: DESC }]
        ) {
          nodes {
            id
            code
            label
            budget {
              fiscalYear
            }
            amounts {
              phase
              amount {
                amount
                currency
              }
            }
          }
        }
      }
    `,
    count: rows('budgetLines.nodes'),
  },
  {
    name: 'list: commitments page (100) with orgs and plans',
    query: /* GraphQL */ `
      {
        commitments(first: 100, orderBy: [{ field: POTENTIAL_IMPACT, direction: DESC }]) {
          totalCount
          nodes {
            id
            title
            leadOrganization {
              name
            }
            supportingOrganizations {
              name
            }
            actionPlan {
              member {
                name
              }
            }
          }
        }
      }
    `,
    count: rows('commitments.nodes'),
  },
  {
    name: 'list: organizations by name (100)',
    query: `{ organizations(first: 100, orderBy: [{ field: NAME }]) { totalCount nodes { id name } } }`,
    count: rows('organizations.nodes'),
  },
  // Search, as journalists type it: rare words (only in the real data), Arabic, and a worst case.
  {
    name: 'search: organizations "Beni Mellal"',
    query: `{ organizations(first: 20, filter: { search: "Beni Mellal" }) { totalCount nodes { id name searchHighlights { field snippet } } } }`,
    count: rows('organizations.nodes'),
  },
  {
    name: 'search: commitments "parliament" (20)',
    query: /* GraphQL */ `
      {
        commitments(first: 20, filter: { search: "parliament" }) {
          totalCount
          nodes {
            id
            title
            searchHighlights {
              field
              snippet
            }
            actionPlan {
              member {
                name
              }
            }
          }
        }
      }
    `,
    count: rows('commitments.nodes'),
  },
  {
    name: 'search: budget lines "الأجر الأساسي" (Arabic)',
    language: 'ar',
    query: `{ budgetLines(first: 20, filter: { search: "الأجر الأساسي" }) { totalCount nodes { id label searchHighlights { snippet } } } }`,
    count: rows('budgetLines.nodes'),
  },
  {
    name: 'search: summary of lines matching "منح"',
    query: `{ budgetSummary(filter: { search: "منح" }, groupBy: [FISCAL_YEAR]) { keys { value } currency lineCount totals { phase amount { amount } } } }`,
    count: rows('budgetSummary'),
  },
  // A common word (the issue 11 goal: p95 < 300 ms at scale 1000): more matches than the rank limit, so listed
  // in id order (common/src/search/connection.ts); the exact count reads every match, the page does not.
  {
    name: 'search worst case: a word in ~20% of lines',
    query: `{ budgetLines(first: 20, filter: { search: "الشفافية" }) { totalCount nodes { id } } }`,
    count: rows('budgetLines.nodes'),
    maxRuns: 10,
  },
  {
    name: 'search worst case, page without totalCount',
    query: `{ budgetLines(first: 20, filter: { search: "الشفافية" }) { nodes { id label searchHighlights { snippet } } } }`,
    count: rows('budgetLines.nodes'),
    maxRuns: 10,
  },
];
