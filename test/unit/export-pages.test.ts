import { buildSchema, graphql } from 'graphql';
import { ExportError } from '@civic/gateway/export/errors';
import { fetchPages, openExport, type ExecutePage, type PageResult } from '@civic/gateway/export/pages';
import { planExport } from '@civic/gateway/export/plan';

/**
 * The paging loop over a real GraphQL executor (graphql-js, cursor pagination over 23 items): every page
 * is the rewritten query run with the previous page's endCursor.
 */
const schema = buildSchema(/* GraphQL */ `
  type Query {
    items(first: Int = 20, after: String): ItemConnection!
    holder(id: ID!): Holder
  }
  type Holder {
    items(first: Int = 20, after: String): ItemConnection!
  }
  type Item {
    id: ID!
    broken: String
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

const ITEMS = Array.from({ length: 23 }, (_, i) => ({
  id: `item-${String(i).padStart(2, '0')}`,
  broken: () => {
    if (i === 17) throw new Error('disk on fire at /var/lib/secret');
    return 'ok';
  },
}));

function connection({ first, after }: { first: number; after?: string | null }) {
  const start = after ? ITEMS.findIndex((i) => i.id === after) + 1 : 0;
  const page = ITEMS.slice(start, start + first);
  return {
    totalCount: ITEMS.length,
    nodes: page,
    edges: page.map((node) => ({ cursor: node.id, node })),
    pageInfo: { hasNextPage: start + first < ITEMS.length, endCursor: page.at(-1)?.id ?? null },
  };
}

const rootValue = {
  items: connection,
  holder: ({ id }: { id: string }) => (id === 'h' ? { items: connection } : null),
};

/** Runs a plan's pages with graphql-js, recording each page's variables. */
function executor(query: string, calls: Record<string, unknown>[] = []): ExecutePage {
  return async (variableValues) => {
    calls.push(variableValues);
    const result = await graphql({ schema, source: query, rootValue, variableValues });
    return JSON.parse(JSON.stringify(result)) as PageResult;
  };
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('fetchPages', () => {
  test('pages until hasNextPage is false, each page after the last endCursor, totalCount once', async () => {
    const plan = planExport(schema, { query: '{ items(first: 5) { nodes { id } } }' });
    const calls: Record<string, unknown>[] = [];
    const pages = await all(fetchPages(plan, executor(plan.query, calls)));
    expect(pages.map((p) => p.nodes.length)).toEqual([5, 5, 5, 5, 3]);
    expect(pages.flatMap((p) => p.nodes)).toEqual(ITEMS.map((i) => ({ id: i.id })));
    expect(pages.map((p) => p.totalCount)).toEqual([23, null, null, null, null]);
    expect(calls.map((c) => [c.exportAfter, c.exportCountTotal])).toEqual([
      [null, true],
      ['item-04', false],
      ['item-09', false],
      ['item-14', false],
      ['item-19', false],
    ]);
  });

  test('edges { node }, a nested connection, and a null parent (no rows)', async () => {
    const edges = planExport(schema, {
      query: '{ holder(id: "h") { items(first: 10) { edges { node { id } } } } }',
    });
    const nodes = (await all(fetchPages(edges, executor(edges.query)))).flatMap((p) => p.nodes);
    expect(nodes).toHaveLength(23);
    const none = planExport(schema, { query: '{ holder(id: "x") { items { nodes { id } } } }' });
    expect(await all(fetchPages(none, executor(none.query)))).toEqual([
      { index: 0, nodes: [], totalCount: 0 },
    ]);
  });

  test('an error on any page ends the export; an internal one is a 500 with only what the server says', async () => {
    const plan = planExport(schema, { query: '{ items(first: 10) { nodes { id broken } } }' });
    const masked: ExecutePage = async (variables) => {
      const result = await executor(plan.query)(variables);
      // What the gateway's formatError does to an internal error.
      return { ...result, errors: result.errors?.map((e) => ({ ...e, message: 'Internal server error' })) };
    };
    const pages = fetchPages(plan, masked);
    expect((await pages.next()).value.nodes).toHaveLength(10);
    const err = await pages.next().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ExportError);
    expect((err as ExportError).status).toBe(500);
    expect((err as ExportError).message).toBe('Internal server error (at items.nodes.7.broken) on page 2');
  });

  test('a server that says more pages follow but gives no new cursor ends the export', async () => {
    const plan = planExport(schema, { query: '{ items(first: 2) { nodes { id } } }' });
    const stuck: ExecutePage = async () => ({
      data: { items: { nodes: [{ id: 'a' }], pageInfo: { hasNextPage: true, endCursor: null } } },
    });
    await expect(all(fetchPages(plan, stuck))).rejects.toThrow(/says more follow but gives no new endCursor/);
  });
});

describe('openExport', () => {
  test('refuses an export over the row limit from the first page, before any row is streamed', async () => {
    const plan = planExport(schema, { query: '{ items(first: 5) { nodes { id } } }' });
    const calls: Record<string, unknown>[] = [];
    await expect(openExport(plan, executor(plan.query, calls), { maxRows: 22 })).rejects.toThrow(
      /^This export would have 23 rows, more than the 22 one export may have \(EXPORT_MAX_ROWS\): narrow it/,
    );
    expect(calls).toHaveLength(1);
    const open = await openExport(plan, executor(plan.query), { maxRows: 23 });
    expect(open.totalCount).toBe(23);
    expect(await all(open.nodes)).toHaveLength(23);
  });

  test('enforces the limit while streaming too (a connection with no totalCount, or rows added meanwhile)', async () => {
    const plan = {
      ...planExport(schema, { query: '{ items(first: 5) { nodes { id } } }' }),
      totalCountKey: null,
    };
    const open = await openExport(plan, executor(plan.query), { maxRows: 12 });
    expect(open.totalCount).toBeNull();
    const seen: unknown[] = [];
    await expect(
      (async () => {
        for await (const node of open.nodes) seen.push(node);
      })(),
    ).rejects.toThrow(/^This export has grown past 12 rows, the most one export may have/);
    expect(seen).toHaveLength(10);
  });

  test('errors on the first page are the client’s (400) when they are validation or input errors', async () => {
    const plan = planExport(schema, { query: 'query ($n: Int) { items(first: $n) { nodes { id } } }' });
    const bad: ExecutePage = async () => ({
      errors: [{ message: 'Variable "$n" got invalid value "x"', extensions: { code: 'BAD_USER_INPUT' } }],
    });
    await expect(openExport(plan, bad, { maxRows: 100 })).rejects.toMatchObject({
      status: 400,
      problems: [{ message: 'Variable "$n" got invalid value "x"', extensions: { code: 'BAD_USER_INPUT' } }],
    });
  });
});
