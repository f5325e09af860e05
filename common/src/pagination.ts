import DataLoader from 'dataloader';
import type { GraphQLError, GraphQLResolveInfo } from 'graphql';
import type { DataSource } from 'typeorm';
import { badInput } from './errors';
import { placeholders } from './db';

/** The largest page a client may ask for. */
export const MAX_PAGE_SIZE = 100;

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

/** A validated page request: how many rows, and the id the page starts after (null: from the start). */
export interface Page {
  first: number;
  afterId: string | null;
}

/** The prefix of the id order's cursors. */
export const CURSOR_PREFIX = 'id:';
/** The prefix of the cursors of a list in another order than id order (common/src/ordering.ts). */
export const ORDERED_PREFIX = 'o:';

/**
 * Why a cursor of one ordering is refused by another. A search's relevance is an ordering of its own
 * (common/src/search/connection.ts), so this also covers a cursor from another search.
 */
export const ANOTHER_ORDER =
  'Argument "after" is a cursor from a list in another order: use the same "orderBy" and "filter.search" ' +
  "as the page it came from (without orderBy, a search's relevance order belongs to that search)";

/** Cursors are opaque to clients: base64url of the last id seen. */
export function encodeCursor(id: string): string {
  return Buffer.from(CURSOR_PREFIX + id, 'utf8').toString('base64url');
}

/**
 * The refusal of an `after` that is no cursor this API gave (mistyped, cut short, tampered with, or from another
 * API). It gives the value's length, never the value: a 900 KB "cursor" is not echoed back, and a value that is
 * not ours is nothing a client needs to read again.
 */
export function notOurCursor(cursor: string): GraphQLError {
  return badInput(
    `Argument "after" is not a cursor returned by this API (a value of ${cursor.length} characters): ` +
      "pass a page's endCursor or one of its edges' cursors, unchanged",
    'after',
  );
}

/** Reads a cursor of the id order; refuses one of another order (or search) and one not from this API. */
export function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (text.startsWith(ORDERED_PREFIX)) throw badInput(ANOTHER_ORDER, 'after');
  if (!text.startsWith(CURSOR_PREFIX) || text.length === CURSOR_PREFIX.length) {
    throw notOurCursor(cursor);
  }
  return text.slice(CURSOR_PREFIX.length);
}

/** Validates `first` and `after`: first must be 0..100, after a cursor from this API. */
export function toPage(args: PageArgs, defaultFirst = 20): Page {
  const first = args.first ?? defaultFirst;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
    throw badInput(`Argument "first" must be between 0 and ${MAX_PAGE_SIZE}; got ${first}`, 'first');
  }
  return { first, afterId: args.after ? decodeCursor(args.after) : null };
}

/**
 * The `first` of a list field that is not a connection (`Organization.children`, `Commitment.budgetLines`...):
 * absent or null, the field's own default in the schema; else a whole number from 0 to {@link MAX_PAGE_SIZE},
 * refused otherwise with BAD_USER_INPUT naming the field (`Type.field`) and the argument. The loaders still
 * read every parent of a batch in one statement: `first` is applied per parent to what they return.
 */
export function listFirst(first: number | null | undefined, info: GraphQLResolveInfo): number {
  const field = `${info.parentType.name}.${info.fieldName}`;
  const declared = info.parentType.getFields()[info.fieldName]?.args.find((a) => a.name === 'first');
  const n = first ?? (typeof declared?.defaultValue === 'number' ? declared.defaultValue : MAX_PAGE_SIZE);
  if (!Number.isInteger(n) || n < 0 || n > MAX_PAGE_SIZE) {
    throw badInput(`Argument "first" of ${field} must be between 0 and ${MAX_PAGE_SIZE}; got ${n}`, 'first');
  }
  return n;
}

export interface Connection<T> {
  totalCount: () => Promise<number>;
  edges: { cursor: string; node: T }[];
  nodes: T[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/**
 * Builds a connection from one page of nodes fetched with `first + 1` rows (the extra row only says that
 * there is a next page). `totalCount` is a thunk so the count query runs only when a client asks for it.
 */
export function toConnection<T>(
  rows: T[],
  page: Page,
  idOf: (node: T) => string,
  totalCount: () => Promise<number>,
): Connection<T> {
  const nodes = rows.slice(0, page.first);
  const edges = nodes.map((node) => ({ cursor: encodeCursor(idOf(node)), node }));
  return {
    totalCount,
    edges,
    nodes,
    pageInfo: {
      hasNextPage: rows.length > page.first,
      endCursor: edges.length ? edges[edges.length - 1].cursor : null,
    },
  };
}

/** One parent's slice of children: their ids in page order, and whether more follow. */
export interface ChildPage {
  ids: string[];
  hasNextPage: boolean;
}

/**
 * Pages the children of many parents in one statement per distinct (first, after): `source` is a SQL
 * subquery yielding `child_id` and `parent_id` columns; the window function keeps the first `first + 1`
 * children of each parent, ordered by id. Works on MySQL 8 / MariaDB 10.2+ and SQLite 3.25+.
 */
export async function pageChildren(
  ds: DataSource,
  source: string,
  sourceParams: unknown[],
  keys: readonly { parentId: string; page: Page }[],
): Promise<ChildPage[]> {
  const groups = new Map<string, { page: Page; parents: Set<string> }>();
  for (const k of keys) {
    const g = `${k.page.first}\u0000${k.page.afterId ?? ''}`;
    if (!groups.has(g)) groups.set(g, { page: k.page, parents: new Set() });
    groups.get(g)!.parents.add(k.parentId);
  }
  const byGroup = new Map<string, Map<string, string[]>>();
  for (const [g, { page, parents }] of groups) {
    const found = new Map<string, string[]>();
    byGroup.set(g, found);
    const list = [...parents];
    const params: unknown[] = [...sourceParams, ...list];
    let where = `s.parent_id IN (${placeholders(list.length)})`;
    if (page.afterId !== null) {
      where += ' AND s.child_id > ?';
      params.push(page.afterId);
    }
    params.push(page.first + 1);
    const rows: { child_id: string; parent_id: string }[] = await ds.query(
      `SELECT w.child_id, w.parent_id FROM (
         SELECT s.child_id, s.parent_id,
                ROW_NUMBER() OVER (PARTITION BY s.parent_id ORDER BY s.child_id) AS rn
         FROM (${source}) s WHERE ${where}
       ) w WHERE w.rn <= ? ORDER BY w.parent_id, w.rn`,
      params,
    );
    for (const r of rows) {
      const arr = found.get(r.parent_id) ?? [];
      arr.push(r.child_id);
      found.set(r.parent_id, arr);
    }
  }
  return keys.map((k) => {
    const ids = byGroup.get(`${k.page.first}\u0000${k.page.afterId ?? ''}`)!.get(k.parentId) ?? [];
    return { ids: ids.slice(0, k.page.first), hasNextPage: ids.length > k.page.first };
  });
}

/** Counts children per parent in one statement: `source` yields `child_id` and `parent_id`. */
export async function countChildren(
  ds: DataSource,
  source: string,
  sourceParams: unknown[],
  parentIds: readonly string[],
): Promise<number[]> {
  const rows: { parent_id: string; n: number | string }[] = await ds.query(
    `SELECT s.parent_id, COUNT(*) AS n FROM (${source}) s
     WHERE s.parent_id IN (${placeholders(parentIds.length)}) GROUP BY s.parent_id`,
    [...sourceParams, ...parentIds],
  );
  const counts = new Map(rows.map((r) => [r.parent_id, Number(r.n)]));
  return parentIds.map((id) => counts.get(id) ?? 0);
}

/** Builds a connection from a {@link ChildPage} whose ids have been loaded into nodes. */
export function childConnection<T>(
  page: ChildPage,
  nodes: T[],
  idOf: (node: T) => string,
  totalCount: () => Promise<number>,
): Connection<T> {
  const edges = nodes.map((node) => ({ cursor: encodeCursor(idOf(node)), node }));
  return {
    totalCount,
    edges,
    nodes,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      endCursor: edges.length ? edges[edges.length - 1].cursor : null,
    },
  };
}

/** The SQL subquery (yielding `child_id`, `parent_id`) that lists the children for one variant of a field. */
export type ChildSource<V> = (variant: V) => { sql: string; params: unknown[] };

/**
 * Runs a batch whose keys carry a variant (a filter or role) as one call of `run` per distinct variant, and
 * puts the results back in key order.
 */
async function byVariant<K extends { variant: V }, V, R>(
  keys: readonly K[],
  source: ChildSource<V>,
  run: (sql: string, params: unknown[], keys: K[]) => Promise<R[]>,
): Promise<R[]> {
  const groups = new Map<string, number[]>();
  keys.forEach((k, i) => {
    const v = JSON.stringify(k.variant ?? null);
    groups.set(v, [...(groups.get(v) ?? []), i]);
  });
  const out: R[] = new Array(keys.length);
  for (const idx of groups.values()) {
    const { sql, params } = source(keys[idx[0]].variant);
    const results = await run(
      sql,
      params,
      idx.map((i) => keys[i]),
    );
    idx.forEach((i, j) => (out[i] = results[j]));
  }
  return out;
}

/**
 * A per-request loader of child pages (a connection field on a list of parents): keys carry the parent id,
 * the page and a variant (a filter or role); one statement per distinct (variant, first, after).
 */
export function childPageLoader<V>(
  ds: DataSource,
  name: string,
  source: ChildSource<V>,
): DataLoader<{ parentId: string; page: Page; variant: V }, ChildPage, string> {
  return new DataLoader(
    (keys) => byVariant(keys, source, (sql, params, group) => pageChildren(ds, sql, params, group)),
    {
      name,
      cacheKeyFn: (k) => JSON.stringify([k.parentId, k.page.first, k.page.afterId, k.variant ?? null]),
    },
  );
}

/** A per-request loader of child counts (a connection's totalCount), one statement per variant. */
export function childCountLoader<V>(
  ds: DataSource,
  name: string,
  source: ChildSource<V>,
): DataLoader<{ parentId: string; variant: V }, number, string> {
  return new DataLoader(
    (keys) =>
      byVariant(keys, source, (sql, params, group) =>
        countChildren(
          ds,
          sql,
          params,
          group.map((k) => k.parentId),
        ),
      ),
    { name, cacheKeyFn: (k) => JSON.stringify([k.parentId, k.variant ?? null]) },
  );
}

/**
 * Resolves a paged child connection through the two loaders above and an entity loader for the nodes:
 * a constant number of statements however many parents are on the page.
 */
export async function loadChildConnection<T, V>(
  loaders: {
    pages: DataLoader<{ parentId: string; page: Page; variant: V }, ChildPage, string>;
    counts: DataLoader<{ parentId: string; variant: V }, number, string>;
    nodes: DataLoader<string, T | null>;
  },
  parentId: string,
  args: PageArgs,
  variant: V,
  idOf: (node: T) => string,
): Promise<Connection<T>> {
  const page = toPage(args);
  const slice = await loaders.pages.load({ parentId, page, variant });
  const nodes = (await loaders.nodes.loadMany(slice.ids)).filter(
    (n): n is T => n !== null && !(n instanceof Error),
  );
  return childConnection(slice, nodes, idOf, () => loaders.counts.load({ parentId, variant }));
}
