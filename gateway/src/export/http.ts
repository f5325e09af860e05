import { pipeline } from 'node:stream/promises';
import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import express, { type Request, type RequestHandler, type Response } from 'express';
import type { GraphQLSchema } from 'graphql';
import { exportLimits, type ExportLimits } from '@civic/common/config';
import { REQUEST_ID_HEADER, type RequestContext } from '@civic/common/context';
import { rateLimitHeaders, retryAfterOf, type RateVerdict } from '@civic/common/limits';
import { logger } from '@civic/common/log';
import type { ServiceGraphQL } from '@civic/common/service';
import { preventExportCsrf } from './csrf';
import { ExportError } from './errors';
import { openExport, type ExecutePage, type OpenExport, type RowLimit, type RowMeter } from './pages';
import { planExport, type ExportPlan, type ExportRequest } from './plan';
import { loadSavedQueries, type SavedQuery } from './saved-queries';
import { ExportSlots } from './slots';
import { byteLimit, estimateBytes, exportStream, FORMATS, type ExportFormat } from './writers';

/** How the gateway's exports behave. */
export interface ExportOptions {
  /** The most rows one export may have (EXPORT_MAX_ROWS). */
  maxRows: number;
  /** The saved queries by name; default: the `.graphql` files of `gateway/src/saved-queries`. */
  savedQueries?: ReadonlyMap<string, SavedQuery>;
  /** Columns, bytes, anonymous rows, concurrency, CSRF mode (config.exportLimits); default: from the environment. */
  limits?: ExportLimits;
  /**
   * Who is asking: the client whose slots an export takes and whose row limit applies. Default: anonymous,
   * by IP (`req.ip`, which honours Express's `trust proxy`). An API key's holder is not anonymous, and may be
   * given its own `maxRows` (never above EXPORT_MAX_ROWS).
   */
  client?: (req: Request) => ExportClient | Promise<ExportClient>;
  /**
   * Where each client's export rows per minute are counted (the gateway's rate limit store, memory or Redis):
   * EXPORT_ROWS_PER_MINUTE for anonymous clients, the key's own or EXPORT_KEY_ROWS_PER_MINUTE for a key's
   * holder. Without it, rows per minute are not limited.
   */
  rowsPerMinute?: RowCounter;
}

/** Counts points per client per minute against a quota (gateway/src/ratelimit/limiter.ts's PerMinuteLimiter). */
export interface RowCounter {
  consume(client: string, rows: number, quota: number): Promise<RateVerdict>;
  peek(client: string, quota: number): Promise<RateVerdict>;
}

/** The caller of an export, as {@link ExportOptions.client} identifies it. */
export interface ExportClient {
  /** What its concurrent exports are counted by: an API key's id, else the IP. */
  id: string;
  /** No API key: held to EXPORT_ANONYMOUS_MAX_ROWS. */
  anonymous: boolean;
  /** A key holder's own row limit; capped by EXPORT_MAX_ROWS. */
  maxRows?: number;
  /** A key holder's own rows per minute; default EXPORT_KEY_ROWS_PER_MINUTE (anonymous: EXPORT_ROWS_PER_MINUTE). */
  exportRowsPerMinute?: number;
}

/** What the gateway mounts: a plugin that keeps the API schema at hand, and the routes. */
export interface ExportRoutes {
  plugin: ApolloServerPlugin<RequestContext>;
  mount(app: express.Express, graphql: ServiceGraphQL<RequestContext>): void;
}

/** A client's export request once read: what to run, and how to name and write the file. */
interface ExportParams extends ExportRequest {
  /** The saved query's name, when one was asked for. */
  saved?: string;
  bom: boolean;
}

const log = logger.child({ service: 'gateway', component: 'export' });

/**
 * `GET /export.csv` and `GET /export.json` (and `POST`, with the same parameters as a JSON body, for
 * queries too long for a URL): run a query, or a saved query by `name`, and stream every node of its first
 * connection, page after page, as CSV or as a JSON array.
 *
 * Every page goes through the gateway's own Apollo server (`executeOperation`, with the context built from
 * the incoming request: its request id and Accept-Language) so an export has exactly the limits, plugins and
 * error masking of `/graphql`. Anything wrong before the first byte is sent (bad parameters, a query that
 * does not parse or validate, no connection, a mutation, errors on the first page, too many rows) is a JSON
 * `{ errors: [{ message }] }` with status 400 (500 when the graph itself failed). A failure on a later page
 * can only cut the response short: it is destroyed, so the client sees an incomplete download rather than a
 * file that looks whole, and the cause is logged with the request id.
 *
 * Guarded and bounded (`limits`, issue 10): CSRF prevention first ({@link preventExportCsrf}); at most
 * `maxConcurrentPerClient` exports per client at once (429 with `Retry-After`); `maxColumns` checked on the
 * query before any page runs; anonymous callers held to `anonymousMaxRows`; `maxBytes` checked against an
 * estimate from the first page before anything is sent, and enforced while streaming (the download is cut at
 * a record boundary). A client that goes away stops the paging: no further page is run, and its slot is given
 * back only once the export's paging has stopped. CSV cells are neutralised against formula injection.
 */
export function exportRoutes(opts: ExportOptions): ExportRoutes {
  const savedQueries = opts.savedQueries ?? loadSavedQueries();
  const limits = opts.limits ?? exportLimits();
  const slots = new ExportSlots(limits.maxConcurrentPerClient);
  const clientOf =
    opts.client ?? ((req: Request): ExportClient => ({ id: req.ip ?? 'unknown', anonymous: true }));
  let schema: GraphQLSchema | undefined;
  const plugin: ApolloServerPlugin<RequestContext> = {
    async serverWillStart() {
      return {
        schemaDidLoadOrUpdate({ apiSchema }) {
          schema = apiSchema;
        },
      };
    },
  };

  const handle =
    (format: ExportFormat, graphql: ServiceGraphQL<RequestContext>) =>
    async (req: Request, res: Response) => {
      const context = await graphql.context(req);
      const requestId = context.requestId;
      res.setHeader(REQUEST_ID_HEADER, requestId);
      let params: ExportParams;
      let plan: ExportPlan;
      let open: OpenExport;
      let release = () => {};
      // The client going away stops the paging: no page is run after this is aborted.
      const gone = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) gone.abort();
      });
      let rowLimit: RowLimit = { maxRows: opts.maxRows };
      try {
        const client = await clientOf(req);
        const rate = rowRateOf(client, limits);
        rowLimit = rowLimitOf(client, opts.maxRows, limits, rate);
        // A HEAD writes no rows: it is not counted.
        const meter =
          rate && opts.rowsPerMinute && req.method !== 'HEAD'
            ? rowMeter(opts.rowsPerMinute, client.id, rate)
            : undefined;
        const input: unknown = req.method === 'POST' ? req.body : req.query;
        // Before anything else is read: a body a page could post (text/plain, a form) is never even parsed.
        preventExportCsrf(req.headers, { saved: asksForSavedQuery(input) }, limits.csrf);
        params = readParams(input, savedQueries);
        release = slots.acquire(client.id);
        if (!schema) {
          throw new ExportError('The gateway has not loaded its schema yet: try again shortly', 503);
        }
        plan = planExport(schema, params, { maxColumns: limits.maxColumns });
        // A client with no rows left this minute is refused before any page runs.
        await meter?.start();
        open = await openExport(plan, pageRunner(graphql, req, context, plan, gone.signal), {
          ...rowLimit,
          signal: gone.signal,
          rows: meter,
        });
        if (open.totalCount !== null) {
          const estimate = estimateBytes(format, plan.columns, open.firstPage, open.totalCount, {
            bom: params.bom,
          });
          if (estimate > limits.maxBytes) {
            await open.nodes.return(undefined);
            throw tooLarge(`would be about ${estimate} bytes (${open.totalCount} rows)`, limits.maxBytes);
          }
        }
      } catch (err) {
        release();
        refuse(res, err, requestId);
        return;
      }

      const { contentType, extension } = FORMATS[format];
      const date = new Date().toISOString().slice(0, 10);
      res.status(200);
      res.setHeader('Content-Type', contentType);
      res.setHeader(
        'Content-Disposition',
        `attachment; filename="${params.saved ?? fileLabel(plan.label)}-${date}.${extension}"`,
      );
      res.setHeader('Cache-Control', 'no-store');
      if (open.totalCount !== null) res.setHeader('X-Total-Count', String(open.totalCount));
      // The limits this export is held to: a download cut short at one of them is not a complete file.
      res.setHeader('X-Export-Max-Rows', String(rowLimit.maxRows));
      res.setHeader('X-Export-Max-Bytes', String(limits.maxBytes));
      if (req.method === 'HEAD') {
        // Express answers HEAD with the GET route: the headers (X-Total-Count) cost one page, not every page.
        await open.nodes.return(undefined);
        release();
        res.end();
        return;
      }
      let rows = 0;
      const counted = (async function* () {
        for await (const node of open.nodes) {
          rows++;
          yield node;
        }
      })();
      const started = Date.now();
      try {
        await pipeline(
          exportStream(format, plan.columns, counted, { bom: params.bom }),
          byteLimit(limits.maxBytes, (bytes) => tooLarge(`reached ${bytes} bytes`, limits.maxBytes)),
          res,
        );
        log.info({ requestId, format, rows, ms: Date.now() - started }, 'export done');
      } catch (err) {
        // Headers and part of the body are out: all that is left is to cut the response, which pipeline did,
        // so that a download stopped early (a failed page, the byte limit) never looks like a whole file.
        const abandoned =
          gone.signal.aborted || (err as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE';
        const message = err instanceof Error ? err.message : String(err);
        if (abandoned) log.info({ requestId, format, rows }, 'export abandoned by the client');
        else log.error({ requestId, format, rows, err: message }, 'export aborted after streaming began');
        res.destroy();
      } finally {
        // The slot is free once the paging has stopped: no page is running or will be run for this export.
        await open.nodes.return(undefined).catch(() => undefined);
        release();
      }
    };

  return {
    plugin,
    mount(app, graphql) {
      const json = express.json({ limit: '1mb' });
      // A body that is not JSON (or too large) is the client's to fix: a JSON error, never Express's page.
      const body: RequestHandler = (req, res, next) =>
        json(req, res, (err?: unknown) => {
          if (!err) return next();
          const status = (err as { status?: number }).status ?? 400;
          const message = `The request body must be a JSON object of at most 1 MB (${(err as Error).message})`;
          res
            .status(status < 500 ? status : 400)
            .json({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] });
        });
      for (const format of Object.keys(FORMATS) as ExportFormat[]) {
        const path = `/export.${format}`;
        app.get(path, handle(format, graphql));
        app.post(path, body, handle(format, graphql));
      }
    },
  };
}

/**
 * Runs one page of an export through the gateway's own Apollo server, with the context built for the
 * client's request, as `/graphql` would run it.
 */
function pageRunner(
  graphql: ServiceGraphQL<RequestContext>,
  req: Request,
  context: RequestContext,
  plan: ExportPlan,
  signal: AbortSignal,
): ExecutePage {
  const headers = headerMap(req);
  return async (variables) => {
    if (signal.aborted) throw new ExportError('The client went away before the export was complete', 499);
    const response = await graphql.apollo.executeOperation(
      {
        query: plan.query,
        operationName: plan.operationName,
        variables,
        // An export is a read: each page is presented as a GET, so Apollo itself refuses anything but a
        // query, and plugins see the client's own headers.
        http: { method: 'GET', headers, search: '', body: undefined },
      },
      { contextValue: context },
    );
    if (response.body.kind !== 'single') {
      throw new ExportError(
        'Incremental delivery (@defer, @stream) cannot be exported: remove the directive',
      );
    }
    return response.body.singleResult;
  };
}

/** Whether the parameters name a saved query (and no query of their own). */
function asksForSavedQuery(input: unknown): boolean {
  const params = (input && typeof input === 'object' ? input : {}) as Record<string, unknown>;
  return typeof params.name === 'string' && params.name !== '' && (params.query ?? '') === '';
}

/**
 * The row limit of a client's exports: EXPORT_MAX_ROWS at most; without an API key, the lower
 * EXPORT_ANONYMOUS_MAX_ROWS; a key's own limit when it has one; and never more than the client's rows per
 * minute, since such an export could never be finished. Named as the setting that binds.
 */
function rowLimitOf(
  client: ExportClient,
  maxRows: number,
  limits: ExportLimits,
  rate: RowRate | null,
): RowLimit {
  const own = client.anonymous ? limits.anonymousMaxRows : client.maxRows;
  let limit: RowLimit = { maxRows };
  if (own !== undefined && own < maxRows) {
    limit = client.anonymous
      ? { maxRows: own, who: 'one anonymous export', setting: 'EXPORT_ANONYMOUS_MAX_ROWS' }
      : { maxRows: own, who: 'one export with your API key', setting: "the key's export rows" };
  }
  if (rate && rate.quota < limit.maxRows) {
    limit = { maxRows: rate.quota, who: `${rate.who}'s exports of one minute`, setting: rate.setting };
  }
  return limit;
}

/** A client's export rows per minute, and how to name them in a refusal. */
interface RowRate {
  quota: number;
  /** `one client` or `your API key`. */
  who: string;
  /** What sets `quota`: EXPORT_ROWS_PER_MINUTE, EXPORT_KEY_ROWS_PER_MINUTE or the key's `--export-rows`. */
  setting: string;
}

/** The rows per minute a client is held to, or null when it is not held to any (EXPORT_ROWS_PER_MINUTE=0). */
function rowRateOf(client: ExportClient, limits: ExportLimits): RowRate | null {
  if (client.anonymous) {
    return limits.rowsPerMinute > 0
      ? { quota: limits.rowsPerMinute, who: 'one client', setting: 'EXPORT_ROWS_PER_MINUTE' }
      : null;
  }
  return client.exportRowsPerMinute !== undefined
    ? { quota: client.exportRowsPerMinute, who: 'your API key', setting: "the key's --export-rows" }
    : { quota: limits.keyRowsPerMinute, who: 'your API key', setting: 'EXPORT_KEY_ROWS_PER_MINUTE' };
}

/**
 * Counts one export's rows against its client's rows per minute: `start` refuses when none are left (before
 * any page runs), `fits` an export whose totalCount is over what is left, `spend` counts each page before it
 * is written. Each refusal is a 429 with Retry-After and the RateLimit headers of the rows (an export that
 * has begun can only be cut short by it, as by any failed page).
 */
function rowMeter(counter: RowCounter, client: string, rate: RowRate): RowMeter & { start(): Promise<void> } {
  const per = `${rate.who} may export per minute (${rate.setting})`;
  const refuse = (message: string, verdict: RateVerdict, measured: number) => {
    const retryAfter = retryAfterOf(verdict);
    return new ExportError(
      [
        {
          message: `${message}: try again in ${retryAfter} s`,
          extensions: {
            code: 'EXPORT_RATE_LIMITED',
            limit: verdict.limit,
            measured,
            remaining: verdict.remaining,
            retryAfter,
          },
        },
      ],
      429,
      rateLimitHeaders({ ...verdict, allowed: false }),
    );
  };
  return {
    async start() {
      const verdict = await counter.peek(client, rate.quota);
      if (verdict.remaining > 0) return;
      throw refuse(`You have exported the ${verdict.limit} rows ${per}`, verdict, 0);
    },
    async fits(rows) {
      const verdict = await counter.peek(client, rate.quota);
      if (rows <= verdict.remaining) return;
      throw refuse(
        `This export would have ${rows} rows, more than the ${verdict.remaining} left of the ${verdict.limit} rows ${per}`,
        verdict,
        rows,
      );
    },
    async spend(rows) {
      if (rows === 0) return;
      const verdict = await counter.consume(client, rows, rate.quota);
      if (verdict.allowed) return;
      throw refuse(`This export reached the ${verdict.limit} rows ${per}`, verdict, rows);
    },
  };
}

function tooLarge(what: string, maxBytes: number): ExportError {
  return new ExportError([
    {
      message:
        `This export ${what}, more than the ${maxBytes} bytes one export may have (EXPORT_MAX_BYTES): ` +
        'narrow it with a filter, select fewer fields, or export it in parts',
      extensions: { code: 'EXPORT_TOO_LARGE', limit: maxBytes },
    },
  ]);
}

/** Answers an export that cannot start: its problems as JSON, or a bare 500 for anything unexpected. */
function refuse(res: Response, err: unknown, requestId: string): void {
  if (err instanceof ExportError) {
    // The cause of a 500 (a subgraph down, a bug) was logged where it happened; the client sees it masked.
    if (err.status >= 500) log.error({ requestId, err: err.message }, 'export failed');
    for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
    res.status(err.status).json({ errors: err.problems });
    return;
  }
  log.error({ requestId, err: String(err) }, 'export failed');
  res.status(500).json({
    errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
  });
}

/**
 * Reads the parameters (URL query of a GET, JSON body of a POST): `query` or `name`, `variables` (a JSON
 * object, as text in a URL), `operationName`, `bom`.
 */
export function readParams(source: unknown, savedQueries: ReadonlyMap<string, SavedQuery>): ExportParams {
  const input = (source && typeof source === 'object' ? source : {}) as Record<string, unknown>;
  const text = (key: string): string | undefined => {
    const value = input[key];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') throw new ExportError(`"${key}" must be given once, as text`);
    return value;
  };
  const names = [...savedQueries.keys()].join(', ');
  const query = text('query');
  const name = text('name');
  if (query && name)
    throw new ExportError('Give either "query" (a GraphQL query) or "name" (a saved query), not both');
  if (!query && !name) {
    throw new ExportError(
      `Say what to export: a GraphQL query as "query", or the name of a saved query as "name" (${names})`,
    );
  }
  let saved: SavedQuery | undefined;
  if (name) {
    saved = savedQueries.get(name);
    if (!saved)
      throw new ExportError(`There is no saved query named "${name}": the saved queries are ${names}`);
  }
  return {
    query: saved?.query ?? query!,
    operationName: text('operationName'),
    variables: readVariables(input.variables),
    saved: saved?.name,
    bom: ['1', 'true', true].includes(input.bom as string | boolean),
  };
}

function readVariables(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null || value === '') return {};
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch (err) {
      throw new ExportError(`"variables" is not valid JSON: ${(err as Error).message}`);
    }
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ExportError('"variables" must be a JSON object, for example {"filter": {"country": "TN"}}');
  }
  return parsed as Record<string, unknown>;
}

/** The client's headers, for the plugins of the operation each page runs. */
function headerMap(req: Request): HeaderMap {
  const map = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) map.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  return map;
}

/** `BudgetLines` → `budget-lines`: a file name from an operation or field name, ASCII only. */
function fileLabel(label: string): string {
  const kebab = label
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .toLowerCase();
  return kebab || 'export';
}
