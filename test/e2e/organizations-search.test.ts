import { syntheticOrganizationNames } from '@civic/formats/synthetic';
import { SEARCH_FTS_TABLE, SEARCH_TABLE, searchQuery, searchScores } from '@civic/common/search';
import { generateOrganizations } from '@civic/subgraphs/organizations/src/synthetic';
import { byCodePoint, readCsv, readJson } from '../support/datasets';
import { BACKENDS, startSystem, type Backend, type GraphQLResponse, type System } from '../support/system';

/**
 * `organizations(filter: { search })` and `Organization.searchHighlights` through the gateway, on every
 * backend. Expected memberships are computed here from the source files with this file's own folding (never
 * with the search engine's), for the administrative units the files describe; relevance pages must add up
 * to every match once, and SQLite and MySQL must find the same organizations.
 */

type Names = Partial<Record<'ar' | 'fr' | 'en' | 'es', string>>;
const regions = readJson<{ regions: { id: string; name: Names }[] }>('morocco/regions.json').regions;
const divisions = readJson<{ region_divisions: { id: string; name: Names }[] }>(
  'morocco/region-divisions.json',
).region_divisions;
const communes = readJson<{ communes: { id: string; name: Names }[] }>('morocco/communes.json').communes;
const municipalities = readCsv('tunisia/municipalities.csv');

/** The Moroccan administrative units and Tunisian municipalities, by the ids the API gives them. */
const units: { id: string; names: (string | undefined)[] }[] = [
  ...regions.map((r) => ({ id: `ma-region-${r.id.replace(/^REGION_/, '')}`, names: Object.values(r.name) })),
  ...divisions.map((d) => ({ id: `ma-division-${d.id.replace(/^DIV_/, '')}`, names: Object.values(d.name) })),
  ...communes.map((c) => ({ id: `ma-commune-${c.id.replace(/^COM_/, '')}`, names: Object.values(c.name) })),
  ...municipalities.map((m) => ({ id: `tn-municipality-${m.municipal_id}`, names: [m.name, m.name_ar] })),
];
const isUnit = (id: string) => /^(ma-(region|division|commune)|tn-municipality)-/.test(id);

/** Latin words as a reader compares them: no accents, no case; anything but letters and digits separates. */
const words = (text: string | undefined) =>
  (text ?? '')
    .normalize('NFKD')
    .replace(/[\p{M}\p{Cf}]/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);

/** The units with a name holding a word equal to each of `whole` and a word starting with `start`. */
function unitsMatching(whole: string[], start: string | null, only?: (id: string) => boolean): string[] {
  return units
    .filter((u) => !only || only(u.id))
    .filter((u) => {
      const ws = u.names.flatMap(words);
      return whole.every((w) => ws.includes(w)) && (start === null || ws.some((w) => w.startsWith(start)));
    })
    .map((u) => u.id)
    .sort(byCodePoint);
}

interface Highlight {
  field: string;
  snippet: string;
}
interface Node {
  id: string;
  name: string;
  country: string | null;
  searchHighlights: Highlight[];
}
interface Page {
  organizations: {
    totalCount: number;
    nodes: Node[];
    edges: { cursor: string }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}
type Order = { field: string; direction?: 'ASC' | 'DESC' }[];

const PAGE = /* GraphQL */ `
  query Search($first: Int, $after: String, $filter: OrganizationFilter, $orderBy: [OrganizationOrder!]) {
    organizations(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
      totalCount
      nodes {
        id
        name
        country
        searchHighlights {
          field
          snippet
        }
      }
      edges {
        cursor
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

/** Each backend's walks by label, to compare SQLite with MySQL once both have run. */
const found = new Map<Backend, Map<string, string[]>>();

describe.each(BACKENDS)('organizations(filter: { search }) on %s', (backend) => {
  let sys: System;
  const walks = new Map<string, string[]>();
  found.set(backend, walks);

  beforeAll(async () => {
    sys = await startSystem(backend);
  });
  afterAll(async () => {
    await sys?.stop();
  });

  const q = <T = any>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) =>
    sys.queryGateway<T>(query, variables, headers);

  /** Every page of a list, with `after` cursors; checks each page's shape on the way. */
  async function walk(args: { filter: object; orderBy?: Order }, first: number): Promise<Node[]> {
    const out: Node[] = [];
    let after: string | null = null;
    let totalCount = -1;
    for (let pages = 0; ; pages++) {
      if (pages > 1000) throw new Error('the pages never end');
      const res: GraphQLResponse<Page> = await q<Page>(PAGE, { ...args, first, after });
      expect(res.errors).toBeUndefined();
      const c = res.data!.organizations;
      if (totalCount < 0) totalCount = c.totalCount;
      expect(c.totalCount).toBe(totalCount);
      // A full page while there is more; the last page exactly what is left (never empty unless nothing is).
      expect({ size: c.nodes.length, hasNextPage: c.pageInfo.hasNextPage }).toEqual({
        size: Math.min(first, totalCount - out.length),
        hasNextPage: out.length + first < totalCount,
      });
      expect(c.pageInfo.endCursor).toBe(c.edges.at(-1)?.cursor ?? null);
      out.push(...c.nodes);
      if (!c.pageInfo.hasNextPage) break;
      after = c.pageInfo.endCursor;
    }
    expect(out.length).toBe(totalCount);
    const ids = out.map((n) => n.id);
    expect(new Set(ids).size).toBe(ids.length);
    return out;
  }

  /** The ids a search finds, in one page (the searches below find fewer than 100). */
  async function ids(filter: object): Promise<string[]> {
    const res = await q<Page>(PAGE, { filter, first: 100 });
    expect(res.errors).toBeUndefined();
    expect(res.data!.organizations.pageInfo.hasNextPage).toBe(false);
    return res.data!.organizations.nodes.map((n) => n.id);
  }

  test('"Beni Mellal" finds Béni Mellal-Khénifra, and exactly the units named so', async () => {
    const found = await ids({ search: 'Beni Mellal' });
    expect(found).toContain('ma-region-01');
    // The region, its province and its commune (the last word also matches as a prefix).
    const expected = unitsMatching(['beni'], 'mellal');
    expect(expected.length).toBeGreaterThanOrEqual(3);
    expect(found.filter(isUnit).sort(byCodePoint)).toEqual(expected);
    // Search as you type: the unfinished word still finds the region.
    expect(await ids({ search: 'béni mell' })).toContain('ma-region-01');
    // Case and accents do not matter.
    expect((await ids({ search: 'BÉNI MELLAL' })).sort(byCodePoint)).toEqual([...found].sort(byCodePoint));
  });

  test('Arabic finds Arabic: "بني ملال", with or without harakat; "الكاف" and "كاف" find El Kef', async () => {
    const region = regions.find((r) => r.id === 'REGION_01')!;
    expect(region.name.ar).toBe('بني ملال خنيفرة');
    const found = await ids({ search: 'بني ملال' });
    expect(found).toContain('ma-region-01');
    expect((await ids({ search: 'بَنِي مَلَّال' })).sort()).toEqual([...found].sort());
    // Every result holds both words in Arabic: its highlight is its Arabic name.
    const res = await q<Page>(PAGE, { filter: { search: 'بني ملال' }, first: 100 });
    for (const n of res.data!.organizations.nodes)
      expect(n.searchHighlights.map((h) => h.field)).toEqual(['nameAr']);

    const kef = municipalities.find((m) => m.municipal_id === '33011')!;
    expect([kef.name, kef.name_ar]).toEqual(['El Kef', 'الكاف']);
    expect(await ids({ search: 'الكاف' })).toContain('tn-municipality-33011');
    expect(await ids({ search: 'كاف' })).toContain('tn-municipality-33011');
    // "El" is too short to be searched: "El Kef" searches "kef".
    expect(await ids({ search: 'El Kef' })).toContain('tn-municipality-33011');
  });

  test('search AND country: the Moroccan "Sidi" communes, the same as the source files', async () => {
    const everywhere = await walk({ filter: { search: 'sidi' } }, 100);
    const morocco = await walk({ filter: { search: 'sidi', country: 'MA' } }, 100);
    expect(morocco.every((n) => n.country === 'MA')).toBe(true);
    expect(morocco.map((n) => n.id).sort(byCodePoint)).toEqual(
      everywhere
        .filter((n) => n.country === 'MA')
        .map((n) => n.id)
        .sort(byCodePoint),
    );
    const moroccanCommunes = morocco.map((n) => n.id).filter((id) => id.startsWith('ma-commune-'));
    expect(moroccanCommunes.sort(byCodePoint)).toEqual(
      unitsMatching([], 'sidi', (id) => id.startsWith('ma-commune-')),
    );
    expect(moroccanCommunes.length).toBeGreaterThan(50);
    // Tunisia has its Sidi municipalities too (Sidi Bouzid...), which the Moroccan list leaves out.
    const tunisian = unitsMatching([], 'sidi', (id) => id.startsWith('tn-municipality-'));
    expect(tunisian.length).toBeGreaterThan(0);
    expect(everywhere.map((n) => n.id)).toEqual(expect.arrayContaining(tunisian));
    // With other filters too: AND, never OR.
    const bouzid = await ids({ search: 'sidi', country: 'TN', nameContains: 'bouzid' });
    expect(bouzid.length).toBeGreaterThan(0);
    expect(bouzid.sort()).toEqual(
      everywhere
        .filter((n) => n.country === 'TN' && /bouzid/i.test(n.name))
        .map((n) => n.id)
        .sort(),
    );
  });

  test('relevance order: pages add up to every match once, most relevant first, ties by id', async () => {
    const walked = (await walk({ filter: { search: 'sidi' } }, 7)).map((n) => n.id);
    const single = (await walk({ filter: { search: 'sidi' } }, 100)).map((n) => n.id);
    expect(walked).toEqual(single);
    // The order is the engine's scores (whole numbers), descending, then id ascending.
    const ds = sys.dataSources.organizations;
    const scores = await searchScores(ds.manager, searchQuery(ds, 'Organization', 'sidi'));
    expect(walked.length).toBe(scores.size);
    const expected = [...scores.keys()].sort((a, b) => scores.get(b)! - scores.get(a)! || byCodePoint(a, b));
    expect(walked).toEqual(expected);
    walks.set('sidi', walked);
    walks.set(
      'beni mellal',
      (await walk({ filter: { search: 'Beni Mellal' } }, 3)).map((n) => n.id),
    );
    walks.set(
      'بني ملال',
      (await walk({ filter: { search: 'بني ملال' } }, 2)).map((n) => n.id),
    );

    // A relevance cursor is refused under an explicit order, and the other way round.
    const first = await q<Page>(PAGE, { filter: { search: 'sidi' }, first: 5 });
    const res = await q(PAGE, {
      filter: { search: 'sidi' },
      first: 5,
      after: first.data!.organizations.pageInfo.endCursor,
      orderBy: [{ field: 'NAME' }],
    });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'after' });
  });

  test('orderBy NAME with a search: that order, the same organizations as by relevance', async () => {
    const byName = await walk({ filter: { search: 'sidi', country: 'MA' }, orderBy: [{ field: 'NAME' }] }, 9);
    const sorted = [...byName].sort((a, b) => byCodePoint(a.name, b.name) || byCodePoint(a.id, b.id));
    expect(byName.map((n) => n.id)).toEqual(sorted.map((n) => n.id));
    const byRelevance = await walk({ filter: { search: 'sidi', country: 'MA' } }, 100);
    expect(byName.map((n) => n.id).sort()).toEqual(byRelevance.map((n) => n.id).sort());
    expect(byName.every((n) => n.searchHighlights.length > 0)).toBe(true);
    walks.set(
      'sidi MA by name',
      byName.map((n) => n.id),
    );
  });

  test('searchHighlights: the matched words in <mark>, names in the request language order', async () => {
    const region = regions.find((r) => r.id === 'REGION_01')!;
    expect(region.name).toEqual({
      ar: 'بني ملال خنيفرة',
      en: 'Béni Mellal-Khénifra',
      es: 'Beni Melal-Jenifra',
      fr: 'Béni Mellal-Khénifra',
    });
    const QUERY = /* GraphQL */ `
      query ($search: String!) {
        organizations(first: 100, filter: { search: $search }) {
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
    const of = (res: GraphQLResponse<any>, id: string) =>
      res.data.organizations.nodes.find((n: { id: string }) => n.id === id).searchHighlights;
    const latin = await q(QUERY, { search: 'Beni Mellal' });
    expect(latin.errors).toBeUndefined();
    // The Spanish name counts too: it has one of the words (it spells the other Melal).
    expect(of(latin, 'ma-region-01')).toEqual([
      { field: 'nameFr', snippet: '<mark>Béni</mark> <mark>Mellal</mark>-Khénifra' },
      { field: 'nameEn', snippet: '<mark>Béni</mark> <mark>Mellal</mark>-Khénifra' },
      { field: 'nameEs', snippet: '<mark>Beni</mark> Melal-Jenifra' },
    ]);
    for (const n of latin.data.organizations.nodes)
      expect(n.searchHighlights.some((h: Highlight) => h.snippet.includes('<mark>'))).toBe(true);
    // Arabic first for a reader who asks for Arabic.
    const arabic = await q(QUERY, { search: 'خنيفرة mellal' }, { 'accept-language': 'ar' });
    expect(arabic.errors).toBeUndefined();
    expect(of(arabic, 'ma-region-01')).toEqual([
      { field: 'nameAr', snippet: 'بني ملال <mark>خنيفرة</mark>' },
      { field: 'nameFr', snippet: 'Béni <mark>Mellal</mark>-Khénifra' },
      { field: 'nameEn', snippet: 'Béni <mark>Mellal</mark>-Khénifra' },
    ]);
  });

  test('searchHighlights belong to the list: two searches in one operation, none without a search', async () => {
    // The province of Khénifra, found twice: by its French name and by its Arabic one. Its parent, the region,
    // has both words too, but is not a result of either list.
    const res = await q(/* GraphQL */ `
      {
        latin: organizations(first: 1, filter: { search: "Khénifra", parentId: "ma-region-01" }) {
          nodes {
            id
            searchHighlights {
              field
            }
            parent {
              id
              searchHighlights {
                field
              }
            }
          }
        }
        arabic: organizations(first: 1, filter: { search: "خنيفرة", parentId: "ma-region-01" }) {
          nodes {
            id
            searchHighlights {
              field
            }
          }
        }
        plain: organizations(first: 1, filter: { identifier: { scheme: "ma-region", value: "REGION_01" } }) {
          nodes {
            id
            searchHighlights {
              field
            }
          }
        }
        organization(id: "ma-region-01") {
          searchHighlights {
            field
          }
        }
      }
    `);
    expect(res.errors).toBeUndefined();
    const latin = res.data!.latin.nodes[0];
    const arabic = res.data!.arabic.nodes[0];
    expect(latin.id).toBe(arabic.id);
    const province = divisions.find((d) => `ma-division-${d.id.replace(/^DIV_/, '')}` === latin.id)!;
    const fields = (['fr', 'en', 'ar', 'es'] as const)
      .filter((l) => words(province.name[l]).includes('khenifra'))
      .map((l) => `name${l[0].toUpperCase()}${l[1]}`);
    expect(fields).toContain('nameFr');
    expect(latin.searchHighlights.map((h: Highlight) => h.field)).toEqual(fields);
    expect(arabic.searchHighlights.map((h: Highlight) => h.field)).toEqual(['nameAr']);
    expect(latin.parent).toEqual({ id: 'ma-region-01', searchHighlights: [] });
    expect(res.data!.plain.nodes).toEqual([{ id: 'ma-region-01', searchHighlights: [] }]);
    expect(res.data!.organization).toEqual({ searchHighlights: [] });
  });

  test('a search with no word that can be searched is refused, naming filter.search, before any SQL', async () => {
    for (const search of ['de la', 'El', 'the who', '', 'x'.repeat(301)]) {
      sys.counters.organizations.reset();
      const res = await q(PAGE, { filter: { search }, first: 10 });
      expect(res.data ?? null).toBeNull();
      expect(res.errors).toHaveLength(1);
      expect(res.errors![0].extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        argumentName: 'filter.search',
      });
      expect(res.errors![0].message).toContain('filter.search');
      expect(sys.counters.organizations.total).toBe(0);
    }
  });

  test('the statements of a searched page do not grow with `first` (10 vs 100)', async () => {
    const QUERY = /* GraphQL */ `
      query ($first: Int) {
        organizations(first: $first, filter: { search: "sidi" }) {
          totalCount
          nodes {
            id
            name
            searchHighlights {
              field
              snippet
            }
            parent {
              name
            }
            children {
              id
            }
            identifiers {
              scheme
            }
          }
        }
      }
    `;
    const count = async (first: number) => {
      sys.counters.organizations.reset();
      const res = await q(QUERY, { first });
      expect(res.errors).toBeUndefined();
      expect(res.data.organizations.nodes).toHaveLength(first);
      return sys.counters.organizations.total;
    };
    const ten = await count(10);
    const hundred = await count(100);
    expect(hundred).toBe(ten);
    // The probe (does the search find more than the rank limit? On MySQL a rare search may take a few rows in
    // id order before the FULLTEXT index), scores, page, count, then one statement per loader batch (parents,
    // children, identifiers).
    expect(hundred).toBeLessThanOrEqual(backend === 'mysql' ? 8 : 7);
  });

  test('the synthetic generator indexes what it writes and forgets what it replaces', async () => {
    const ds = sys.dataSources.organizations;
    const synthetic = (scale: number) =>
      Array.from({ length: 50 * scale }, (_, i) => {
        const n = syntheticOrganizationNames(i, 7);
        return { id: `syn-org-${String(i).padStart(7, '0')}`, names: [n.fr, n.en ?? '', n.ar ?? ''] };
      });
    const matching = (scale: number, word: string) =>
      synthetic(scale)
        .filter((o) => o.names.flatMap(words).includes(word))
        .map((o) => o.id)
        .sort();
    const found = async (word: string) =>
      (await walk({ filter: { search: word } }, 100)).map((n) => n.id).filter((id) => id.startsWith('syn-'));

    await generateOrganizations(ds, 2, 7);
    expect((await found('transparence')).sort()).toEqual(matching(2, 'transparence'));
    expect(matching(2, 'transparence').some((id) => id >= 'syn-org-0000050')).toBe(true);
    // Again at a smaller scale: the organizations beyond it leave the index (and SQLite's FTS5 copy).
    await generateOrganizations(ds, 1, 7);
    expect((await found('transparence')).sort()).toEqual(matching(1, 'transparence'));
    const left = async (table: string) =>
      Number(
        (
          await ds.query(
            `SELECT COUNT(*) AS n FROM ${table} WHERE entity_type = 'Organization' AND entity_id LIKE 'syn-org-%' ` +
              `AND entity_id >= 'syn-org-0000050'`,
          )
        )[0].n,
      );
    expect(await left(SEARCH_TABLE)).toBe(0);
    if (backend === 'sqlite') expect(await left(SEARCH_FTS_TABLE)).toBe(0);
  });

  test('the Search migration indexes the organizations already there, and reverts', async () => {
    const ds = sys.dataSources.organizations;
    const documents = async () =>
      (
        (await ds.query(`SELECT entity_type, entity_id, field, text FROM ${SEARCH_TABLE}`)) as Record<
          string,
          string
        >[]
      )
        .map((r) => JSON.stringify([r.entity_type, r.entity_id, r.field, r.text]))
        .sort();
    const indexed = await documents();
    expect(indexed.length).toBeGreaterThan(units.length);
    // Undo the migrations after Search (Imports and later), then Search itself.
    const names = ds.migrations.map((m) => m.name);
    expect(
      names.slice(names.indexOf('Search1764300000000'), names.indexOf('Search1764300000000') + 2),
    ).toEqual(['Search1764300000000', 'Imports1764400000000']);
    for (let i = names.indexOf('Search1764300000000'); i < names.length; i++)
      await ds.undoLastMigration({ transaction: 'each' });
    const runner = ds.createQueryRunner();
    try {
      expect(await runner.hasTable(SEARCH_TABLE)).toBe(false);
      expect(await runner.hasTable(SEARCH_FTS_TABLE)).toBe(false);
    } finally {
      await runner.release();
    }
    await ds.runMigrations({ transaction: 'each' });
    // The backfill writes what the seed and the generator wrote, row for row.
    expect(await documents()).toEqual(indexed);
    expect(await ids({ search: 'Khénifra بني' })).toEqual(['ma-region-01']);
  });
});

describe('MySQL and SQLite', () => {
  // Without a reachable MySQL only the SQLite half runs (and already matched the source files).
  (BACKENDS.length === 2 ? test : test.skip)('find the same organizations for every search', () => {
    const sets = (b: Backend) =>
      Object.fromEntries([...found.get(b)!].map(([label, ids]) => [label, [...ids].sort(byCodePoint)]));
    expect(found.get('mysql')?.size).toBe(4);
    expect(sets('mysql')).toEqual(sets('sqlite'));
    // Orders other than relevance are the same, page for page.
    expect(found.get('mysql')!.get('sidi MA by name')).toEqual(found.get('sqlite')!.get('sidi MA by name'));
  });
});
