import { Brackets, type ObjectLiteral, type SelectQueryBuilder, type WhereExpressionBuilder } from 'typeorm';
import { badInput } from './errors';
import { binary } from './dialect';
import {
  ANOTHER_ORDER,
  CURSOR_PREFIX,
  ORDERED_PREFIX,
  notOurCursor,
  toConnection,
  toPage,
  type Connection,
  type PageArgs,
} from './pagination';

export type SortDirection = 'ASC' | 'DESC';

/** A value a list can be ordered by: its SQL over the query's alias, and the same value read from a row. */
export interface SortKey<T> {
  /** SQL expression, e.g. `o.country` or `COALESCE(o.name_fr, o.name_en)`. */
  sql: string;
  /** The same value computed from a loaded row (it goes into the cursor). */
  value: (row: T) => string | number | null;
  /** Text compares by Unicode code point on both backends (MySQL: utf8mb4_bin; SQLite: binary). */
  text: boolean;
}

/** One term of an `orderBy` argument, resolved to its sort key. */
export interface OrderTerm<T> {
  /** The GraphQL enum value, e.g. `NAME`; part of the cursor so a cursor cannot be reused under another order. */
  field: string;
  direction: SortDirection;
  key: SortKey<T>;
}

/** The SQL of a sort key, comparing text by code point so MySQL and SQLite order alike. */
function sortSql(qb: SelectQueryBuilder<ObjectLiteral>, key: { sql: string; text: boolean }): string {
  return key.text ? binary(qb.connection, key.sql) : key.sql;
}

/**
 * The name of an ordering as cursors carry it (`NAME:ASC,ID:DESC`): a cursor is only read back under the same
 * signature. Exported so a list paged outside {@link orderedConnection} (a batched child list) names its
 * ordering exactly as a root list does.
 */
export function orderSignature(terms: readonly { field: string; direction: SortDirection }[]): string {
  return terms.map((t) => `${t.field}:${t.direction}`).join(',');
}

/** A cursor of an ordered list: the ordering's {@link orderSignature} and the last row's sort values. */
export function encodeOrderedCursor(sig: string, values: (string | number | null)[]): string {
  return Buffer.from(ORDERED_PREFIX + JSON.stringify([sig, ...values]), 'utf8').toString('base64url');
}

/**
 * Reads a cursor of {@link orderedConnection}; refuses one made under another ordering (including the
 * default id order's plain cursors) and one whose values were tampered with.
 */
export function decodeOrderedCursor(cursor: string, sig: string, count: number): (string | number | null)[] {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const notOurs = () => notOurCursor(cursor);
  if (text.startsWith(CURSOR_PREFIX)) throw badInput(ANOTHER_ORDER, 'after');
  let parsed: unknown;
  try {
    parsed = text.startsWith(ORDERED_PREFIX) ? JSON.parse(text.slice(ORDERED_PREFIX.length)) : null;
  } catch {
    parsed = null;
  }
  if (!Array.isArray(parsed) || typeof parsed[0] !== 'string') throw notOurs();
  if (parsed[0] !== sig) throw badInput(ANOTHER_ORDER, 'after');
  const values = parsed.slice(1);
  const valid = (v: unknown) =>
    v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
  if (values.length !== count || !values.every(valid)) throw notOurs();
  return values as (string | number | null)[];
}

/**
 * Adds "comes after this row" for a keyset over (terms..., id). NULL sorts first in ascending order and last
 * in descending order on both backends, and the comparisons below follow that.
 */
function whereAfter(
  qb: SelectQueryBuilder<ObjectLiteral>,
  terms: readonly { sql: string; text: boolean; direction: SortDirection }[],
  values: (string | number | null)[],
): void {
  let n = 0;
  const param = (v: unknown) => {
    const name = `__k${n++}`;
    qb.setParameter(name, v);
    return `:${name}`;
  };
  const equal = (sql: string, v: string | number | null) =>
    v === null ? `${sql} IS NULL` : `${sql} = ${param(v)}`;
  const after = (sql: string, dir: SortDirection, v: string | number | null): string | null => {
    if (dir === 'ASC') return v === null ? `${sql} IS NOT NULL` : `${sql} > ${param(v)}`;
    return v === null ? null : `(${sql} < ${param(v)} OR ${sql} IS NULL)`;
  };
  qb.andWhere(
    new Brackets((w: WhereExpressionBuilder) => {
      let any = false;
      terms.forEach((t, i) => {
        const strictly = after(sortSql(qb, t), t.direction, values[i]);
        if (strictly === null) return;
        const prefix = terms.slice(0, i).map((p, j) => equal(sortSql(qb, p), values[j]));
        w.orWhere([...prefix, strictly].join(' AND '));
        any = true;
      });
      if (!any) w.orWhere('1 = 0');
    }),
  );
}

/**
 * A root connection in any order: `first + 1` rows ordered by the terms then id (ties broken by id, so
 * the order is total and cursors are stable), keyset cursors that carry the ordering, and a lazy count.
 * With no terms it is id order, with the plain id cursors of {@link toPage}.
 */
export async function orderedConnection<T extends ObjectLiteral & { id: string }>(
  qb: SelectQueryBuilder<T>,
  args: PageArgs,
  terms: readonly OrderTerm<T>[],
): Promise<Connection<T>> {
  const base = qb as unknown as SelectQueryBuilder<ObjectLiteral>;
  // Id columns are binary-collated on MySQL by migration (same order as SQLite), so the primary key index
  // serves the tie-break and the default order as is.
  const idKey = { sql: `${qb.alias}.id`, text: false, direction: 'ASC' as const };
  const count = () => qb.clone().getCount();
  if (!terms.length) {
    const page = toPage(args);
    const q = qb.clone();
    if (page.afterId !== null)
      whereAfter(q as unknown as SelectQueryBuilder<ObjectLiteral>, [idKey], [page.afterId]);
    q.orderBy(sortSql(base, idKey), 'ASC').limit(page.first + 1);
    const rows = page.first ? await q.getMany() : [];
    return toConnection(rows, page, (r) => r.id, count);
  }
  const sig = orderSignature(terms);
  const page = toPage({ first: args.first });
  const q = qb.clone();
  const keys = [...terms.map((t) => ({ sql: t.key.sql, text: t.key.text, direction: t.direction })), idKey];
  if (args.after) {
    const values = decodeOrderedCursor(args.after, sig, keys.length);
    whereAfter(q as unknown as SelectQueryBuilder<ObjectLiteral>, keys, values);
  }
  q.orderBy();
  // TypeORM keys ORDER BY terms by their SQL: a term whose SQL is the id itself (ID DESC) must not be
  // overwritten by the id tie-break, which then adds nothing.
  const added = new Set<string>();
  for (const k of keys) {
    const sql = sortSql(base, k);
    if (added.has(sql)) continue;
    added.add(sql);
    q.addOrderBy(sql, k.direction);
  }
  q.limit(page.first + 1);
  const rows = page.first ? await q.getMany() : [];
  const nodes = rows.slice(0, page.first);
  const edges = nodes.map((node) => ({
    cursor: encodeOrderedCursor(sig, [...terms.map((t) => t.key.value(node)), node.id]),
    node,
  }));
  return {
    totalCount: count,
    edges,
    nodes,
    pageInfo: {
      hasNextPage: rows.length > page.first,
      endCursor: edges.length ? edges[edges.length - 1].cursor : null,
    },
  };
}

/**
 * Resolves an `orderBy` argument against the sort keys a list offers; refuses a field listed twice.
 */
export function resolveOrderBy<T>(
  orderBy: readonly { field: string; direction?: SortDirection | null }[] | null | undefined,
  keys: Record<string, SortKey<T>>,
): OrderTerm<T>[] {
  const seen = new Set<string>();
  return (orderBy ?? []).map((o) => {
    if (seen.has(o.field)) throw badInput(`Argument "orderBy" lists ${o.field} twice`, 'orderBy');
    seen.add(o.field);
    const key = keys[o.field];
    if (!key) throw badInput(`Argument "orderBy" cannot order by ${o.field}`, 'orderBy');
    return { field: o.field, direction: o.direction ?? 'ASC', key };
  });
}
