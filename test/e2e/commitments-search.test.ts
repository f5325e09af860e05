import * as countries from 'i18n-iso-countries';
import { byCodePoint, readCsv, readJson } from '../support/datasets';
import { BACKENDS, type Backend, type System, systemsPerBackend } from '../support/system';

/*
 * Searching commitments and action plans through the gateway, on every backend. The expected results are
 * computed here from the source files (csv-parse, test/support/datasets.ts) with a folding and word rule
 * written for this test from the documented behaviour, never with the search engine's own code: accents and
 * case do not matter; words are runs of letters and digits; words shorter than 3 characters and InnoDB's
 * stopwords are not searched; every word of the query must be a whole word of one of the entity's fields,
 * except the last, which may also start a longer word.
 */

const ogp = readCsv('ogp/ogp-commitments-export.csv');
const local = readJson<{
  members: {
    key: string;
    country: string;
    names: Record<string, string | undefined>;
    actionPlans?: {
      period: { start: string };
      commitmentsDescribed?: { names: Record<string, string | undefined> }[];
    }[];
  }[];
}>('ogp-local/ogp-local-members.json');

const ID = 'Commitment Unique Identifier';
/** The export's missing-value markers (the API has no text for them). */
const MISSING = new Set(['', 'nd', 'nr', 'na', 'n/a', 'unclear']);
const cell = (v: string | undefined) =>
  v === undefined || MISSING.has(v.trim().toLowerCase()) ? null : v.trim();
const sorted = (ids: Iterable<string>) => [...ids].sort(byCodePoint);

/** The member's country, read from the export's columns (as in commitments-query.test.ts). */
const countryOf = (r: Record<string, string>) => {
  if (r.Code === 'XKX') return 'XK';
  const locality = r['Country/Locality'];
  if (r['National Or Local'] === 'National' || !locality.includes(','))
    return countries.alpha3ToAlpha2(r.Code)!;
  return countries.getAlpha2Code(locality.slice(locality.lastIndexOf(',') + 1).trim(), 'en')!;
};

/** InnoDB's default full-text stopwords (INFORMATION_SCHEMA.INNODB_FT_DEFAULT_STOPWORD). */
const STOPWORDS = new Set(
  'a about an are as at be by com de en for from how i in is it la of on or that the this to und was what when where who will with www'.split(
    ' ',
  ),
);
const LIGATURES: Record<string, string> = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', ł: 'l', đ: 'd' };

/** The searchable words of a text: decomposed, without marks and modifier letters, lowercased, split. */
function words(text: string | null | undefined): string[] {
  if (!text) return [];
  return text
    .normalize('NFKD')
    .replace(/[\p{M}\p{Lm}]/gu, '')
    .toLowerCase()
    .replace(/[ßæœøłđ]/g, (c) => LIGATURES[c])
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => [...w].length >= 3 && !STOPWORDS.has(w));
}

/** The ids of `docs` holding every word of `query` (the last one also as the start of a longer word). */
function expected(docs: Map<string, string[]>, query: string): string[] {
  const terms = words(query);
  return sorted(
    [...docs]
      .filter(([, w]) =>
        terms.every((t, i) => w.some((x) => x === t || (i === terms.length - 1 && x.startsWith(t)))),
      )
      .map(([id]) => id),
  );
}

/** Every commitment's searchable words: the export's title, short title, full text and theme; El Kef's names. */
const commitmentWords = new Map<string, string[]>();
/** Every commitment's country, to check search combined with the country filter. */
const commitmentCountry = new Map<string, string>();
for (const r of ogp) {
  commitmentWords.set(
    r[ID],
    [r['Commitment Title'], r['Short Title'], r['Full Text'], r.Theme].flatMap((t) => words(cell(t))),
  );
  commitmentCountry.set(r[ID], countryOf(r));
}
/** Action plans (export: by "Action Plan ID") and the words of their member's name. */
const planWords = new Map<string, string[]>();
for (const r of ogp) planWords.set(r['Action Plan ID'], words(r['Country/Locality']));
for (const m of local.members) {
  (m.actionPlans ?? []).forEach((p) => {
    const planId = `ogpl-${m.key}-${p.period.start}`;
    planWords.set(planId, words(m.names.en ?? m.names.fr));
    (p.commitmentsDescribed ?? []).forEach((c, i) => {
      const id = `${planId}-${String(i + 1).padStart(2, '0')}`;
      commitmentWords.set(id, Object.values(c.names).flatMap(words));
      commitmentCountry.set(id, m.country);
    });
  });
}
const ELKEF_AUDIT = 'ogpl-el-kef-2021-01';

const SEARCH = /* GraphQL */ `
  query Search($first: Int!, $after: String, $filter: CommitmentFilter, $orderBy: [CommitmentOrder!]) {
    commitments(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
      totalCount
      nodes {
        id
        title
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

interface Found {
  totalCount: number;
  nodes: { id: string; title: string; searchHighlights: { field: string; snippet: string }[] }[];
  pages: number;
}

/** Every commitment of a searched list, page after page, following the cursors. */
async function walk(sys: System, vars: { filter?: unknown; orderBy?: unknown }, first = 100): Promise<Found> {
  const found: Found = { totalCount: 0, nodes: [], pages: 0 };
  let after: string | null = null;
  for (;;) {
    const res: any = await sys.queryGateway(SEARCH, { ...vars, first, after });
    expect(res.errors).toBeUndefined();
    const c = res.data.commitments;
    found.totalCount = c.totalCount;
    found.nodes.push(...c.nodes);
    found.pages += 1;
    if (!c.pageInfo.hasNextPage) return found;
    after = c.pageInfo.endCursor;
  }
}
const ids = (f: Found) => f.nodes.map((n) => n.id);

/** Membership of each backend's relevance walk, per query: the same on all of them. */
const walked: Partial<Record<Backend, Record<string, string[]>>> = {};

const systemOf = systemsPerBackend();

describe.each(BACKENDS)('commitments and action plans: search on %s', (backend) => {
  const sys = () => systemOf(backend);
  const q = <T = any>(query: string, variables?: Record<string, unknown>) =>
    sys().queryGateway<T>(query, variables);
  const search = (text: string, filter: Record<string, unknown> = {}, first = 100) =>
    walk(sys(), { filter: { ...filter, search: text } }, first);

  test('"audit" and "Audit": the commitments with a word starting with "audit", each with a highlight', async () => {
    const audit = await search('audit');
    const want = expected(commitmentWords, 'audit');
    expect(want.length).toBeGreaterThan(30);
    expect(want).toContain(ELKEF_AUDIT);
    expect(audit.totalCount).toBe(want.length);
    expect(sorted(ids(audit))).toEqual(want);
    expect(sorted(ids(await search('Audit')))).toEqual(want);
    for (const n of audit.nodes) {
      expect(n.searchHighlights.length).toBeGreaterThan(0);
      for (const h of n.searchHighlights) expect(h.snippet).toMatch(/<mark>audit[^<]*<\/mark>/i);
    }
    // El Kef's commitment: the source's (French) title and the English one, the apostrophe HTML-escaped.
    expect(audit.nodes.find((n) => n.id === ELKEF_AUDIT)!.searchHighlights).toEqual([
      { field: 'title', snippet: 'Système d&#39;<mark>audit</mark> interne' },
      { field: 'titleEn', snippet: 'Internal <mark>audit</mark> system' },
    ]);
  });

  test('"archives", and French and Spanish words typed without their accents', async () => {
    const archives = await search('archives');
    expect(sorted(ids(archives))).toEqual(expected(commitmentWords, 'archives'));
    expect(archives.totalCount).toBeGreaterThan(10);

    // "Système d'audit interne" (El Kef) is the only commitment with "système".
    const systeme = await search('systeme');
    expect(ids(systeme)).toEqual([ELKEF_AUDIT]);
    expect(systeme.nodes[0].searchHighlights[0]).toEqual({
      field: 'title',
      snippet: '<mark>Système</mark> d&#39;audit interne',
    });
    const numeriques = await search('NUMERIQUES');
    expect(sorted(ids(numeriques))).toEqual(expected(commitmentWords, 'numeriques'));
    expect(ids(numeriques)).toHaveLength(2);

    const etica = await search('etica');
    expect(sorted(ids(etica))).toEqual(expected(commitmentWords, 'etica'));
    expect(etica.totalCount).toBeGreaterThan(5);
    for (const n of etica.nodes)
      expect(n.searchHighlights.some((h) => /<mark>[ée]tica/i.test(h.snippet))).toBe(true);
  });

  test('"budget transparency": every word must match (AND), in any field', async () => {
    const both = await search('budget transparency');
    const want = expected(commitmentWords, 'budget transparency');
    expect(sorted(ids(both))).toEqual(want);
    const budget = expected(commitmentWords, 'budget');
    const transparency = expected(commitmentWords, 'transparency');
    // Fewer than either word alone, and all of them in both.
    expect(want.length).toBeLessThan(Math.min(budget.length, transparency.length));
    expect(want.every((id) => budget.includes(id) && transparency.includes(id))).toBe(true);
    expect(want.length).toBeGreaterThan(50);
    // "budget" is not the last word: a whole word only ("budgetary" does not count).
    expect(expected(commitmentWords, 'budgetary transparency').some((id) => !want.includes(id))).toBe(true);
  });

  test('search AND the other filters: country, and an order of its own', async () => {
    const inCountry = (text: string, country: string) =>
      expected(commitmentWords, text).filter((id) => commitmentCountry.get(id) === country);
    // In Tunisia, only El Kef's; in Nigeria, national and state commitments.
    expect(ids(await search('audit', { country: 'TN' }))).toEqual([ELKEF_AUDIT]);
    expect(inCountry('audit', 'TN')).toEqual([ELKEF_AUDIT]);
    const ng = await search('audit', { country: 'NG' });
    expect(sorted(ids(ng))).toEqual(inCountry('audit', 'NG'));
    expect(ng.totalCount).toBeGreaterThan(1);

    // With orderBy, its order (ties by id), walked with its cursors in small pages.
    const byTitle = await walk(sys(), { filter: { search: 'budget' }, orderBy: [{ field: 'TITLE' }] }, 7);
    expect(sorted(ids(byTitle))).toEqual(expected(commitmentWords, 'budget'));
    const titles = byTitle.nodes.map((n) => n.title);
    expect(titles).toEqual([...titles].sort(byCodePoint));
  });

  test('no orderBy: most relevant first, walked with its cursors; the same commitments whatever the page size', async () => {
    const results: Record<string, string[]> = {};
    for (const text of ['budget', 'audit', 'open data']) {
      const small = await search(text, {}, 9);
      const want = expected(commitmentWords, text);
      expect({ text, pages: small.pages }).toEqual({ text, pages: Math.ceil(want.length / 9) });
      expect(new Set(ids(small)).size).toBe(want.length);
      expect(sorted(ids(small))).toEqual(want);
      // One relevance order: pages of 100 give the same list.
      expect(ids(await search(text))).toEqual(ids(small));
      results[text] = sorted(ids(small));
    }
    walked[backend] = results;
    // Titles weigh more than descriptions: the most relevant "audit" commitment has it in its title.
    const top = (await search('audit', {}, 1)).nodes[0];
    expect(top.searchHighlights.map((h) => h.field)).toContain('title');
  });

  test('a cursor from one search is refused by another', async () => {
    const page: any = await q(SEARCH, { first: 2, filter: { search: 'audit' } });
    const other = await q(SEARCH, {
      first: 2,
      filter: { search: 'budget' },
      after: page.data.commitments.pageInfo.endCursor,
    });
    expect(other.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'after' });
  });

  test('no highlights without a search', async () => {
    const res = await q(/* GraphQL */ `
      {
        commitments(first: 3) {
          nodes {
            searchHighlights {
              field
            }
          }
        }
        commitment(id: "${ELKEF_AUDIT}") {
          searchHighlights {
            field
          }
        }
      }
    `);
    expect(res.errors).toBeUndefined();
    expect(res.data.commitments.nodes).toEqual([1, 2, 3].map(() => ({ searchHighlights: [] })));
    expect(res.data.commitment).toEqual({ searchHighlights: [] });
  });

  test('commitmentStats with a search counts only the matching commitments', async () => {
    const STATS = /* GraphQL */ `
      query Stats($filter: CommitmentFilter, $groupBy: [CommitmentDimension!]!) {
        commitmentStats(filter: $filter, groupBy: $groupBy) {
          keys {
            value
          }
          count
        }
      }
    `;
    const audit = expected(commitmentWords, 'audit');
    const total = await q(STATS, { filter: { search: 'audit' }, groupBy: [] });
    expect(total.data.commitmentStats).toEqual([{ keys: [], count: audit.length }]);
    expect((await search('audit')).totalCount).toBe(audit.length);

    const byCountry = await q(STATS, { filter: { search: 'budget transparency' }, groupBy: ['COUNTRY'] });
    expect(byCountry.errors).toBeUndefined();
    const want = new Map<string, number>();
    for (const id of expected(commitmentWords, 'budget transparency')) {
      const c = commitmentCountry.get(id)!;
      want.set(c, (want.get(c) ?? 0) + 1);
    }
    expect(byCountry.data.commitmentStats).toEqual(
      sorted(want.keys()).map((c) => ({ keys: [{ value: c }], count: want.get(c) })),
    );

    const tn = await q(STATS, { filter: { search: 'audit', country: 'TN' }, groupBy: [] });
    expect(tn.data.commitmentStats[0].count).toBe(
      audit.filter((id) => commitmentCountry.get(id) === 'TN').length,
    );
  });

  test('a search page costs the same statements for 10 commitments as for 100', async () => {
    const QUERY = /* GraphQL */ `
      query Page($first: Int!) {
        commitments(first: $first, filter: { search: "budget" }) {
          totalCount
          nodes {
            id
            title
            policyAreas
            searchHighlights {
              field
              snippet
            }
            actionPlan {
              id
              startYear
            }
          }
          pageInfo {
            endCursor
          }
        }
      }
    `;
    expect(expected(commitmentWords, 'budget').length).toBeGreaterThan(100);
    const statements = async (first: number) => {
      sys().counters.commitments.reset();
      const res = await q(QUERY, { first });
      expect(res.errors).toBeUndefined();
      expect(res.data.commitments.nodes).toHaveLength(first);
      return sys().counters.commitments.total;
    };
    const ten = await statements(10);
    const hundred = await statements(100);
    expect(hundred).toBe(ten);
    // The probe (does the search find more than the rank limit? On MySQL two statements for this rare search
    // in a small table: two growing reads in id order that reach its end), the scores, the page, the count,
    // the plans, the policy areas.
    expect(ten).toBe(backend === 'mysql' ? 7 : 6);
  });

  test('actionPlans: search on the member name, with highlights; AND with the other filters', async () => {
    const QUERY = /* GraphQL */ `
      query Plans($filter: ActionPlanFilter) {
        actionPlans(first: 100, filter: $filter) {
          totalCount
          nodes {
            id
            searchHighlights {
              field
              snippet
            }
          }
        }
      }
    `;
    const kef = await q(QUERY, { filter: { search: 'El Kef' } });
    expect(kef.errors).toBeUndefined();
    expect(sorted(kef.data.actionPlans.nodes.map((n: any) => n.id))).toEqual(expected(planWords, 'El Kef'));
    expect(kef.data.actionPlans.nodes.map((n: any) => n.searchHighlights)).toEqual([
      [{ field: 'memberName', snippet: 'El <mark>Kef</mark>' }],
      [{ field: 'memberName', snippet: 'El <mark>Kef</mark>' }],
    ]);

    const nigeria = await q(QUERY, { filter: { search: 'nigeria' } });
    const want = expected(planWords, 'nigeria');
    expect(want.length).toBeGreaterThan(2);
    expect(nigeria.data.actionPlans.totalCount).toBe(want.length);
    expect(sorted(nigeria.data.actionPlans.nodes.map((n: any) => n.id))).toEqual(want);

    const active = await q(QUERY, { filter: { search: 'nigeria', activeIn: 2019 } });
    const plans = new Map(
      ogp.map((r) => [
        r['Action Plan ID'],
        [Number(r['Year Of Submission']), Number(r['Action Plan End Year'])],
      ]),
    );
    expect(sorted(active.data.actionPlans.nodes.map((n: any) => n.id))).toEqual(
      want.filter((id) => plans.get(id)![0] <= 2019 && plans.get(id)![1] >= 2019),
    );
  });

  test('a search with no searchable word is BAD_USER_INPUT naming filter.search', async () => {
    for (const query of [
      `{ commitments(filter: { search: "a of" }) { totalCount } }`,
      `{ commitmentStats(filter: { search: "a of" }, groupBy: []) { count } }`,
      `{ actionPlans(filter: { search: "a of" }) { totalCount } }`,
      `{ commitments(filter: { search: "" }) { totalCount } }`,
    ]) {
      const res = await q(query);
      expect(res.data).toBeNull();
      expect(res.errors?.[0].message).toMatch(/"filter.search" has no word that can be searched/);
      expect(res.errors?.[0].extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        argumentName: 'filter.search',
      });
    }
  });

  test('the migration indexes the rows already stored: reverted and run again, the same results', async () => {
    const ds = sys().dataSources.commitments;
    const before = sorted(ids(await search('budget transparency')));
    // The migrations after Search (Imports and later), then Search itself.
    const names = ds.migrations.map((m) => m.name);
    const first = names.indexOf('Search1764300000000');
    expect(names.slice(first, first + 2)).toEqual(['Search1764300000000', 'Imports1764400000000']);
    for (let i = first; i < names.length; i++) await ds.undoLastMigration({ transaction: 'all' });
    await ds.runMigrations({ transaction: 'all' });
    expect(sorted(ids(await search('budget transparency')))).toEqual(before);
    expect(sorted(ids(await search('systeme')))).toEqual([ELKEF_AUDIT]);
  });
});

describe('SQLite and MySQL agree', () => {
  (BACKENDS.length > 1 ? test : test.skip)('the same commitments for every search', () => {
    expect(walked.mysql).toEqual(walked.sqlite);
    expect(Object.keys(walked.sqlite ?? {})).toHaveLength(3);
  });
});
