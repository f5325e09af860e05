import { byCodePoint, readCsv, readJson } from '../support/datasets';
import { BACKENDS, startSystem, type Backend, type GraphQLResponse, type System } from '../support/system';

/**
 * `organizations(filter, orderBy)` and `Organization.name(lang)` through the gateway, on every backend, with
 * expected values read from the source files themselves (never from the seed code), and keyset pages that
 * must add up to one sorted list, the same on SQLite and MySQL.
 */

const municipalities = readCsv('tunisia/municipalities.csv');
const ogpExport = readCsv('ogp/ogp-commitments-export.csv');
const divisions = readJson<{ region_divisions: { id: string; region_id: string }[] }>(
  'morocco/region-divisions.json',
);
const ogpLocal = readJson<{
  members: { key: string; country: string; level: string; government?: object }[];
}>('ogp-local/ogp-local-members.json');

/** Siliana's official governorate code is 34: its municipalities are the codes 34xxx. */
const siliana = municipalities.filter((m) => m.municipal_id.startsWith('34'));
/** OGP members: every member code of the export (national and local), plus the OGP Local file's members. */
const exportMemberCodes = new Set(ogpExport.map((r) => r.Code));
const ogpMemberCount = exportMemberCodes.size + ogpLocal.members.length;

interface Node {
  id: string;
  name: string;
  country: string | null;
  kind: string;
  classification: string | null;
  ogpMembership: { joined: string | null } | null;
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
  query Page($first: Int, $after: String, $filter: OrganizationFilter, $orderBy: [OrganizationOrder!]) {
    organizations(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
      totalCount
      nodes {
        id
        name
        country
        kind
        classification
        ogpMembership {
          joined
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

/** Text by Unicode code point, as the API promises (UTF-8 byte order is code point order; JS `<` is not). */

/** One sort value as the API orders it: null first ascending, last descending. */
function compareValues(a: string | null, b: string | null, direction: 'ASC' | 'DESC'): number {
  const c = a === b ? 0 : a === null ? -1 : b === null ? 1 : byCodePoint(a, b);
  return direction === 'ASC' ? c : -c;
}

const FIELD_VALUE: Record<string, (n: Node) => string | null> = {
  ID: (n) => n.id,
  NAME: (n) => n.name,
  COUNTRY: (n) => n.country,
  KIND: (n) => n.kind,
  CLASSIFICATION: (n) => n.classification,
  OGP_JOINED: (n) => n.ogpMembership?.joined ?? null,
};

/** The expected order, computed here from the values the API shows: the terms, then id ascending. */
function sortLocally(nodes: Node[], orderBy: Order): Node[] {
  return [...nodes].sort((a, b) => {
    for (const t of orderBy) {
      const get = FIELD_VALUE[t.field];
      const c = compareValues(get(a), get(b), t.direction ?? 'ASC');
      if (c) return c;
    }
    return byCodePoint(a.id, b.id);
  });
}

/** Ids of each backend's walks, by label, to compare SQLite with MySQL once both have run. */
const sequences = new Map<Backend, Map<string, string[]>>();

describe.each(BACKENDS)('organizations(filter, orderBy) on %s', (backend) => {
  let sys: System;
  /** Every organization, read page by page in id order. */
  let all: Node[];
  const walks = new Map<string, string[]>();
  sequences.set(backend, walks);

  beforeAll(async () => {
    sys = await startSystem(backend);
    all = await walk({}, 100);
  });
  afterAll(async () => {
    await sys?.stop();
  });

  const q = <T = any>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) =>
    sys.queryGateway<T>(query, variables, headers);

  /** Reads a whole list with `after` cursors; checks every page's shape on the way. */
  async function walk(
    args: { filter?: object; orderBy?: Order },
    first: number,
    headers?: Record<string, string>,
  ): Promise<Node[]> {
    const out: Node[] = [];
    let after: string | null = null;
    let totalCount = -1;
    for (let pages = 0; ; pages++) {
      if (pages > 1000) throw new Error('the pages never end');
      const res: GraphQLResponse<Page> = await q<Page>(PAGE, { ...args, first, after }, headers);
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
    return out;
  }

  /** Walks an ordering and checks it against one locally sorted list of the same organizations. */
  async function checkOrder(label: string, orderBy: Order, first: number, filter?: object) {
    const walked = await walk({ orderBy, filter }, first);
    const ids = walked.map((n) => n.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(sortLocally(walked, orderBy).map((n) => n.id));
    walks.set(label, ids);
    return walked;
  }

  test('id order by default, every organization exactly once', () => {
    const ids = all.map((n) => n.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual([...ids].sort(byCodePoint));
    // The administrative units alone: 12 regions, their provinces, communes, Tunisia's municipalities...
    expect(ids.length).toBeGreaterThan(municipalities.length + divisions.region_divisions.length);
    walks.set('id', ids);
  });

  test('parentId: the municipalities of the governorate of Siliana (code prefix 34)', async () => {
    const res = await q(PAGE, { first: 100, filter: { parentId: 'tn-governorate-siliana' } });
    expect(res.errors).toBeUndefined();
    const c = res.data.organizations;
    expect(c.totalCount).toBe(siliana.length);
    expect(c.nodes.map((n: Node) => n.id).sort()).toEqual(
      siliana.map((m) => `tn-municipality-${m.municipal_id}`).sort(),
    );
    expect(c.nodes.every((n: Node) => n.classification === 'municipality' && n.country === 'TN')).toBe(true);
  });

  test('parentId and children agree: ma-region-01 has the provinces of REGION_01 and its regional council', async () => {
    const provinces = divisions.region_divisions
      .filter((d) => d.region_id === 'REGION_01')
      .map((d) => `ma-division-${d.id.replace(/^DIV_/, '')}`);
    // The OGP Local file adds the council that governs the member (Béni Mellal-Khénifra is REGION_01).
    const councils = ogpLocal.members
      .filter((m) => m.country === 'MA' && m.level === 'region' && m.government)
      .map((m) => `org-${m.key}-government`);
    const expected = [...provinces, ...councils].sort(byCodePoint);
    const res = await q(/* GraphQL */ `
      {
        organization(id: "ma-region-01") {
          children {
            id
          }
        }
        organizations(first: 100, filter: { parentId: "ma-region-01" }) {
          totalCount
          nodes {
            id
          }
        }
      }
    `);
    expect(res.errors).toBeUndefined();
    expect(provinces.length).toBeGreaterThan(0);
    expect(res.data.organization.children.map((c: { id: string }) => c.id)).toEqual(expected);
    expect(res.data.organizations.nodes.map((c: { id: string }) => c.id)).toEqual(expected);
    expect(res.data.organizations.totalCount).toBe(expected.length);
  });

  test('ogpMember: true gives the OGP members, false everyone else', async () => {
    const res = await q(/* GraphQL */ `
      {
        members: organizations(first: 100, filter: { ogpMember: true }) {
          totalCount
          nodes {
            ogpMembership {
              type
            }
          }
        }
        others: organizations(first: 100, filter: { ogpMember: false }) {
          totalCount
          nodes {
            ogpMembership {
              type
            }
          }
        }
        local: organizations(first: 100, filter: { ogpMember: true, country: "TN" }) {
          nodes {
            id
          }
        }
      }
    `);
    expect(res.errors).toBeUndefined();
    const { members, others, local } = res.data;
    expect(members.totalCount).toBe(ogpMemberCount);
    expect(members.nodes.every((n: Node) => n.ogpMembership !== null)).toBe(true);
    expect(others.nodes.every((n: Node) => n.ogpMembership === null)).toBe(true);
    expect(members.totalCount + others.totalCount).toBe(all.length);
    // Tunisia's national government (when in the export) and El Kef, the OGP Local member.
    expect(local.nodes.map((n: { id: string }) => n.id)).toContain('tn-municipality-33011');
  });

  test('identifier: tn-municipality 34012 is Bou Arada, combined with the other conditions', async () => {
    const bouArada = municipalities.find((m) => m.municipal_id === '34012')!;
    const res = await q(/* GraphQL */ `
      {
        found: organizations(filter: { identifier: { scheme: "tn-municipality", value: "34012" } }) {
          totalCount
          nodes {
            id
            names {
              ar
              fr
            }
            parent {
              id
            }
          }
        }
        wrongCountry: organizations(
          filter: { identifier: { scheme: "tn-municipality", value: "34012" }, country: "MA" }
        ) {
          totalCount
        }
        otherCase: organizations(filter: { identifier: { scheme: "TN-MUNICIPALITY", value: "34012" } }) {
          totalCount
        }
      }
    `);
    expect(res.errors).toBeUndefined();
    expect(res.data.found).toEqual({
      totalCount: 1,
      nodes: [
        {
          id: 'tn-municipality-34012',
          names: { ar: bouArada.name_ar, fr: bouArada.name },
          parent: { id: 'tn-governorate-siliana' },
        },
      ],
    });
    expect(res.data.wrongCountry.totalCount).toBe(0);
    // Identifiers match exactly on both backends (MySQL's default collation would ignore case).
    expect(res.data.otherCase.totalCount).toBe(0);
  });

  test('orderBy NAME DESC: the pages add up to one list sorted by the names shown', async () => {
    const walked = await checkOrder('NAME DESC', [{ field: 'NAME', direction: 'DESC' }], 100);
    expect(walked.length).toBe(all.length);
  });

  test('orderBy NAME with Accept-Language: ar sorts by the Arabic names where there are some', async () => {
    const orderBy: Order = [{ field: 'NAME' }];
    const headers = { 'accept-language': 'ar' };
    const walked = await walk({ orderBy, filter: { country: 'TN' } }, 37, headers);
    const ids = walked.map((n) => n.id);
    expect(ids).toEqual(sortLocally(walked, orderBy).map((n) => n.id));
    const bouArada = walked.find((n) => n.id === 'tn-municipality-34012')!;
    expect(bouArada.name).toBe(municipalities.find((m) => m.municipal_id === '34012')!.name_ar);
    walks.set('NAME ar TN', ids);

    // The order depends on the language, so a cursor from an Arabic page is refused in French.
    const first = await q<Page>(PAGE, { orderBy, first: 5 }, headers);
    const res = await q(
      PAGE,
      { orderBy, first: 5, after: first.data!.organizations.pageInfo.endCursor },
      {
        'accept-language': 'fr',
      },
    );
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].extensions?.argumentName).toBe('after');
  });

  test('orderBy COUNTRY (many ties, nulls first): total order, nothing repeated or missing', async () => {
    const walked = await checkOrder('COUNTRY', [{ field: 'COUNTRY' }], 97);
    expect(walked.map((n) => n.id).sort(byCodePoint)).toEqual(all.map((n) => n.id));
    expect(walked[0].country).toBeNull();
  });

  test('orderBy KIND, COUNTRY DESC, NAME: several terms, nulls last when descending', async () => {
    const walked = await checkOrder(
      'KIND, COUNTRY DESC, NAME',
      [{ field: 'KIND' }, { field: 'COUNTRY', direction: 'DESC' }, { field: 'NAME' }],
      100,
    );
    expect(walked.length).toBe(all.length);
  });

  test('orderBy OGP_JOINED both ways over the members: mostly nulls, small pages', async () => {
    const filter = { ogpMember: true };
    const desc = await checkOrder('OGP_JOINED DESC', [{ field: 'OGP_JOINED', direction: 'DESC' }], 4, filter);
    const asc = await checkOrder('OGP_JOINED ASC', [{ field: 'OGP_JOINED' }], 4, filter);
    expect(desc.length).toBe(ogpMemberCount);
    expect(asc.length).toBe(ogpMemberCount);
    // The OGP Local file's join dates, latest first; the export gives none.
    expect(desc.slice(0, 2).map((n) => n.ogpMembership?.joined)).toEqual(['2022-05', '2021']);
  });

  test('orderBy ID DESC and CLASSIFICATION over a filtered list', async () => {
    await checkOrder('ID DESC TN', [{ field: 'ID', direction: 'DESC' }], 50, { country: 'TN' });
    await checkOrder('CLASSIFICATION MA', [{ field: 'CLASSIFICATION' }, { field: 'NAME' }], 100, {
      country: 'MA',
    });
  });

  test('a cursor from another ordering is refused, naming "after"', async () => {
    const page = (orderBy: Order | null, after?: string | null) =>
      q<Page>(PAGE, { orderBy, first: 3, after: after ?? null });
    const asc = (await page([{ field: 'NAME' }])).data!.organizations.pageInfo.endCursor;
    const idOrder = (await page(null)).data!.organizations.pageInfo.endCursor;
    for (const [orderBy, cursor] of [
      [[{ field: 'NAME', direction: 'DESC' }], asc],
      [[{ field: 'COUNTRY' }], asc],
      [null, asc],
      [[{ field: 'NAME' }], idOrder],
      [[{ field: 'COUNTRY' }, { field: 'NAME' }], asc],
    ] as [Order | null, string][]) {
      const res = await page(orderBy, cursor);
      expect(res.data).toBeNull();
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'after' });
      expect(res.errors?.[0].message).toMatch(/"after"/);
    }
    const other = await page([{ field: 'NAME', direction: 'DESC' }], asc);
    expect(other.errors?.[0].message).toMatch(/another order/);
  });

  test('Organization.name(lang) puts that language first; names still gives them all', async () => {
    const bouArada = municipalities.find((m) => m.municipal_id === '34012')!;
    const query = /* GraphQL */ `
      {
        organization(id: "tn-municipality-34012") {
          name
          ar: name(lang: AR)
          fr: name(lang: FR)
          en: name(lang: EN)
          names {
            ar
            fr
            en
            es
          }
        }
      }
    `;
    const res = await q(query);
    expect(res.errors).toBeUndefined();
    expect(res.data.organization).toEqual({
      name: bouArada.name,
      ar: bouArada.name_ar,
      fr: bouArada.name,
      // No English name: the request's order (here the default, French first) decides.
      en: bouArada.name,
      names: { ar: bouArada.name_ar, fr: bouArada.name, en: null, es: null },
    });
    const arabic = await q(query, undefined, { 'accept-language': 'ar' });
    expect(arabic.data.organization).toMatchObject({
      name: bouArada.name_ar,
      fr: bouArada.name,
      en: bouArada.name_ar,
    });
  });

  test('impossible filters are refused naming the argument', async () => {
    const cases: [object, string, RegExp][] = [
      [{ identifier: { scheme: ' ', value: '34012' } }, 'filter.identifier.scheme', /must not be empty/],
      [
        { identifier: { scheme: 'tn-municipality', value: '' } },
        'filter.identifier.value',
        /must not be empty/,
      ],
      [{ country: 'TUN' }, 'filter.country', /ISO 3166-1 alpha-2/],
      [{ nameContains: '  ' }, 'filter.nameContains', /must not be empty/],
    ];
    for (const [filter, argument, message] of cases) {
      const res = await q(PAGE, { filter });
      expect(res.data).toBeNull();
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: argument });
      expect(res.errors?.[0].message).toContain(`"${argument}"`);
      expect(res.errors?.[0].message).toMatch(message);
    }
    const twice = await q(PAGE, { orderBy: [{ field: 'NAME' }, { field: 'NAME', direction: 'DESC' }] });
    expect(twice.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'orderBy' });
    expect(twice.errors?.[0].message).toMatch(/"orderBy" lists NAME twice/);
  });

  test('an enum typo is refused by GraphQL validation, naming the value, the type and the place', async () => {
    const literal = await q(`{ organizations(orderBy: [{ field: NAMEE }]) { totalCount } }`);
    expect(literal.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(literal.errors?.[0].message).toMatch(/"NAMEE".*"OrganizationOrderField"/);
    expect(literal.errors?.[0].message).toMatch(/Did you mean the enum value "NAME"/);
    // A literal's message names the enum, not the argument; its location points at it.
    expect(literal.errors?.[0]).toMatchObject({ locations: [{ line: 1, column: 36 }] });

    const variable = await q(PAGE, { orderBy: [{ field: 'NAMEE' }] });
    expect(variable.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(variable.errors?.[0].message).toMatch(
      /"\$orderBy" got invalid value "NAMEE" at "orderBy\[0\]\.field"/,
    );

    const kind = await q(PAGE, { filter: { kind: 'GOVERMENT' } });
    expect(kind.errors?.[0].message).toMatch(/"\$filter" got invalid value "GOVERMENT" at "filter\.kind"/);
  });

  test('no per-row statements: a page of 100 costs the organizations subgraph what a page of 10 does', async () => {
    const query = /* GraphQL */ `
      query ($first: Int!) {
        organizations(first: $first, filter: { country: "MA" }, orderBy: [{ field: NAME }]) {
          totalCount
          nodes {
            name(lang: AR)
            parent {
              name
            }
            children {
              id
            }
            identifiers {
              scheme
              value
            }
          }
        }
      }
    `;
    const statements = async (first: number) => {
      sys.counters.organizations.reset();
      const res = await q(query, { first });
      expect(res.errors).toBeUndefined();
      expect(res.data.organizations.nodes).toHaveLength(first);
      return sys.counters.organizations.total;
    };
    const ten = await statements(10);
    expect(await statements(100)).toBe(ten);
    // page, count, parents, children, identifiers
    expect(ten).toBe(5);
  });
});

(BACKENDS.length === 2 ? test : test.skip)('SQLite and MySQL give the same sequences', () => {
  const [a, b] = BACKENDS.map((backend) => sequences.get(backend)!);
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  expect(a.size).toBeGreaterThan(5);
  for (const [label, ids] of a) expect({ label, ids: b.get(label) }).toEqual({ label, ids });
});
