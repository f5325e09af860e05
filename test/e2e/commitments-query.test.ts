import * as countries from 'i18n-iso-countries';
import fr from 'i18n-iso-countries/langs/fr.json';
import { byCodePoint, readCsv, readJson } from '../support/datasets';
import { queryStats } from '@civic/subgraphs/commitments/src/aggregates';
import { BACKENDS, type System, systemsPerBackend } from '../support/system';

/*
 * Filtering, ordering and counting commitments through the gateway, on every backend. Expected figures come
 * from the source files, read here with csv-parse (test/support/datasets.ts), never from the seed code.
 */

countries.registerLocale(fr);

const ogp = readCsv('ogp/ogp-commitments-export.csv');
const local = readJson<{
  members: {
    key: string;
    actionPlans?: {
      period: { start: string; end?: string };
      commitmentsDescribed?: { names: Record<string, string> }[];
    }[];
  }[];
}>('ogp-local/ogp-local-members.json');

const ID = 'Commitment Unique Identifier';
const idOf = (r: Record<string, string>) => r[ID];
/** The export's missing-value markers. */
const MISSING = new Set(['', 'ND', 'NR', 'NA', 'N/A']);
const cell = (v: string) => (MISSING.has(v.trim()) ? null : v.trim());
/** The export's words for the IRM scales, in scale order, with the enum value each stands for. */
const IMPACT: [string, string][] = [
  ['None', 'NONE'],
  ['Minor', 'MINOR'],
  ['Moderate', 'MODERATE'],
  ['Transformative', 'TRANSFORMATIVE'],
];
const COMPLETION: [string, string][] = [
  ['Not Started', 'NOT_STARTED'],
  ['Limited', 'LIMITED'],
  ['Substantial', 'SUBSTANTIAL'],
  ['Complete', 'COMPLETE'],
  ['Withdrawn', 'WITHDRAWN'],
  ['Unclear', 'UNCLEAR'],
];
const impactRank = (raw: string) => {
  const i = IMPACT.findIndex(([word]) => word === cell(raw));
  return i < 0 ? null : i;
};
/** Code point order (UTF-8 byte order is code point order). */
const sorted = (ids: string[]) => [...ids].sort(byCodePoint);
/** The member's country: alpha-2 of the ISO3 code for national members, of the country after the comma for local ones. */
const countryOf = (r: Record<string, string>) => {
  if (r.Code === 'XKX') return 'XK';
  const locality = r['Country/Locality'];
  if (r['National Or Local'] === 'National' || !locality.includes(','))
    return countries.alpha3ToAlpha2(r.Code)!;
  return countries.getAlpha2Code(locality.slice(locality.lastIndexOf(',') + 1).trim(), 'en')!;
};
/** The year of one of the export's date cells, read independently of the seed's date parser. */
const yearOf = (raw: string): number | null => {
  const t = raw.trim();
  const us = /^\d{1,2}\/\d{1,2}\/(\d{2}|\d{4})$/.exec(t);
  if (us) return us[1].length === 2 ? 2000 + Number(us[1]) : Number(us[1]);
  // An Excel serial day number (day 0 is 1899-12-30).
  if (/^\d{5}$/.test(t)) return new Date(Date.UTC(1899, 11, 30) + Number(t) * 86400000).getUTCFullYear();
  const year = /\b(\d{4})\b/.exec(t);
  return year ? Number(year[1]) : null;
};
const count = <T>(items: T[], key: (item: T) => string | null) => {
  const out = new Map<string | null, number>();
  for (const i of items) out.set(key(i), (out.get(key(i)) ?? 0) + 1);
  return out;
};
const policyAreaColumns = (() => {
  const header = Object.keys(ogp[0]);
  return header.slice(
    header.indexOf('Anti-Corruption and Integrity'),
    header.indexOf('Money in Politics') + 1,
  );
})();
const elKefPlans = local.members.find((m) => m.key === 'el-kef')!.actionPlans!;
const localCommitments = local.members.flatMap((m) =>
  (m.actionPlans ?? []).flatMap((p) => p.commitmentsDescribed ?? []),
);

const WALK = /* GraphQL */ `
  query Walk($first: Int!, $after: String, $filter: CommitmentFilter, $orderBy: [CommitmentOrder!]) {
    commitments(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
      totalCount
      nodes {
        id
        title
        startDate
        assessment {
          potentialImpact
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

/** Every commitment of a list, page after page, following the cursors. */
async function walk(
  sys: System,
  vars: { filter?: unknown; orderBy?: unknown },
  first = 100,
): Promise<{ totalCount: number; nodes: any[]; pages: number }> {
  const nodes: any[] = [];
  let after: string | null = null;
  let totalCount = 0;
  let pages = 0;
  for (;;) {
    const res: any = await sys.queryGateway(WALK, { ...vars, first, after });
    expect(res.errors).toBeUndefined();
    const c = res.data.commitments;
    totalCount = c.totalCount;
    nodes.push(...c.nodes);
    pages += 1;
    if (!c.pageInfo.hasNextPage) break;
    after = c.pageInfo.endCursor;
  }
  return { totalCount, nodes, pages };
}
const ids = (w: { nodes: any[] }) => w.nodes.map((n) => n.id as string);

const STATS = /* GraphQL */ `
  query Stats($filter: CommitmentFilter, $groupBy: [CommitmentDimension!]!) {
    commitmentStats(filter: $filter, groupBy: $groupBy) {
      keys {
        dimension
        value
        label
      }
      count
    }
  }
`;

const systemOf = systemsPerBackend();

describe.each(BACKENDS)('commitments: filters, orders and statistics on %s', (backend) => {
  const sys = () => systemOf(backend);
  const q = <T = any>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) =>
    sys().queryGateway<T>(query, variables, headers);
  const stats = async (groupBy: string[], filter?: unknown, headers?: Record<string, string>) => {
    const res = await q(STATS, { groupBy, filter }, headers);
    expect(res.errors).toBeUndefined();
    return res.data.commitmentStats as {
      keys: { dimension: string; value: string | null; label: string | null }[];
      count: number;
    }[];
  };

  test('Moroccan commitments by end-of-term completion: the export column counted, ND/NR as no value, in scale order', async () => {
    const moroccan = ogp.filter((r) => countryOf(r) === 'MA');
    const tally = count(moroccan, (r) => cell(r['Completion (End Of Term)']));
    const expected = [[null, null] as [string | null, string | null], ...COMPLETION]
      .filter(([word]) => tally.has(word))
      .map(([word, value]) => ({
        keys: [{ dimension: 'COMPLETION_END_OF_TERM', value, label: word }],
        count: tally.get(word),
      }));
    expect(await stats(['COMPLETION_END_OF_TERM'], { country: 'MA' })).toEqual(expected);
    // 16 Moroccan commitments: 8 not reviewed, 3 limited, 4 substantial, 1 complete.
    expect(expected.map((g) => g.count)).toEqual([8, 3, 4, 1]);
  });

  test('commitments with the policy area "Fiscal Openness", per member (the source’s names) and per country', async () => {
    const fiscal = ogp.filter((r) => r['Fiscal Openness'] === '1');
    const filter = { policyArea: 'Fiscal Openness' };

    const byMember = await stats(['MEMBER'], filter);
    expect(new Map(byMember.map((g) => [g.keys[0].label, g.count]))).toEqual(
      count(fiscal, (r) => r['Country/Locality']),
    );
    const memberIds = byMember.map((g) => g.keys[0].value!);
    expect(memberIds).toEqual(sorted(memberIds));

    const byCountry = await stats(['COUNTRY'], filter, { 'accept-language': 'fr' });
    const expected = count(fiscal, countryOf);
    expect(byCountry).toEqual(
      sorted([...expected.keys()] as string[]).map((code) => ({
        keys: [{ dimension: 'COUNTRY', value: code, label: countries.getName(code, 'fr') }],
        count: expected.get(code),
      })),
    );
    // National and local members of one country count together: Spain and Madrid, the Philippines and South Cotabato.
    expect(expected.get('ES')).toBe(4);
    expect(expected.get('PH')).toBe(5);

    const list = await walk(sys(), { filter });
    expect(sorted(ids(list))).toEqual(sorted(fiscal.map(idOf)));
  });

  test('grouped by policy area, a commitment counts once in each of its areas; none: the null group', async () => {
    const moroccan = ogp.filter((r) => r.Code === 'MAR');
    const expected = new Map<string | null, number>();
    for (const r of moroccan) {
      const areas = policyAreaColumns.filter((c) => r[c] === '1');
      for (const a of areas.length ? areas : [null]) expected.set(a, (expected.get(a) ?? 0) + 1);
    }
    const groups = await stats(['POLICY_AREA'], { memberId: 'gov-ma' });
    expect(new Map(groups.map((g) => [g.keys[0].value, g.count]))).toEqual(expected);
    expect(groups.every((g) => g.keys[0].label === g.keys[0].value)).toBe(true);
    expect(groups.map((g) => g.keys[0].value)).toEqual([
      ...(expected.has(null) ? [null] : []),
      ...sorted([...expected.keys()].filter((k): k is string => k !== null)),
    ]);
  });

  test('the total, and potential impact in scale order (not alphabetical)', async () => {
    expect(await stats([])).toEqual([{ keys: [], count: ogp.length + localCommitments.length }]);
    const tally = count(ogp, (r) => cell(r['Potential Impact']));
    expect(await stats(['POTENTIAL_IMPACT'])).toEqual([
      {
        keys: [{ dimension: 'POTENTIAL_IMPACT', value: null, label: null }],
        // El Kef's commitments are not assessed.
        count: tally.get(null)! + localCommitments.length,
      },
      ...IMPACT.map(([word, value]) => ({
        keys: [{ dimension: 'POTENTIAL_IMPACT', value, label: word }],
        count: tally.get(word),
      })),
    ]);
  });

  test('ogpValue, potentialImpact and completionEndOfTerm lists, theme: the same commitments as the export', async () => {
    const tech = await walk(sys(), { filter: { ogpValue: 'TECHNOLOGY_AND_INNOVATION' } });
    expect(sorted(ids(tech))).toEqual(sorted(ogp.filter((r) => r['OGP Value Technology'] === '1').map(idOf)));

    const ambitious = await walk(sys(), { filter: { potentialImpact: ['MODERATE', 'TRANSFORMATIVE'] } });
    const expectedAmbitious = ogp.filter((r) =>
      ['Moderate', 'Transformative'].includes(r['Potential Impact']),
    );
    expect(ambitious.totalCount).toBe(expectedAmbitious.length);
    expect(sorted(ids(ambitious))).toEqual(sorted(expectedAmbitious.map(idOf)));

    const done = await walk(sys(), {
      filter: { country: 'MA', completionEndOfTerm: ['COMPLETE', 'SUBSTANTIAL'] },
    });
    expect(sorted(ids(done))).toEqual(
      sorted(
        ogp
          .filter(
            (r) =>
              countryOf(r) === 'MA' && ['Complete', 'Substantial'].includes(r['Completion (End Of Term)']),
          )
          .map(idOf),
      ),
    );

    const none = await q(`{ commitments(filter: { potentialImpact: [] }) { totalCount nodes { id } } }`);
    expect(none.data.commitments).toEqual({ totalCount: 0, nodes: [] });

    // Themes match exactly, case included, on every backend.
    const theme = await walk(sys(), { filter: { theme: 'Open Parliament' } });
    expect(sorted(ids(theme))).toEqual(sorted(ogp.filter((r) => r.Theme === 'Open Parliament').map(idOf)));
    expect(theme.totalCount).toBe(15);
    const lower = await q(`{ commitments(filter: { theme: "open parliament" }) { totalCount } }`);
    expect(lower.data.commitments.totalCount).toBe(0);
  });

  test('startYear and endYear ranges: the years of the export’s dates, whatever their format', async () => {
    const started = await walk(sys(), { filter: { startYear: { min: 2018, max: 2019 } } });
    const expected = ogp.filter((r) => {
      const y = yearOf(r['Start Date']);
      return y !== null && y >= 2018 && y <= 2019;
    });
    expect(started.totalCount).toBe(expected.length);
    expect(sorted(ids(started))).toEqual(sorted(expected.map(idOf)));
    for (const n of started.nodes) expect(n.startDate).toMatch(/^201[89]/);

    // An open range: Ghana's commitments ending in 2024 or later (7 of its 23).
    const ending = await walk(sys(), { filter: { endYear: { min: 2024 }, country: 'GH' } });
    const expectedEnding = ogp.filter((r) => r.Code === 'GHA' && (yearOf(r['End Date']) ?? 0) >= 2024);
    expect(expectedEnding).toHaveLength(7);
    expect(sorted(ids(ending))).toEqual(sorted(expectedEnding.map(idOf)));

    const byYear = await stats(['START_YEAR'], { startYear: { min: 2018, max: 2019 } });
    expect(byYear.map((g) => [g.keys[0].value, g.count])).toEqual([
      ['2018', expected.filter((r) => yearOf(r['Start Date']) === 2018).length],
      ['2019', expected.filter((r) => yearOf(r['Start Date']) === 2019).length],
    ]);
  });

  test('organizationId: commitments an organization leads or supports; Organization.commitmentStats agrees', async () => {
    const georgia = await stats(['LEAD_ORGANIZATION'], { country: 'GE' });
    const parliament = georgia.find((g) => g.keys[0].label === 'Parliament of Georgia')!;
    const orgId = parliament.keys[0].value!;
    const named = (column: string) => (r: Record<string, string>) =>
      r.Code === 'GEO' && r[column].toLowerCase().includes('parliament of georgia');
    const leads = ogp.filter(named('Lead Institution'));
    const either = ogp.filter((r) => named('Lead Institution')(r) || named('Supporting Institution(s)')(r));
    expect(parliament.count).toBe(leads.length);

    const led = await walk(sys(), { filter: { leadOrganizationId: orgId } });
    expect(sorted(ids(led))).toEqual(sorted(leads.map(idOf)));
    const involved = await walk(sys(), { filter: { organizationId: orgId } });
    expect(sorted(ids(involved))).toEqual(sorted(either.map(idOf)));
    expect(involved.totalCount).toBeGreaterThan(led.totalCount);

    const res = await q(
      /* GraphQL */ `
        query Org($id: ID!) {
          organization(id: $id) {
            lead: commitmentStats(groupBy: [POTENTIAL_IMPACT], role: LEAD) {
              keys {
                dimension
                value
                label
              }
              count
            }
            any: commitmentStats(groupBy: [POTENTIAL_IMPACT]) {
              keys {
                dimension
                value
                label
              }
              count
            }
            total: commitmentStats(groupBy: [], role: SUPPORTING) {
              keys {
                value
              }
              count
            }
          }
          nobody: organization(id: "ma-region-01") {
            total: commitmentStats(groupBy: []) {
              keys {
                value
              }
              count
            }
            byTheme: commitmentStats(groupBy: [THEME]) {
              count
            }
          }
        }
      `,
      { id: orgId },
    );
    expect(res.errors).toBeUndefined();
    const org = res.data.organization;
    expect(org.lead).toEqual(await stats(['POTENTIAL_IMPACT'], { leadOrganizationId: orgId }));
    expect(org.any).toEqual(await stats(['POTENTIAL_IMPACT'], { organizationId: orgId }));
    expect(org.total).toEqual([{ keys: [], count: either.length - leads.length }]);
    expect(res.data.nobody).toEqual({ total: [{ keys: [], count: 0 }], byTheme: [] });
  });

  test('ordered by POTENTIAL_IMPACT DESC: pages walked with the cursors make the one sorted list', async () => {
    const walked = await walk(sys(), { orderBy: [{ field: 'POTENTIAL_IMPACT', direction: 'DESC' }] }, 37);
    expect(walked.pages).toBe(Math.ceil(walked.totalCount / 37));
    // The export's rows and El Kef's four commitments, which have no assessment.
    const extra = ids(walked).filter((id) => !ogp.some((r) => idOf(r) === id));
    expect(extra).toHaveLength(localCommitments.length);
    // Highest impact first, no assessment last, ties by id.
    const rows = [
      ...ogp.map((r) => ({ id: idOf(r), rank: impactRank(r['Potential Impact']) })),
      ...extra.map((id) => ({ id, rank: null })),
    ].sort((a, b) => (b.rank ?? -1) - (a.rank ?? -1) || byCodePoint(a.id, b.id));
    const expected = rows.map((r) => r.id);
    expect(ids(walked)).toEqual(expected);
    expect(walked.nodes.map((n) => n.assessment?.potentialImpact ?? null)).toEqual(
      rows.map((r) => (r.rank === null ? null : IMPACT[r.rank][1])),
    );
    // ID DESC: the id order reversed (the id tie-break adds nothing to it).
    const last = await q(
      `{ commitments(first: 3, orderBy: [{ field: ID, direction: DESC }]) { nodes { id } } }`,
    );
    expect(last.data.commitments.nodes.map((n: any) => n.id)).toEqual(
      sorted([...ogp.map(idOf), ...extra])
        .reverse()
        .slice(0, 3),
    );
    // The same list in pages of 100.
    expect(ids(await walk(sys(), { orderBy: [{ field: 'POTENTIAL_IMPACT', direction: 'DESC' }] }))).toEqual(
      expected,
    );
  });

  test('ordered by TITLE: code point order of the titles as the source gives them', async () => {
    const walked = await walk(sys(), { filter: { country: 'TN' }, orderBy: [{ field: 'TITLE' }] }, 3);
    const kef = elKefPlans.flatMap((p) => p.commitmentsDescribed ?? []).map((c) => c.names.fr);
    const expected = [
      ...ogp.filter((r) => countryOf(r) === 'TN').map((r) => r['Commitment Title'].trim()),
      ...kef,
    ].sort(byCodePoint);
    expect(walked.nodes.map((n) => n.title)).toEqual(expected);
  });

  test('Commitment.title in the request’s language where the source gives several, else the source’s title', async () => {
    const query = /* GraphQL */ `
      {
        kef: commitment(id: "ogpl-el-kef-2021-01") {
          title
          en: title(lang: EN)
          ar: title(lang: AR)
        }
        mo: commitment(id: "MO0012") {
          title
          fr: title(lang: FR)
        }
      }
    `;
    const names = elKefPlans[0].commitmentsDescribed![0].names;
    const moTitle = ogp.find((r) => idOf(r) === 'MO0012')!['Commitment Title'].trim();
    const plain = await q(query);
    expect(plain.data).toEqual({
      // No Accept-Language: the fallback order, French first; no Arabic title: the next language.
      kef: { title: names.fr, en: names.en, ar: names.fr },
      mo: { title: moTitle, fr: moTitle },
    });
    const english = await q(query, undefined, { 'accept-language': 'en' });
    expect(english.data.kef).toEqual({ title: names.en, en: names.en, ar: names.en });
    expect(english.data.mo.title).toBe(moTitle);
  });

  test('actionPlans: activeIn and orderBy, against the export’s plan years', async () => {
    const plans = new Map(
      ogp.map((r) => [
        r['Action Plan ID'],
        { start: Number(r['Year Of Submission']), end: Number(r['Action Plan End Year']) },
      ]),
    );
    const res = await q(/* GraphQL */ `
      {
        actionPlans(
          first: 100
          filter: { activeIn: 2022 }
          orderBy: [{ field: START_YEAR, direction: DESC }]
        ) {
          totalCount
          nodes {
            id
            startYear
            endYear
          }
          pageInfo {
            hasNextPage
          }
        }
      }
    `);
    expect(res.errors).toBeUndefined();
    const { nodes, pageInfo, totalCount } = res.data.actionPlans;
    expect(pageInfo.hasNextPage).toBe(false);
    const fromExport = [...plans].filter(([, p]) => p.start <= 2022 && p.end >= 2022).map(([id]) => id);
    const localActive = local.members
      .flatMap((m) => m.actionPlans ?? [])
      .filter((p) => Number(p.period.start.slice(0, 4)) <= 2022 && Number(p.period.end?.slice(0, 4)) >= 2022);
    expect(totalCount).toBe(fromExport.length + localActive.length);
    expect(sorted(nodes.map((n: any) => n.id).filter((id: string) => plans.has(id)))).toEqual(
      sorted(fromExport),
    );
    for (const n of nodes.filter((n: any) => plans.has(n.id))) {
      expect([n.startYear, n.endYear]).toEqual([plans.get(n.id)!.start, plans.get(n.id)!.end]);
    }
    // Latest start first, ties by id.
    const order = [...nodes].sort((a: any, b: any) => b.startYear - a.startYear || byCodePoint(a.id, b.id));
    expect(nodes).toEqual(order);
  });

  test('bad arguments: BAD_USER_INPUT naming the argument', async () => {
    const range = await q(`{ commitments(filter: { startYear: { min: 2020, max: 2018 } }) { totalCount } }`);
    expect(range.data).toBeNull();
    expect(range.errors?.[0].message).toMatch(/"filter.startYear" has min 2020 greater than max 2018/);
    expect(range.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      argumentName: 'filter.startYear',
    });
    const statsRange = await q(
      `{ commitmentStats(filter: { endYear: { min: 3, max: 1 } }, groupBy: []) { count } }`,
    );
    expect(statsRange.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      argumentName: 'filter.endYear',
    });

    const page = await q(`{ commitments(first: 2, orderBy: [{ field: POTENTIAL_IMPACT, direction: DESC }]) {
      pageInfo { endCursor } } }`);
    const cursor = page.data.commitments.pageInfo.endCursor;
    const otherOrder = await q(
      `query ($after: String) { commitments(after: $after, orderBy: [{ field: START_DATE }]) { totalCount } }`,
      { after: cursor },
    );
    expect(otherOrder.errors?.[0].message).toMatch(/cursor from a list in another order/);
    expect(otherOrder.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      argumentName: 'after',
    });
    const otherDirection = await q(
      `query ($after: String) { commitments(after: $after, orderBy: [{ field: POTENTIAL_IMPACT }]) { totalCount } }`,
      { after: cursor },
    );
    expect(otherDirection.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const idOrder = await q(`query ($after: String) { commitments(after: $after) { totalCount } }`, {
      after: cursor,
    });
    expect(idOrder.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'after' });

    // Too many groups (MAX_GROUPS through the API; a small limit here, straight on the subgraph's database).
    const themes = new Set(ogp.map((r) => cell(r.Theme)));
    expect(
      (await queryStats(sys().dataSources.commitments, ['THEME'], { maxGroups: themes.size })).length,
    ).toBe(themes.size);
    await expect(
      queryStats(sys().dataSources.commitments, ['THEME'], { maxGroups: themes.size - 1 }),
    ).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', argumentName: 'groupBy' } });

    const twice = await q(`{ commitmentStats(groupBy: [THEME, THEME]) { count } }`);
    expect(twice.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'groupBy' });
    const orderTwice =
      await q(`{ commitments(orderBy: [{ field: TITLE }, { field: TITLE, direction: DESC }]) {
      totalCount } }`);
    expect(orderTwice.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      argumentName: 'orderBy',
    });
  });

  test('Organization.commitmentStats: one statement for 10 organizations as for 100', async () => {
    const QUERY = /* GraphQL */ `
      query Page($first: Int!) {
        organizations(first: $first, filter: { country: "MA" }) {
          nodes {
            id
            commitmentStats(groupBy: [COMPLETION_END_OF_TERM]) {
              keys {
                value
              }
              count
            }
          }
        }
      }
    `;
    const statements = async (first: number) => {
      sys().counters.commitments.reset();
      const res = await q(QUERY, { first });
      expect(res.errors).toBeUndefined();
      expect(res.data.organizations.nodes).toHaveLength(first);
      return {
        statements: sys().counters.commitments.total,
        withCommitments: res.data.organizations.nodes.filter((n: any) => n.commitmentStats.length).length,
      };
    };
    const ten = await statements(10);
    const hundred = await statements(100);
    // The page of 100 really has more organizations with commitments, and costs the same statements.
    expect(hundred.withCommitments).toBeGreaterThan(ten.withCommitments);
    expect(hundred.statements).toBe(ten.statements);
    expect(hundred.statements).toBe(1);
  });
});

describe('SQLite and MySQL agree', () => {
  const both = BACKENDS.length > 1 ? test : test.skip;
  both('the same pages in the same order, the same groups', async () => {
    const results = await Promise.all(
      BACKENDS.map(async (b) => {
        const sys = systemOf(b);
        const impact = await walk(sys, { orderBy: [{ field: 'POTENTIAL_IMPACT', direction: 'DESC' }] }, 37);
        const titles = await walk(sys, { orderBy: [{ field: 'TITLE', direction: 'DESC' }] }, 100);
        const dates = await walk(sys, { orderBy: [{ field: 'START_DATE' }, { field: 'TITLE' }] }, 100);
        const groups = await sys.queryGateway(STATS, { groupBy: ['COUNTRY', 'THEME', 'LEAD_ORGANIZATION'] });
        return { impact: ids(impact), titles: ids(titles), dates: ids(dates), groups };
      }),
    );
    expect(results[0].groups.errors).toBeUndefined();
    for (const r of results.slice(1)) expect(r).toEqual(results[0]);
  });
});
