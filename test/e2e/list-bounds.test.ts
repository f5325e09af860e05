import type { SubgraphName } from '@civic/subgraphs/catalog';
import { linkCommitmentsToBudgetLines } from '../support/budget-links';
import { BACKENDS, startSystem, type System } from '../support/system';

/**
 * Issue 10, "every list bounded": a list that grows with the data takes `first` (0 to 100, a default that
 * returns every list of the bundled data whole), cut per parent after the batched statement, so the number
 * of statements never grows with `first` or with the rows.
 */
describe.each(BACKENDS)('nested lists with first on %s', (backend) => {
  let sys: System;
  beforeAll(async () => {
    sys = await startSystem(backend);
    // Three budget lines for each of the first 20 commitments, and so several commitments for each line.
    await linkCommitmentsToBudgetLines(sys, { commitments: 20, lines: 10, perCommitment: 3 });
  });
  afterAll(async () => {
    await sys?.stop();
  });

  const ids = (list: { id: string }[]) => list.map((x) => x.id);

  test('Organization.children: the default gives every list whole, first cuts each parent its own', async () => {
    const res = await sys.queryGateway<any>(/* GraphQL */ `
      {
        # Regions, provinces and prefectures come first in this order: the parents of the longest lists.
        organizations(
          first: 100
          filter: { country: "MA" }
          orderBy: [{ field: CLASSIFICATION, direction: DESC }]
        ) {
          nodes {
            id
            children {
              id
            }
            three: children(first: 3) {
              id
            }
            none: children(first: 0) {
              id
            }
          }
        }
      }
    `);
    expect(res.errors).toBeUndefined();
    const nodes: any[] = res.data.organizations.nodes;
    // The bundled data's longest list (a Moroccan province's 58 communes) fits the default, 100.
    expect(Math.max(...nodes.map((n) => n.children.length))).toBe(58);
    expect(nodes.filter((n) => n.children.length > 3).length).toBeGreaterThan(1);
    for (const n of nodes) {
      expect(ids(n.three)).toEqual(ids(n.children).slice(0, 3));
      expect(n.none).toEqual([]);
      // A stable order: id order.
      expect(ids(n.children)).toEqual([...ids(n.children)].sort());
    }
  });

  test('lists across the three subgraphs are cut per parent, in their stable order', async () => {
    const res = await sys.queryGateway<any>(/* GraphQL */ `
      {
        commitments(first: 40) {
          nodes {
            id
            leadOrganization {
              id
            }
            leadOrganizations {
              id
            }
            oneLead: leadOrganizations(first: 1) {
              id
            }
            supportingOrganizations {
              id
            }
            twoSupporting: supportingOrganizations(first: 2) {
              id
            }
            policyAreas
            onePolicyArea: policyAreas(first: 1)
            budgetLines {
              id
              amounts {
                phase
                asOf
              }
              oneAmount: amounts(first: 1) {
                phase
                asOf
              }
              commitments {
                id
              }
              oneCommitment: commitments(first: 1) {
                id
              }
            }
            twoLines: budgetLines(first: 2) {
              id
            }
            oneLink: budgetLinks(first: 1) {
              budgetLine {
                id
              }
            }
            actionPlan {
              member {
                actionPlans {
                  id
                }
                onePlan: actionPlans(first: 1) {
                  id
                }
                budgets {
                  id
                }
                oneBudget: budgets(first: 1) {
                  id
                }
              }
            }
          }
        }
      }
    `);
    expect(res.errors).toBeUndefined();
    const nodes: any[] = res.data.commitments.nodes;
    // Each relation really has lists longer than the first asked, so the cuts below cut something.
    expect(nodes.filter((n) => n.leadOrganizations.length > 1).length).toBeGreaterThan(0);
    expect(nodes.filter((n) => n.supportingOrganizations.length > 2).length).toBeGreaterThan(0);
    expect(nodes.filter((n) => n.policyAreas.length > 1).length).toBeGreaterThan(0);
    expect(nodes.filter((n) => n.budgetLines.length === 3).length).toBe(20);
    expect(nodes.filter((n) => n.actionPlan.member.actionPlans.length > 1).length).toBeGreaterThan(0);
    for (const n of nodes) {
      expect(n.oneLead).toEqual(n.leadOrganization ? [n.leadOrganization] : []);
      expect(ids(n.oneLead)).toEqual(ids(n.leadOrganizations).slice(0, 1));
      expect(ids(n.twoSupporting)).toEqual(ids(n.supportingOrganizations).slice(0, 2));
      expect(n.onePolicyArea).toEqual(n.policyAreas.slice(0, 1));
      expect(ids(n.twoLines)).toEqual(ids(n.budgetLines).slice(0, 2));
      expect(n.oneLink.map((l: any) => l.budgetLine.id)).toEqual(ids(n.budgetLines).slice(0, 1));
      const member = n.actionPlan.member;
      expect(ids(member.onePlan)).toEqual(ids(member.actionPlans).slice(0, 1));
      expect(ids(member.oneBudget)).toEqual(ids(member.budgets).slice(0, 1));
      for (const line of n.budgetLines) {
        expect(line.oneAmount).toEqual(line.amounts.slice(0, 1));
        expect(ids(line.oneCommitment)).toEqual(ids(line.commitments).slice(0, 1));
        expect(line.commitments.length).toBeGreaterThan(1);
      }
    }
  });

  test.each([
    ['Organization.children', `{ organization(id: "ma-region-01") { children(first: $first) { id } } }`],
    ['Organization.identifiers', `{ organization(id: "gov-ma") { identifiers(first: $first) { value } } }`],
    [
      'Provenance.adjustments',
      `{ organization(id: "gov-ma") { source { adjustments(first: $first) { column } } } }`,
    ],
    [
      'Commitment.supportingOrganizations',
      `{ commitments(first: 1) { nodes { supportingOrganizations(first: $first) { id } } } }`,
    ],
    ['Organization.actionPlans', `{ organization(id: "gov-ma") { actionPlans(first: $first) { id } } }`],
    ['Organization.budgets', `{ organization(id: "gov-ma") { budgets(first: $first) { id } } }`],
    ['BudgetLine.amounts', `{ budgetLines(first: 1) { nodes { amounts(first: $first) { phase } } } }`],
    [
      'BudgetClassification.ancestors',
      `{ budgetLines(first: 1) { nodes { classifications { ancestors(first: $first) { code } } } } }`,
    ],
  ])(
    '%s: first above 100 or below 0 is refused with BAD_USER_INPUT naming the field',
    async (field, body) => {
      const query = `query ($first: Int) ${body}`;
      for (const first of [101, -1]) {
        const res = await sys.queryGateway<any>(query, { first });
        expect(res.errors).toHaveLength(1);
        expect(res.errors![0].message).toBe(
          `Argument "first" of ${field} must be between 0 and 100; got ${first}`,
        );
        expect(res.errors![0].extensions?.code).toBe('BAD_USER_INPUT');
      }
      const ok = await sys.queryGateway<any>(query, { first: 100 });
      expect(ok.errors).toBeUndefined();
    },
  );

  test('BudgetGroup.keys has at most 15: a grouping of more dimensions is refused', async () => {
    const grouping = (n: number) =>
      Array.from({ length: n }, (_, i) => `{ dimension: ECONOMIC, name: "d${i}" }`).join(', ');
    const res = await sys.queryGateway<any>(`{ budgetSummary(grouping: [${grouping(16)}]) { lineCount } }`);
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0].message).toBe('Argument "grouping" lists 16 dimensions: at most 15');
    expect(res.errors![0].extensions?.code).toBe('BAD_USER_INPUT');
    const ok = await sys.queryGateway<any>(
      `{ budgetSummary(grouping: [${grouping(15)}]) { keys { value } } }`,
    );
    expect(ok.errors).toBeUndefined();
    expect(ok.data.budgetSummary.length).toBeGreaterThan(0);
    expect(ok.data.budgetSummary.every((g: any) => g.keys.length === 15)).toBe(true);
  });

  /** The statements each subgraph runs for one query. */
  async function statements(query: string, variables: Record<string, unknown>) {
    for (const c of Object.values(sys.counters)) c.reset();
    const res = await sys.queryGateway<any>(query, variables);
    expect(res.errors).toBeUndefined();
    return Object.fromEntries(Object.entries(sys.counters).map(([name, c]) => [name, c.total])) as Record<
      SubgraphName,
      number
    >;
  }

  test('the number of statements grows neither with the parents nor with first', async () => {
    const ORGANIZATIONS = /* GraphQL */ `
      query ($parents: Int!, $first: Int!) {
        organizations(
          first: $parents
          filter: { country: "MA" }
          orderBy: [{ field: CLASSIFICATION, direction: DESC }]
        ) {
          nodes {
            id
            children(first: $first) {
              id
              identifiers(first: $first) {
                value
              }
              budgets(first: $first) {
                id
              }
            }
            actionPlans(first: $first) {
              id
            }
          }
        }
      }
    `;
    const COMMITMENTS = /* GraphQL */ `
      query ($parents: Int!, $first: Int!) {
        commitments(first: $parents) {
          nodes {
            policyAreas(first: $first)
            leadOrganizations(first: $first) {
              id
              name
            }
            supportingOrganizations(first: $first) {
              id
              name
            }
            budgetLines(first: $first) {
              id
              amounts(first: $first) {
                phase
              }
              commitments(first: $first) {
                id
              }
            }
          }
        }
      }
    `;
    for (const query of [ORGANIZATIONS, COMMITMENTS]) {
      // Ten parents already have every relation (the first five organizations have no children; regions follow).
      const small = await statements(query, { parents: 10, first: 1 });
      expect(await statements(query, { parents: 60, first: 1 })).toEqual(small);
      expect(await statements(query, { parents: 60, first: 10 })).toEqual(small);
      for (const n of Object.values(small)) expect(n).toBeGreaterThan(0);
    }
  });
});
