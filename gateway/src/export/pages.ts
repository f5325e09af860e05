import type { GraphQLFormattedError } from 'graphql';
import { LIMIT_ERROR_CODES } from '@civic/common/limits';
import { ExportError, type ExportProblem } from './errors';
import type { ExportPlan } from './plan';

/** What running one page gives back: a GraphQL result, as the gateway formatted it. */
export interface PageResult {
  data?: Record<string, unknown> | null;
  errors?: readonly GraphQLFormattedError[];
}

/** Runs one page of an export: the plan's query with these variables, through the gateway. */
export type ExecutePage = (variables: Record<string, unknown>) => Promise<PageResult>;

/** One page of the exported connection. */
export interface Page {
  /** 0 for the first page. */
  index: number;
  nodes: unknown[];
  /** The connection's totalCount, on the first page when the connection has one. */
  totalCount: number | null;
}

/** Error codes a client can act on: a first page failing only with these is the client's request (400). */
const CLIENT_CODES = new Set<string>([
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'OPERATION_RESOLUTION_FAILURE',
  // The operation limits: a document over a limit is the client's to change, at /export.* as at /graphql
  // (RATE_LIMITED among them is answered 429 before this set is asked).
  ...LIMIT_ERROR_CODES,
]);

/**
 * Pages through the plan's connection: runs the query with `after` set to the previous page's `endCursor`
 * until `hasNextPage` is false, yielding each page as it comes (the next one is only asked for when the
 * consumer wants it, so a slow client slows the export down instead of filling memory).
 *
 * Any GraphQL error, on any page, ends the export with an {@link ExportError}: a page with partial data would
 * silently leave rows or cells out. A parent of the connection that is null (`organization(id: "unknown")`)
 * gives no rows. A server that says there are more pages but gives no new cursor ends the export too,
 * instead of asking for the same page forever. Once `signal` is aborted (the client went away), no further
 * page is run.
 */
export async function* fetchPages(
  plan: ExportPlan,
  execute: ExecutePage,
  signal?: AbortSignal,
): AsyncGenerator<Page> {
  let after: unknown = plan.startCursor;
  for (let index = 0; ; index++) {
    // The client went away: not one more page is asked of the subgraphs.
    if (signal?.aborted) throw new ExportError('The client went away before the export was complete', 499);
    const result = await execute({
      ...plan.variables,
      [plan.afterVariable]: after,
      ...(plan.countVariable ? { [plan.countVariable]: index === 0 } : {}),
    });
    if (result.errors?.length) throw graphqlErrors(result.errors, index);
    const connection = dig(result.data, plan.connectionPath);
    if (connection === null) {
      yield { index, nodes: [], totalCount: index === 0 && plan.totalCountKey ? 0 : null };
      return;
    }
    const nodes = nodesOf(connection, plan);
    const total = plan.totalCountKey ? connection[plan.totalCountKey] : undefined;
    yield { index, nodes, totalCount: typeof total === 'number' ? total : null };
    const pageInfo = connection[plan.pageInfoKey] as { hasNextPage?: unknown; endCursor?: unknown } | null;
    if (!pageInfo?.hasNextPage) return;
    if (typeof pageInfo.endCursor !== 'string' || pageInfo.endCursor === after || !nodes.length) {
      throw new ExportError(
        `Page ${index + 1} of "${plan.connectionPath.join('.')}" says more follow but gives no new endCursor`,
        500,
      );
    }
    after = pageInfo.endCursor;
  }
}

/** An export under way: its first page has been run successfully, the rest follow on demand. */
export interface OpenExport {
  /** How many rows the connection said it had on the first page; null if it has no totalCount. */
  totalCount: number | null;
  /** The nodes of the first page (already among `nodes`): to estimate the size of the whole export. */
  firstPage: readonly unknown[];
  /** Every node of every page, in order. Throws {@link ExportError} if a later page fails. */
  nodes: AsyncGenerator<unknown>;
}

/** The row limit an export is held to, and how to name it in a refusal. */
export interface RowLimit {
  maxRows: number;
  /** Who may have that many: `one export` (the default) or `one anonymous export`. */
  who?: string;
  /** The setting that sets it: `EXPORT_MAX_ROWS` (the default) or `EXPORT_ANONYMOUS_MAX_ROWS`. */
  setting?: string;
}

/**
 * A client's export rows per minute (EXPORT_ROWS_PER_MINUTE, or its API key's), as {@link openExport} counts
 * them: each throws an {@link ExportError} (429, with Retry-After) to refuse.
 */
export interface RowMeter {
  /** Before anything is sent: refuses an export of `rows` rows (its totalCount) that does not fit what is left. */
  fits(rows: number): Promise<void>;
  /** Counts a page's rows before they are written; refuses once the client's rows for the minute are spent. */
  spend(rows: number): Promise<void>;
}

/**
 * Runs the first page, and refuses the export (throwing {@link ExportError}) if it fails or if the
 * connection's totalCount is over `maxRows` or over what is left of the client's rows for the minute (`rows`):
 * all before anything is sent, so the client gets a status and a message. The row limit is enforced again
 * while streaming, in case rows were added meanwhile, and each page's rows are counted against `rows` before
 * they are written: an export that meets the limit there fails like any later page does (it is cut short).
 */
export async function openExport(
  plan: ExportPlan,
  execute: ExecutePage,
  opts: RowLimit & { signal?: AbortSignal; rows?: RowMeter },
): Promise<OpenExport> {
  const pages = fetchPages(plan, execute, opts.signal);
  const first = await pages.next();
  const totalCount = first.done ? null : first.value.totalCount;
  if (totalCount !== null && totalCount > opts.maxRows) {
    await pages.return(undefined);
    throw tooMany(`would have ${totalCount} rows, more than the ${opts.maxRows}`, opts);
  }
  if (opts.rows) {
    try {
      if (totalCount !== null) await opts.rows.fits(totalCount);
      if (!first.done) await opts.rows.spend(first.value.nodes.length);
    } catch (err) {
      await pages.return(undefined);
      throw err;
    }
  }
  async function* nodes(): AsyncGenerator<unknown> {
    let rows = 0;
    const all = async function* () {
      if (!first.done) yield first.value;
      yield* pages;
    };
    for await (const page of all()) {
      rows += page.nodes.length;
      if (rows > opts.maxRows) throw tooMany(`has grown past ${opts.maxRows} rows, the most`, opts);
      // The first page's rows were counted when the export was opened.
      if (page.index > 0) await opts.rows?.spend(page.nodes.length);
      yield* page.nodes;
    }
  }
  return { totalCount, firstPage: first.done ? [] : first.value.nodes, nodes: nodes() };
}

function tooMany(what: string, limit: RowLimit): ExportError {
  return new ExportError(
    `This export ${what} ${limit.who ?? 'one export'} may have (${limit.setting ?? 'EXPORT_MAX_ROWS'}): ` +
      'narrow it with a filter, or export it in parts',
  );
}

function graphqlErrors(errors: readonly GraphQLFormattedError[], index: number): ExportError {
  const problems: ExportProblem[] = errors.map((e) => {
    const code = typeof e.extensions?.code === 'string' ? e.extensions.code : 'INTERNAL_SERVER_ERROR';
    const at = e.path?.length ? ` (at ${e.path.join('.')})` : '';
    // A rate limit's numbers (limit, measured, remaining, retryAfter) are what the client needs to come back.
    const extensions = code === 'RATE_LIMITED' ? { ...e.extensions, code } : { code };
    return { message: `${e.message}${at}`, extensions };
  });
  const where = index === 0 ? '' : ` on page ${index + 1}`;
  if (where) for (const p of problems) p.message += where;
  // The client's budget for the minute is spent (common/src/limits/ratelimit.ts): 429, to retry later.
  const limited = problems.find((p) => p.extensions!.code === 'RATE_LIMITED');
  if (limited) {
    const retryAfter = Number(limited.extensions!.retryAfter);
    return new ExportError(problems, 429, retryAfter > 0 ? { 'Retry-After': String(retryAfter) } : {});
  }
  const clients = problems.every((p) => CLIENT_CODES.has(p.extensions!.code));
  return new ExportError(problems, clients ? 400 : 500);
}

function dig(data: unknown, path: readonly string[]): Record<string, unknown> | null {
  let value: unknown = data;
  for (const key of path) {
    if (value === null || value === undefined) return null;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new ExportError(`The result has no single connection at "${path.join('.')}"`, 500);
    }
    value = (value as Record<string, unknown>)[key];
  }
  return (value ?? null) as Record<string, unknown> | null;
}

function nodesOf(connection: Record<string, unknown>, plan: ExportPlan): unknown[] {
  const path = plan.nodesPath;
  if (path.kind === 'nodes') return (connection[path.nodes] as unknown[] | null) ?? [];
  const edges = (connection[path.edges] as Record<string, unknown>[] | null) ?? [];
  return edges.map((e) => e?.[path.node] ?? null);
}
