import type { SubgraphName } from '@civic/subgraphs/catalog';
import { linkCommitmentsToBudgetLines } from '../support/budget-links';
import { BACKENDS, startSystem, type System } from '../support/system';

/**
 * Proves the DataLoader batching: the SQL statements each subgraph runs for one gateway query do not grow
 * with the number of rows the query returns.
 */
const QUERY = /* GraphQL */ `
  query Page($first: Int!) {
    commitments(first: $first) {
      totalCount
      nodes {
        id
        title
        policyAreas
        ogpValues
        leadOrganization {
          id
          name
          kind
          parent {
            name
          }
          identifiers {
            scheme
            value
          }
        }
        leadInstitutionText
        leadOrganizations {
          id
          name
        }
        supportingOrganizations {
          id
          name
        }
        actionPlan {
          id
          member {
            id
            name
            ogpMembership {
              type
            }
            budgets {
              id
            }
          }
          commitments(first: 5) {
            totalCount
            nodes {
              id
            }
          }
        }
        budgetLines {
          id
          code
          # A line's figures: the bundled lines have at most 3 (the default, 20, holds a year of months).
          amounts(first: 5) {
            phase
            amount {
              amount
            }
          }
          budget {
            fiscalYear
            total(direction: EXPENDITURE, phase: APPROVED) {
              amount
            }
          }
        }
      }
    }
  }
`;

describe.each(BACKENDS)('SQL statements per gateway query on %s', (backend) => {
  let sys: System;
  beforeAll(async () => {
    sys = await startSystem(backend);
    // Link the first 100 commitments to budget lines (round robin) so every field in the query has rows.
    await linkCommitmentsToBudgetLines(sys, { commitments: 100, lines: 40 });
  });
  afterAll(async () => {
    await sys?.stop();
  });

  async function count(first: number): Promise<Record<SubgraphName, number>> {
    for (const c of Object.values(sys.counters)) c.reset();
    const res = await sys.queryGateway<any>(QUERY, { first });
    expect(res.errors).toBeUndefined();
    expect(res.data.commitments.nodes).toHaveLength(first);
    // Every relation is really exercised at this size, so the counts below are not counts of nothing.
    const nodes = res.data.commitments.nodes;
    expect(nodes.filter((n: any) => n.leadOrganization?.name).length).toBeGreaterThan(first / 2);
    expect(nodes.filter((n: any) => n.budgetLines.length).length).toBe(first);
    expect(nodes.filter((n: any) => n.supportingOrganizations.length).length).toBeGreaterThan(0);
    if (first >= 100)
      expect(nodes.filter((n: any) => n.leadOrganizations.length > 1).length).toBeGreaterThan(0);
    return {
      organizations: sys.counters.organizations.total,
      commitments: sys.counters.commitments.total,
      budgets: sys.counters.budgets.total,
    };
  }

  test('the same number of statements for 10 rows as for 100, in every subgraph', async () => {
    const ten = await count(10);
    const hundred = await count(100);
    expect(hundred).toEqual(ten);
    console.log(
      `statements per gateway query on ${backend}: 10 rows ${JSON.stringify(ten)}, 100 rows ${JSON.stringify(hundred)}`,
    );
    // And that number is small: one per batch, not one per row.
    for (const n of Object.values(hundred)) expect(n).toBeGreaterThan(0);
    expect(hundred.commitments).toBeLessThanOrEqual(12);
    expect(hundred.organizations).toBeLessThanOrEqual(6);
    expect(hundred.budgets).toBeLessThanOrEqual(8);
  });
});
