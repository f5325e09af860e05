import { randomBytes } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { EntitySchema, Table, type DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import type { StorageConfig } from '@civic/common/config';
import { createDataSource, dropDatabase, openDataSource } from '@civic/common/db';
import { col, setKeyCollation } from '@civic/common/migration-columns';
import {
  decodeOrderedCursor,
  encodeOrderedCursor,
  orderedConnection,
  resolveOrderBy,
  type OrderTerm,
  type SortKey,
} from '@civic/common/ordering';
import { encodeCursor, type Connection } from '@civic/common/pagination';
import { BACKENDS } from '../support/system';

/** The GraphQL error a call throws (or rejects with), for checking its code, argument and message. */
async function errorOf(fn: () => unknown): Promise<GraphQLError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof GraphQLError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('decodeOrderedCursor', () => {
  const sig = 'NAME:DESC';

  test('reads back what encodeOrderedCursor wrote: strings, numbers and nulls', () => {
    const cursor = encodeOrderedCursor(sig, ['Béni Mellal', 3, null, 'ma-region-01']);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeOrderedCursor(cursor, sig, 4)).toEqual(['Béni Mellal', 3, null, 'ma-region-01']);
  });

  test.each([
    ['not base64 of anything', 'not-a-cursor'],
    ['broken JSON', Buffer.from('o:["NAME:DESC",', 'utf8').toString('base64url')],
    ['JSON that is not a list', Buffer.from('o:{"a":1}', 'utf8').toString('base64url')],
    ['too few values', encodeOrderedCursor(sig, ['x'])],
    ['too many values', encodeOrderedCursor(sig, ['x', 'y', 'z'])],
    ['empty', ''],
  ])('refuses %s, naming "after"', async (_what, cursor) => {
    const err = await errorOf(() => decodeOrderedCursor(cursor, sig, 2));
    expect(err.extensions).toEqual({ code: 'BAD_USER_INPUT', argumentName: 'after' });
    expect(err.message).toMatch(/^Argument "after" is not a cursor returned by this API/);
  });

  test('refuses a cursor of the default id order, saying it comes from another order', async () => {
    const err = await errorOf(() => decodeOrderedCursor(encodeCursor('gov-ma'), sig, 2));
    expect(err.message).toMatch(/cursor from a list in another order/);
  });

  test('refuses a cursor made under another ordering, saying so', async () => {
    const cursor = encodeOrderedCursor('NAME:ASC', ['x', 'id']);
    const err = await errorOf(() => decodeOrderedCursor(cursor, sig, 2));
    expect(err.extensions).toEqual({ code: 'BAD_USER_INPUT', argumentName: 'after' });
    expect(err.message).toMatch(/cursor from a list in another order: use the same "orderBy"/);
  });

  test('says "another order" also when the other ordering has another number of terms', async () => {
    const cursor = encodeOrderedCursor('COUNTRY:ASC,NAME:ASC', ['MA', 'x', 'id']);
    const err = await errorOf(() => decodeOrderedCursor(cursor, sig, 2));
    expect(err.message).toMatch(/another order/);
  });
});

describe('resolveOrderBy', () => {
  const keys: Record<string, SortKey<{ id: string }>> = {
    NAME: { sql: 'o.name', value: () => null, text: true },
    COUNTRY: { sql: 'o.country', value: () => null, text: true },
  };

  test('no orderBy (absent, null or empty) is no terms: id order', () => {
    expect(resolveOrderBy(undefined, keys)).toEqual([]);
    expect(resolveOrderBy(null, keys)).toEqual([]);
    expect(resolveOrderBy([], keys)).toEqual([]);
  });

  test('keeps the order of the terms; a missing or null direction is ASC', () => {
    expect(
      resolveOrderBy(
        [
          { field: 'COUNTRY', direction: 'DESC' },
          { field: 'NAME', direction: null },
        ],
        keys,
      ),
    ).toEqual([
      { field: 'COUNTRY', direction: 'DESC', key: keys.COUNTRY },
      { field: 'NAME', direction: 'ASC', key: keys.NAME },
    ]);
    expect(resolveOrderBy([{ field: 'NAME' }], keys)).toEqual([
      { field: 'NAME', direction: 'ASC', key: keys.NAME },
    ]);
  });

  test('refuses a field listed twice, whatever the directions, naming "orderBy"', async () => {
    const err = await errorOf(() =>
      resolveOrderBy(
        [
          { field: 'NAME', direction: 'ASC' },
          { field: 'NAME', direction: 'DESC' },
        ],
        keys,
      ),
    );
    expect(err.extensions).toEqual({ code: 'BAD_USER_INPUT', argumentName: 'orderBy' });
    expect(err.message).toBe('Argument "orderBy" lists NAME twice');
  });

  test('refuses a field the list has no sort key for, naming "orderBy"', async () => {
    const err = await errorOf(() => resolveOrderBy([{ field: 'BUDGET' }], keys));
    expect(err.extensions).toEqual({ code: 'BAD_USER_INPUT', argumentName: 'orderBy' });
    expect(err.message).toBe('Argument "orderBy" cannot order by BUDGET');
  });
});

interface Item {
  id: string;
  label: string | null;
  n: number | null;
}

const ItemEntity = new EntitySchema<Item>({
  name: 'OrderingItem',
  tableName: 'ordering_items',
  columns: {
    id: { type: 'varchar', length: 191, primary: true },
    label: { type: 'varchar', length: 64, nullable: true },
    n: { type: 'integer', nullable: true },
  },
});

/** The table, as the subgraphs make theirs: Table API, ids binary-collated on MySQL. */
class CreateOrderingItems1700000000000 implements MigrationInterface {
  name = 'CreateOrderingItems1700000000000';
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'ordering_items',
        columns: [col.key('id', 191), col.varchar('label', 64, true), col.int('n', true)],
      }),
    );
    await setKeyCollation(
      q,
      [{ table: 'ordering_items', column: 'id', length: 191, nullable: false }],
      'binary',
    );
  }
  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('ordering_items');
  }
}

/**
 * Labels whose code point order differs from JavaScript's `<` (U+FFFD sorts before an emoji by code point, after
 * it by UTF-16 unit) and from any case-insensitive or accent-insensitive collation; with nulls and ties.
 */
const LABELS = [null, 'a', 'B', 'b', 'é', 'e', '😀', '\uFFFD', 'ab', 'Z'];
const NUMBERS = [null, 1, 2, 10, -3, 2, null];
const ITEMS: Item[] = Array.from({ length: 40 }, (_, i) => ({
  // Inserted in an order unrelated to the ids, so nothing depends on insertion order.
  id: `i${String((i * 17) % 40).padStart(2, '0')}`,
  label: LABELS[i % LABELS.length],
  n: NUMBERS[i % NUMBERS.length],
}));

const KEYS: Record<'LABEL' | 'N', SortKey<Item>> = {
  LABEL: { sql: 't.label', value: (r) => r.label, text: true },
  N: { sql: 't.n', value: (r) => r.n, text: false },
};

const byCodePoint = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** The order orderedConnection promises: the terms (nulls first ascending), then id ascending. */
function expectedOrder(
  items: Item[],
  terms: { field: 'LABEL' | 'N'; direction: 'ASC' | 'DESC' }[],
): string[] {
  const cmp = (a: string | number | null, b: string | number | null) =>
    a === b
      ? 0
      : a === null
        ? -1
        : b === null
          ? 1
          : typeof a === 'string'
            ? byCodePoint(a, b as string)
            : a - (b as number);
  return [...items]
    .sort((x, y) => {
      for (const t of terms) {
        const c = cmp(KEYS[t.field].value(x), KEYS[t.field].value(y));
        if (c) return t.direction === 'ASC' ? c : -c;
      }
      return byCodePoint(x.id, y.id);
    })
    .map((r) => r.id);
}

describe.each(BACKENDS)('orderedConnection on %s', (backend) => {
  let ds: DataSource;
  let storage: StorageConfig;

  beforeAll(async () => {
    storage =
      backend === 'mysql'
        ? {
            type: 'mysql',
            url: process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306',
            database: `civic_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}_ordering`,
          }
        : { type: 'sqlite', path: ':memory:' };
    ds = await createDataSource({
      storage,
      entities: [ItemEntity],
      migrations: [CreateOrderingItems1700000000000],
    });
    await openDataSource(ds, storage);
    await ds.getRepository(ItemEntity).insert(ITEMS);
  });
  afterAll(async () => {
    if (ds?.isInitialized) await ds.destroy();
    if (storage) await dropDatabase(storage);
  });

  const query = () => ds.getRepository(ItemEntity).createQueryBuilder('t');

  /** Reads every page with the cursors it returns. */
  async function walk(terms: OrderTerm<Item>[], first: number, where?: string): Promise<string[]> {
    const ids: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages <= ITEMS.length; pages++) {
      const qb = query();
      if (where) qb.where(where);
      const page: Connection<Item> = await orderedConnection(qb, { first, after }, terms);
      expect(page.nodes.length).toBeLessThanOrEqual(first);
      expect(page.edges.map((e) => e.node)).toEqual(page.nodes);
      ids.push(...page.nodes.map((n) => n.id));
      if (!page.pageInfo.hasNextPage) return ids;
      after = page.pageInfo.endCursor;
    }
    throw new Error('the pages never end');
  }

  const ORDERINGS: { field: 'LABEL' | 'N'; direction: 'ASC' | 'DESC' }[][] = [
    [{ field: 'LABEL', direction: 'ASC' }],
    [{ field: 'LABEL', direction: 'DESC' }],
    [{ field: 'N', direction: 'ASC' }],
    [{ field: 'N', direction: 'DESC' }],
    [
      { field: 'N', direction: 'DESC' },
      { field: 'LABEL', direction: 'ASC' },
    ],
    [
      { field: 'LABEL', direction: 'DESC' },
      { field: 'N', direction: 'ASC' },
    ],
  ];

  test.each(ORDERINGS.map((o) => [o.map((t) => `${t.field} ${t.direction}`).join(', '), o] as const))(
    '%s: pages of 1, 4, 7 and 100 all give the one sorted list (code points, nulls, ties by id)',
    async (_label, ordering) => {
      const terms = resolveOrderBy(ordering, KEYS);
      const expected = expectedOrder(ITEMS, ordering);
      for (const first of [1, 4, 7, 100]) expect(await walk(terms, first)).toEqual(expected);
    },
  );

  test('with a filter, and with no terms (id order, plain id cursors)', async () => {
    const terms = resolveOrderBy([{ field: 'LABEL', direction: 'DESC' }], KEYS);
    const withN = ITEMS.filter((i) => i.n !== null);
    expect(await walk(terms, 3, 't.n IS NOT NULL')).toEqual(
      expectedOrder(withN, [{ field: 'LABEL', direction: 'DESC' }]),
    );
    expect(await walk([], 6)).toEqual(expectedOrder(ITEMS, []));
    const page = await orderedConnection(query(), { first: 2 }, []);
    expect(page.pageInfo.endCursor).toBe(encodeCursor(page.nodes[1].id));
  });

  test('totalCount counts every row, whatever the page; first is bounded', async () => {
    const terms = resolveOrderBy([{ field: 'N' }], KEYS);
    const page = await orderedConnection(query(), { first: 5 }, terms);
    expect(await page.totalCount()).toBe(ITEMS.length);
    const err = await errorOf(() => orderedConnection(query(), { first: 101 }, terms));
    expect(err.extensions).toEqual({ code: 'BAD_USER_INPUT', argumentName: 'first' });
  });

  test('a cursor is refused under another ordering, and under no ordering', async () => {
    const label = resolveOrderBy([{ field: 'LABEL' }], KEYS);
    const cursor = (await orderedConnection(query(), { first: 2 }, label)).pageInfo.endCursor;
    const desc = resolveOrderBy([{ field: 'LABEL', direction: 'DESC' }], KEYS);
    const other = await errorOf(() => orderedConnection(query(), { first: 2, after: cursor }, desc));
    expect(other.message).toMatch(/another order/);
    const none = await errorOf(() => orderedConnection(query(), { first: 2, after: cursor }, []));
    expect(none.extensions).toEqual({ code: 'BAD_USER_INPUT', argumentName: 'after' });
  });

  // TypeORM's addOrderBy keys ORDER BY terms by their SQL text: a term whose SQL is the tie-break's `t.id`
  // must keep its own direction.
  test('a term whose SQL is the id itself keeps its direction (ID DESC)', async () => {
    const terms = resolveOrderBy([{ field: 'ID', direction: 'DESC' }], {
      ID: { sql: 't.id', value: (r: Item) => r.id, text: false },
    });
    expect(await walk(terms, 7)).toEqual(expectedOrder(ITEMS, []).reverse());
  });

  // A tampered cursor's values must never reach the driver (an object or a list would be a database error).
  test('a cursor holding something other than strings, numbers and nulls is a bad input', async () => {
    const terms = resolveOrderBy([{ field: 'LABEL' }], KEYS);
    const after = encodeOrderedCursor('LABEL:ASC', [
      { a: 1 } as unknown as string,
      ['x'] as unknown as string,
    ]);
    const err = await errorOf(() => orderedConnection(query(), { first: 2, after }, terms));
    expect(err.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'after' });
  });
});
