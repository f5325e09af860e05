import { buildSchema, print, parse } from 'graphql';
import { ExportError } from '@civic/gateway/export/errors';
import { DEFAULT_PAGE_SIZE, planExport } from '@civic/gateway/export/plan';

/** A small schema with the shapes the exporter meets in the graph: root and nested connections, lists. */
const schema = buildSchema(/* GraphQL */ `
  type Query {
    items(first: Int = 20, after: String, filter: String): ItemConnection!
    group(id: ID!): Group
    groups: [Group!]!
    count: Int!
  }
  type Mutation {
    touch: Int
  }
  type Group {
    id: ID!
    items(first: Int = 20, after: String): ItemConnection!
  }
  type Item {
    id: ID!
    name(lang: String): String!
    tags: [String!]!
    parts: [Part!]!
    meta: Meta
  }
  type Part {
    kind: String!
    value: String
  }
  type Meta {
    note: String
  }
  type ItemConnection {
    totalCount: Int!
    nodes: [Item!]!
    edges: [ItemEdge!]!
    pageInfo: PageInfo!
  }
  type ItemEdge {
    cursor: String!
    node: Item!
  }
  type PageInfo {
    hasNextPage: Boolean!
    endCursor: String
  }
`);

const refusal = (query: string, variables?: Record<string, unknown>, operationName?: string) => {
  try {
    planExport(schema, { query, variables, operationName });
  } catch (err) {
    expect(err).toBeInstanceOf(ExportError);
    expect((err as ExportError).status).toBe(400);
    return (err as ExportError).message;
  }
  throw new Error('the export was not refused');
};

describe('planExport: rewriting the query to page through its first connection', () => {
  test('adds after as a variable, first: 100, pageInfo, and totalCount on the first page only', () => {
    const plan = planExport(schema, {
      query: /* GraphQL */ `
        query Items($filter: String) {
          items(filter: $filter) {
            nodes {
              id
            }
          }
        }
      `,
      variables: { filter: 'x' },
    });
    expect(plan.query).toBe(
      print(
        parse(/* GraphQL */ `
          query Items($filter: String, $exportAfter: String, $exportCountTotal: Boolean!) {
            items(filter: $filter, after: $exportAfter, first: 100) {
              nodes {
                id
              }
              pageInfo {
                hasNextPage
                endCursor
              }
              exportTotalCount: totalCount @include(if: $exportCountTotal)
            }
          }
        `),
      ),
    );
    expect(plan).toMatchObject({
      variables: { filter: 'x' },
      afterVariable: 'exportAfter',
      countVariable: 'exportCountTotal',
      startCursor: null,
      pageSize: DEFAULT_PAGE_SIZE,
      connectionPath: ['items'],
      nodesPath: { kind: 'nodes', nodes: 'nodes' },
      pageInfoKey: 'pageInfo',
      totalCountKey: 'exportTotalCount',
      label: 'Items',
    });
  });

  test("keeps the query's own first and after: a literal after is where the first page starts", () => {
    const plan = planExport(schema, {
      query: `{ items(first: 7, after: "c3") { nodes { id } pageInfo { hasNextPage } } }`,
    });
    expect(plan.pageSize).toBe(7);
    expect(plan.startCursor).toBe('c3');
    expect(plan.query).toContain('items(first: 7, after: $exportAfter)');
    // An existing pageInfo is completed, not repeated.
    expect(plan.query.match(/pageInfo/g)).toHaveLength(1);
    expect(plan.query).toMatch(/pageInfo \{\s+hasNextPage\s+endCursor\s+\}/);
    expect(plan.label).toBe('items');
  });

  test('reuses the variables the query gives first and after; fills in a first with no value', () => {
    const query = `query ($n: Int, $cursor: String) { items(first: $n, after: $cursor) { nodes { id } } }`;
    const given = planExport(schema, { query, variables: { n: 9, cursor: 'c1' } });
    expect(given).toMatchObject({ pageSize: 9, afterVariable: 'cursor', startCursor: 'c1' });
    expect(given.query).toContain('items(first: $n, after: $cursor)');
    const missing = planExport(schema, { query });
    expect(missing).toMatchObject({ pageSize: DEFAULT_PAGE_SIZE, variables: { n: DEFAULT_PAGE_SIZE } });
    const defaulted = planExport(schema, {
      query: `query ($n: Int = 3) { items(first: $n) { nodes { id } } }`,
    });
    expect(defaulted.pageSize).toBe(3);
  });

  test('injected names never clash with the query’s own variables and aliases', () => {
    const plan = planExport(schema, {
      query: `query ($exportAfter: String) { items(filter: $exportAfter) { exportTotalCount: totalCount nodes { id } } }`,
    });
    expect(plan.afterVariable).toBe('exportAfter2');
    expect(plan.totalCountKey).toBe('exportTotalCount2');
  });

  test('the first connection in document order, through fragments and single objects', () => {
    const nested = planExport(schema, {
      query: `{ count group(id: "g") { id ...G } items { nodes { id } } } fragment G on Group { items { edges { node { id } } } }`,
    });
    expect(nested.connectionPath).toEqual(['group', 'items']);
    expect(nested.nodesPath).toEqual({ kind: 'edges', edges: 'edges', node: 'node' });
    const aliased = planExport(schema, { query: `{ all: items { rows: nodes { id } } }` });
    expect(aliased.connectionPath).toEqual(['all']);
    expect(aliased.nodesPath).toEqual({ kind: 'nodes', nodes: 'rows' });
  });

  test('columns come from the selection, in order, through aliases and fragments', () => {
    const plan = planExport(schema, {
      query: /* GraphQL */ `
        {
          items {
            nodes {
              id
              ar: name(lang: "ar")
              ...Parts
              meta {
                note
              }
              ... on Item {
                tags
                id
              }
            }
          }
        }
        fragment Parts on Item {
          parts {
            kind
            value
          }
        }
      `,
    });
    expect(plan.columns.map((c) => c.name)).toEqual([
      'id',
      'ar',
      'parts.kind',
      'parts.value',
      'meta.note',
      'tags',
    ]);
  });
});

describe('planExport: refusals name what was wrong', () => {
  test('a query that does not parse', () => {
    expect(refusal('{ items { nodes { id }')).toMatch(
      /^The query is not valid GraphQL: Syntax Error: Expected Name, found <EOF>\. \(line 1, column 23\)$/,
    );
  });

  test('a query that does not validate, before anything else', () => {
    expect(refusal('{ items { nodes { idd } } }')).toMatch(/Cannot query field "idd" on type "Item"/);
  });

  test('no connection, or a connection with no nodes selected', () => {
    expect(refusal('{ count }')).toMatch(/^The query has no connection to export/);
    expect(refusal('{ items { totalCount } }')).toMatch(/^The connection "items" selects no nodes/);
  });

  test('a connection inside a list', () => {
    expect(refusal('{ groups { items { nodes { id } } } }')).toMatch(
      /"groups\.items", is inside the list "groups"/,
    );
  });

  test('a mutation', () => {
    expect(refusal('mutation Touch { touch }')).toBe('Only queries can be exported: "Touch" is a mutation');
  });

  test('several operations and no operationName, or an unknown one', () => {
    const two = 'query A { items { nodes { id } } } query B { count }';
    expect(refusal(two)).toMatch(/several operations \(A, B\): say which to export with operationName/);
    expect(refusal(two, undefined, 'C')).toMatch(/no operation named "C" \(it has A, B\)/);
    expect(planExport(schema, { query: two, operationName: 'A' }).connectionPath).toEqual(['items']);
  });

  test('a page size under 1', () => {
    expect(refusal('{ items(first: 0) { nodes { id } } }')).toMatch(
      /"first" on "items" .* at least 1 \(got 0\)/,
    );
  });
});
