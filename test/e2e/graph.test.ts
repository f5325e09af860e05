import {
  BudgetAmountEntity,
  BudgetEntity,
  BudgetLineEntity,
  CommitmentBudgetLineEntity,
} from '@civic/subgraphs/budgets/src/entities/Budget';
import { readCsv, readJson, sumMillimes } from '../support/datasets';
import { refreshStoredSums } from '../support/budget-summaries';
import { BACKENDS, startSystem, type System } from '../support/system';

const ogp = readCsv('ogp/ogp-commitments-export.csv');
const municipalities = readCsv('tunisia/municipalities.csv');
const expenditure = readCsv('tunisia/depense_per_year_34012.csv');
const local = readJson<{ members: { key: string; actionPlans: { commitmentsDescribed?: unknown[] }[] }[] }>(
  'ogp-local/ogp-local-members.json',
);

describe.each(BACKENDS)('the civic graph on %s', (backend) => {
  let sys: System;
  beforeAll(async () => {
    sys = await startSystem(backend);
  });
  afterAll(async () => {
    await sys?.stop();
  });

  const q = <T = any>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) =>
    sys.queryGateway<T>(query, variables, headers);

  test('MO0012: its lead institution, action plan and member, across two subgraphs', async () => {
    const row = ogp.find((r) => r['Commitment Unique Identifier'] === 'MO0012')!;
    const res = await q(/* GraphQL */ `
      {
        commitment(id: "MO0012") {
          id
          title
          shortTitle
          leadOrganization {
            id
            name
            kind
            country
          }
          supportingOrganizations {
            name
          }
          actionPlan {
            id
            number
            member {
              id
              name
              country
              ogpMembership {
                type
              }
            }
          }
          startDate
          endDate
          startDateText
          source {
            dataset
            url
            record
          }
        }
      }
    `);
    expect(res.errors).toBeUndefined();
    const c = res.data.commitment;
    expect(c.title).toBe(row['Commitment Title'].trim());
    expect(c.shortTitle).toBe(row['Short Title'].trim());
    expect(c.leadOrganization).toMatchObject({
      name: row['Lead Institution'].trim(),
      kind: 'GOVERNMENT',
      country: 'MA',
    });
    expect(c.actionPlan).toEqual({
      id: row['Action Plan ID'],
      number: Number(row['Action Plan Number']),
      member: { id: 'gov-ma', name: 'Maroc', country: 'MA', ogpMembership: { type: 'NATIONAL' } },
    });
    expect(c.startDate).toBe('2018-06-01');
    expect(c.endDate).toBe('2020-03-31');
    expect(c.startDateText).toBe(row['Start Date']);
    expect(c.source).toEqual({ dataset: 'OGP commitments export', url: row.URL, record: 'MO0012' });
  });

  test('a Tunisian municipality keeps its Arabic name and official code', async () => {
    const kef = municipalities.find((m) => m.municipal_id === '33011')!;
    const res = await q(/* GraphQL */ `
      {
        organization(id: "tn-municipality-33011") {
          id
          name
          names {
            ar
            fr
          }
          kind
          classification
          country
          identifiers {
            scheme
            value
          }
          parent {
            name
            classification
          }
          ogpMembership {
            type
            joined
          }
          source {
            dataset
          }
        }
      }
    `);
    expect(res.errors).toBeUndefined();
    const o = res.data.organization;
    expect(o.names.ar).toBe(kef.name_ar);
    expect(o.names.fr).toBe(kef.name);
    expect(o.name).toBe(kef.name);
    expect(o).toMatchObject({ kind: 'GOVERNMENT', classification: 'municipality', country: 'TN' });
    expect(o.identifiers).toContainEqual({ scheme: 'tn-municipality', value: '33011' });
    expect(o.parent).toEqual({ name: kef.state, classification: 'governorate' });
    expect(o.ogpMembership).toEqual({ type: 'LOCAL', joined: '2021' });
    expect(o.source.dataset).toBe('Tunisian municipalities');
  });

  test("Bou Arada's 2018 expenditure total, to the millime, with its Arabic lines", async () => {
    const res = await q(/* GraphQL */ `
      {
        budgets(filter: { organizationId: "tn-municipality-34012", fiscalYear: 2018 }) {
          totalCount
          nodes {
            id
            fiscalYear
            currency
            organization {
              id
              name
              names {
                ar
              }
            }
            approved: total(direction: EXPENDITURE, phase: APPROVED) {
              amount
              currency
            }
            lines(first: 100, filter: { direction: EXPENDITURE }) {
              totalCount
              nodes {
                code
                labels {
                  ar
                }
              }
            }
          }
        }
      }
    `);
    expect(res.errors).toBeUndefined();
    const [b] = res.data.budgets.nodes;
    expect(res.data.budgets.totalCount).toBe(1);
    const bouArada = municipalities.find((m) => m.municipal_id === '34012')!;
    expect(b.organization).toEqual({
      id: 'tn-municipality-34012',
      name: bouArada.name,
      names: { ar: bouArada.name_ar },
    });
    expect(b.approved).toEqual({ amount: sumMillimes(expenditure.map((r) => r['2018'])), currency: 'TND' });
    expect(b.lines.totalCount).toBe(expenditure.length);
    const first = expenditure[0];
    const line = b.lines.nodes.find(
      (l: { code: string }) =>
        l.code === [first.Titre, first.Article, first.Paragraphe, first.Sous_paragraphe].join('.'),
    );
    expect(line.labels.ar).toBe(first.Imputation);
  });

  test('organizations gain their budgets, commitments and action plans from the other subgraphs', async () => {
    const moroccan = ogp.filter((r) => r.Code === 'MAR');
    const plans = [...new Set(moroccan.map((r) => r['Action Plan ID']))].sort();
    const res = await q(/* GraphQL */ `
      {
        morocco: organization(id: "gov-ma") {
          actionPlans {
            id
            member {
              id
            }
            commitments(first: 100) {
              totalCount
            }
          }
        }
        bouArada: organization(id: "tn-municipality-34012") {
          budgets {
            fiscalYear
            currency
          }
        }
        y2016: organization(id: "tn-municipality-34012") {
          budgets(fiscalYear: 2016) {
            id
          }
        }
      }
    `);
    expect(res.errors).toBeUndefined();
    expect(res.data.morocco.actionPlans.map((p: { id: string }) => p.id)).toEqual(plans);
    const counted = res.data.morocco.actionPlans.reduce(
      (n: number, p: any) => n + p.commitments.totalCount,
      0,
    );
    expect(counted).toBe(moroccan.length);
    expect(res.data.bouArada.budgets.map((b: { fiscalYear: number }) => b.fiscalYear)).toEqual([
      2013, 2014, 2015, 2016, 2017, 2018,
    ]);
    expect(res.data.y2016.budgets).toEqual([{ id: 'tn-34012-2016' }]);
  });

  test('an entity many rows point to is fetched once per call, and each row gets all of it', async () => {
    // The Moroccan commitments: one member (gov-ma) and a few lead institutions, each asked of the organizations
    // subgraph once per call however many rows point to it (gateway/src/representations.ts); the fields later
    // calls merge into each copy (its action plans, its budgets) must reach every row, as if asked alone.
    const selection = `id leadOrganization { id name parent { id name } }
      actionPlan { id member { id name actionPlans { id } budgets { id } } }`;
    const list = await q(`{ commitments(first: 50, filter: { country: "MA" }) { nodes { ${selection} } } }`);
    expect(list.errors).toBeUndefined();
    const nodes = list.data.commitments.nodes as { id: string; actionPlan: { member: { id: string } } }[];
    expect(nodes).toHaveLength(ogp.filter((r) => r.Code === 'MAR').length);
    expect(new Set(nodes.map((n) => n.actionPlan.member.id))).toEqual(new Set(['gov-ma']));
    const leads = nodes.map((n: any) => n.leadOrganization.id);
    expect(new Set(leads).size).toBeLessThan(leads.length);
    for (const node of nodes) {
      const alone = await q(`{ commitment(id: "${node.id}") { ${selection} } }`);
      expect(alone.errors).toBeUndefined();
      expect(node).toEqual(alone.data.commitment);
    }
    expect((nodes[0] as any).actionPlan.member.actionPlans.length).toBeGreaterThan(0);
  });

  test("an institution's commitments by role", async () => {
    const lead = (await q(`{ commitment(id: "MO0012") { leadOrganization { id } } }`)).data.commitment
      .leadOrganization.id;
    const res = await q(
      /* GraphQL */ `
        query ($id: ID!) {
          organization(id: $id) {
            lead: commitments(role: LEAD, first: 100) {
              totalCount
              nodes {
                id
                leadOrganization {
                  id
                }
              }
            }
            any: commitments(first: 100) {
              totalCount
            }
          }
        }
      `,
      { id: lead },
    );
    expect(res.errors).toBeUndefined();
    const expected = ogp.filter(
      (r) =>
        r.Code === 'MAR' &&
        r['Lead Institution'].trim() === 'Directorate of Budget (Ministry of Economy and Finance)',
    );
    expect(res.data.organization.lead.totalCount).toBe(expected.length);
    expect(res.data.organization.lead.nodes.map((n: { id: string }) => n.id)).toContain('MO0012');
    for (const n of res.data.organization.lead.nodes) expect(n.leadOrganization.id).toBe(lead);
    expect(res.data.organization.any.totalCount).toBeGreaterThanOrEqual(expected.length);
  });

  test('commitments filtered by country and member, with OGP Local commitments', async () => {
    const elKef = local.members.find((m) => m.key === 'el-kef')!;
    const described = elKef.actionPlans.reduce((n, p) => n + (p.commitmentsDescribed?.length ?? 0), 0);
    const res = await q(/* GraphQL */ `
      {
        ma: commitments(filter: { country: "MA" }) {
          totalCount
        }
        tn: commitments(filter: { country: "tn" }) {
          totalCount
        }
        kef: commitments(filter: { memberId: "tn-municipality-33011" }) {
          totalCount
          nodes {
            title
            titles {
              fr
              en
            }
          }
        }
        plans: actionPlans(filter: { memberId: "tn-municipality-33011" }) {
          nodes {
            submittedOn
            startYear
            endYear
          }
        }
      }
    `);
    expect(res.errors).toBeUndefined();
    expect(res.data.ma.totalCount).toBe(ogp.filter((r) => r.Code === 'MAR').length);
    expect(res.data.tn.totalCount).toBe(ogp.filter((r) => r.Code === 'TUN').length + described);
    expect(res.data.kef.totalCount).toBe(described);
    expect(res.data.kef.nodes.map((n: any) => n.titles.en)).toContain('Internal audit system');
    expect(res.data.plans.nodes[0]).toEqual({ submittedOn: '2021-08-26', startYear: 2021, endYear: 2023 });
  });

  test('pagination: cursors walk every row once, in id order; first above 100 is refused', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let total = -1;
    for (let i = 0; i < 10; i++) {
      const res: any = await q(
        `query ($after: String) { commitments(first: 60, after: $after) { totalCount nodes { id } pageInfo { hasNextPage endCursor } } }`,
        { after },
      );
      expect(res.errors).toBeUndefined();
      total = res.data.commitments.totalCount;
      seen.push(...res.data.commitments.nodes.map((n: { id: string }) => n.id));
      if (!res.data.commitments.pageInfo.hasNextPage) break;
      after = res.data.commitments.pageInfo.endCursor;
    }
    expect(seen.length).toBe(total);
    expect(new Set(seen).size).toBe(total);
    expect(total).toBe(ogp.length + 4);

    const tooMany = await q(`{ organizations(first: 101) { totalCount } }`);
    expect(tooMany.data).toBeNull();
    expect(tooMany.errors?.[0].message).toMatch(/"first" must be between 0 and 100; got 101/);
    expect(tooMany.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');

    const badCursor = await q(`{ budgets(after: "not-a-cursor") { totalCount } }`);
    expect(badCursor.errors?.[0].message).toMatch(/"after" is not a cursor/);

    const badCountry = await q(`{ organizations(filter: { country: "Morocco" }) { totalCount } }`);
    expect(badCountry.errors?.[0].message).toMatch(/"filter.country" must be an ISO 3166-1 alpha-2/);
  });

  test('nested connections page too: an action plan walked with cursors', async () => {
    const plan = (await q(`{ actionPlans(first: 1, filter: { country: "MA" }) { nodes { id } } }`)).data
      .actionPlans.nodes[0].id;
    const expected = ogp
      .filter((r) => r['Action Plan ID'] === plan)
      .map((r) => r['Commitment Unique Identifier'])
      .sort();
    const page1 = await q(
      `query ($id: ID!) { actionPlan(id: $id) { commitments(first: 3) { totalCount nodes { id } pageInfo { endCursor hasNextPage } } } }`,
      { id: plan },
    );
    const c1 = page1.data.actionPlan.commitments;
    expect(c1.totalCount).toBe(expected.length);
    expect(c1.nodes.map((n: { id: string }) => n.id)).toEqual(expected.slice(0, 3));
    const page2 = await q(
      `query ($id: ID!, $after: String) { actionPlan(id: $id) { commitments(first: 3, after: $after) { nodes { id } } } }`,
      {
        id: plan,
        after: c1.pageInfo.endCursor,
      },
    );
    expect(page2.data.actionPlan.commitments.nodes.map((n: { id: string }) => n.id)).toEqual(
      expected.slice(3, 6),
    );
  });

  test('organizations: filters by kind, country and name in any language', async () => {
    const res = await q(/* GraphQL */ `
      {
        region: organizations(filter: { nameContains: "mellal-khénifra", country: "MA" }) {
          nodes {
            id
            names {
              ar
            }
          }
        }
        arabic: organizations(filter: { nameContains: "الكاف" }) {
          nodes {
            id
          }
        }
        civil: organizations(filter: { kind: CIVIL_SOCIETY }, first: 100) {
          nodes {
            kind
          }
        }
        tn: organizations(filter: { country: "TN" }, first: 0) {
          totalCount
          edges {
            cursor
          }
        }
      }
    `);
    expect(res.errors).toBeUndefined();
    expect(res.data.region.nodes.map((n: { id: string }) => n.id)).toContain('ma-region-01');
    expect(res.data.arabic.nodes.map((n: { id: string }) => n.id)).toContain('tn-municipality-33011');
    expect(res.data.civil.nodes.length).toBeGreaterThan(0);
    for (const n of res.data.civil.nodes) expect(n.kind).toBe('CIVIL_SOCIETY');
    expect(res.data.tn.edges).toEqual([]);
    expect(res.data.tn.totalCount).toBeGreaterThanOrEqual(municipalities.length);
  });

  test('_entities resolves every entity in every subgraph that contributes to it', async () => {
    const entities = (
      name: 'organizations' | 'commitments' | 'budgets',
      representations: unknown[],
      selection: string,
    ) =>
      sys.querySubgraph<any>(
        name,
        `query ($r: [_Any!]!) { _entities(representations: $r) { ${selection} } }`,
        {
          r: representations,
        },
      );
    const org = await entities(
      'organizations',
      [
        { __typename: 'Organization', id: 'ma-region-01' },
        { __typename: 'Organization', id: 'nope' },
      ],
      '... on Organization { id name }',
    );
    expect(org.data._entities).toEqual([{ id: 'ma-region-01', name: 'Béni Mellal-Khénifra' }, null]);
    const com = await entities(
      'commitments',
      [
        { __typename: 'Commitment', id: 'MO0012' },
        { __typename: 'ActionPlan', id: 'AP_MAR01' },
        { __typename: 'Organization', id: 'gov-ma' },
      ],
      '... on Commitment { id } ... on ActionPlan { id number } ... on Organization { id actionPlans { id } }',
    );
    expect(com.errors).toBeUndefined();
    expect(com.data._entities[0]).toEqual({ id: 'MO0012' });
    expect(com.data._entities[1]).toEqual({ id: 'AP_MAR01', number: 1 });
    expect(com.data._entities[2].actionPlans.map((p: { id: string }) => p.id)).toContain('AP_MAR01');
    const bud = await entities(
      'budgets',
      [
        { __typename: 'Budget', id: 'tn-34012-2018' },
        { __typename: 'Organization', id: 'tn-municipality-34012' },
        { __typename: 'Commitment', id: 'MO0012' },
      ],
      '... on Budget { id fiscalYear } ... on Organization { budgets { id } } ... on Commitment { budgetLines { id } }',
    );
    expect(bud.errors).toBeUndefined();
    expect(bud.data._entities[0]).toEqual({ id: 'tn-34012-2018', fiscalYear: 2018 });
    expect(bud.data._entities[1].budgets).toHaveLength(6);
    expect(bud.data._entities[2]).toEqual({ budgetLines: [] });
    const lineId = (await q(`{ budget(id: "tn-34012-2018") { lines(first: 1) { nodes { id } } } }`)).data
      .budget.lines.nodes[0].id;
    const line = await entities(
      'budgets',
      [{ __typename: 'BudgetLine', id: lineId }],
      '... on BudgetLine { id code }',
    );
    expect(line.data._entities[0].id).toBe(lineId);
  });

  test('commitments and budget lines link across subgraphs, in both directions', async () => {
    const lineId = (await q(`{ budget(id: "tn-34012-2018") { lines(first: 1) { nodes { id } } } }`)).data
      .budget.lines.nodes[0].id;
    // The link table belongs to the budgets subgraph: the test writes it there, as an importer would.
    await sys.dataSources.budgets.getRepository(CommitmentBudgetLineEntity).save({
      commitmentId: 'MO0012',
      lineId,
      sourceDataset: 'test fixture',
      sourceUrl: null,
      sourceLicense: null,
      sourceRecord: null,
    });
    try {
      const res = await q(
        /* GraphQL */ `
          query ($line: ID!) {
            commitment(id: "MO0012") {
              budgetLines {
                id
                budget {
                  fiscalYear
                }
              }
            }
            budgetLine(id: $line) {
              commitments {
                id
                shortTitle
                actionPlan {
                  member {
                    name
                  }
                }
              }
            }
          }
        `,
        { line: lineId },
      );
      expect(res.errors).toBeUndefined();
      expect(res.data.commitment.budgetLines).toEqual([{ id: lineId, budget: { fiscalYear: 2018 } }]);
      expect(res.data.budgetLine.commitments).toEqual([
        { id: 'MO0012', shortTitle: 'Budget Transparency Law', actionPlan: { member: { name: 'Maroc' } } },
      ]);
    } finally {
      await sys.dataSources.budgets
        .getRepository(CommitmentBudgetLineEntity)
        .delete({ commitmentId: 'MO0012', lineId });
    }
  });

  test('money stays exact beyond float precision: 123456789012.345 TND', async () => {
    const db = sys.dataSources.budgets;
    const src = { sourceDataset: 'test fixture', sourceUrl: null, sourceLicense: null, sourceRecord: null };
    await db.getRepository(BudgetEntity).save({
      id: 'test-exact',
      organizationId: 'tn-municipality-34012',
      fiscalYear: 2099,
      currency: 'TND',
      ...src,
    });
    await db.getRepository(BudgetLineEntity).save(
      ['a', 'b'].map((k) => ({
        id: `test-exact-${k}`,
        budgetId: 'test-exact',
        direction: 'REVENUE' as const,
        code: k,
        labelAr: null,
        labelFr: k,
        labelEn: null,
        labelEs: null,
        classification: null,
        ...src,
      })),
    );
    await db.getRepository(BudgetAmountEntity).save([
      {
        lineId: 'test-exact-a',
        phase: 'APPROVED' as const,
        asOf: '',
        measure: '',
        amountMinor: '123456789012345',
        sourceRecord: null,
      },
      {
        lineId: 'test-exact-b',
        phase: 'APPROVED' as const,
        asOf: '',
        measure: '',
        amountMinor: '123456789012346',
        sourceRecord: null,
      },
    ]);
    await refreshStoredSums(db, ['test-exact'], ['test-exact-a', 'test-exact-b']);
    try {
      const res =
        await q(`{ budget(id: "test-exact") { total(direction: REVENUE, phase: APPROVED) { amount currency }
        lines { nodes { amounts { phase asOf amount { amount } } } } } }`);
      expect(res.errors).toBeUndefined();
      expect(res.data.budget.total).toEqual({ amount: '246913578024.691', currency: 'TND' });
      expect(res.data.budget.lines.nodes[0].amounts).toEqual([
        { phase: 'APPROVED', asOf: null, amount: { amount: '123456789012.345' } },
      ]);
    } finally {
      await db.getRepository(BudgetAmountEntity).delete({ lineId: 'test-exact-a' });
      await db.getRepository(BudgetAmountEntity).delete({ lineId: 'test-exact-b' });
      await db.getRepository(BudgetLineEntity).delete({ budgetId: 'test-exact' });
      await db.getRepository(BudgetEntity).delete({ id: 'test-exact' });
      await refreshStoredSums(db, ['test-exact']);
    }
  });

  test('an internal failure reaches the client as a generic error, without SQL or stack', async () => {
    const db = sys.dataSources.budgets;
    // Budget.total reads the stored sums (subgraphs/budgets/src/summaries.ts): hiding them makes it fail.
    await db.query(`ALTER TABLE budget_summary_cells RENAME TO budget_summary_cells_hidden`);
    try {
      const res = await q(
        `{ budget(id: "tn-34012-2018") { fiscalYear total(direction: EXPENDITURE, phase: APPROVED) { amount } } }`,
      );
      expect(res.errors?.length).toBeGreaterThan(0);
      const text = JSON.stringify(res.errors);
      expect(text).toMatch(/Internal server error/);
      expect(text).not.toMatch(/budget_summary_cells|SELECT|stacktrace|at .*\.ts/i);
    } finally {
      await db.query(`ALTER TABLE budget_summary_cells_hidden RENAME TO budget_summary_cells`);
    }
  });

  test('names follow the Accept-Language header, forwarded by the gateway, then the fallback order', async () => {
    const kef = municipalities.find((m) => m.municipal_id === '33011')!;
    const query =
      '{ organization(id: "tn-municipality-33011") { name } ndi: organization(id: "org-ndi") { name names { ar en } } }';
    const ar = await q(query, undefined, { 'accept-language': 'ar-TN, ar;q=0.9, fr;q=0.5' });
    expect(ar.data.organization.name).toBe(kef.name_ar);
    // NDI has no Arabic name: the next language the fallback order has.
    expect(ar.data.ndi.names.ar).toBeNull();
    expect(ar.data.ndi.name).toBe(ar.data.ndi.names.en);
    const none = await q(query);
    expect(none.data.organization.name).toBe(kef.name);
  });

  test('every response carries its request id, the one the client sent or a new one', async () => {
    const post = (headers: Record<string, string>) =>
      fetch(sys.gatewayUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: '{ organization(id: "gov-ma") { id } }' }),
      });
    expect((await post({ 'x-request-id': 'journalist-42' })).headers.get('x-request-id')).toBe(
      'journalist-42',
    );
    expect((await post({})).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    // An id that could inject into logs or headers is replaced, not echoed.
    expect((await post({ 'x-request-id': 'bad id; drop' })).headers.get('x-request-id')).not.toContain('bad');
  });

  test('the explorer page is served to browsers at / and works offline', async () => {
    const res = await fetch(sys.gatewayUrl.replace(/graphql$/, ''), { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/GraphiQL|graphiql/);
    expect(html).not.toMatch(/<script[^>]+src="https?:/);
  });
});
