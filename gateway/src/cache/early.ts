import type { Request, RequestHandler } from 'express';
import Negotiator from 'negotiator';
import { REQUEST_ID_HEADER, type RequestContext } from '@civic/common/context';
import { rateLimitHeaders, type RateLimitHook } from '@civic/common/limits/ratelimit';
import { operationLabel, type ServiceMetrics } from '@civic/common/metrics';
import { CACHE_STATUS_HEADER, type EarlyRequest, type ResponseCache } from './response-cache';

/*
 * Cached answers served before Apollo's request pipeline (issue 11: dashboards from the cache at 5× Hive's
 * uncached throughput). A hit through Apollo still costs about 1 ms of CPU: the request is parsed from HTTP into
 * Apollo's form, its document looked up in the parse and validation caches, its cost computed, every plugin's
 * hooks called, and the answer serialized through Apollo's formatting. Everything that keys an answer (the
 * supergraph, the document's text, the operation name and variables the client sent, the negotiated languages) is
 * in the request itself, so the cache can be asked first, and a hit answered here.
 *
 * What a hit here does is what a hit through Apollo does, and no less:
 * - it exists only for a query that Apollo answered with data and no errors for the same supergraph, document,
 *   name and variables, so it passed every check that depends on those (parsing, validation, introspection,
 *   depth, aliases, string hygiene, cost); the checks that depend on the client run before this middleware (an
 *   API key) or here (the rate limit: the entry's cost is spent from the client's budget, and a client without
 *   enough left goes on to Apollo, which refuses it with its 429);
 * - it is only for what Apollo would answer the same way: a GET or a JSON POST carrying `query` and no
 *   `extensions` (an APQ registration goes to Apollo, which stores its hash), with Apollo's CSRF prevention rule,
 *   an Accept that allows JSON, and variables that are an object;
 * - its answer has the same body (`data`, then `extensions.cost` when the gateway reports costs), the same
 *   headers (x-cache HIT, the request id, the RateLimit headers, Cache-Control, ETag and Vary on GET, 304 on a
 *   matching If-None-Match) and is counted in the same metrics (the operation's name, outcome ok; a cache hit).
 * Anything else, and any miss, goes on to Apollo unchanged.
 */

/** What the early path needs from the gateway: the same objects its Apollo path uses. */
export interface EarlyHitsOptions<C extends RequestContext> {
  cache: ResponseCache;
  /** The request's context, as Apollo's is built (the same memoized client and request id). */
  context: (req: Request) => Promise<C>;
  rateLimit?: RateLimitHook<C>;
  /** Put `extensions.cost` in every answer (REPORT_COST), with the client's budget left when rate-limited. */
  reportCost: boolean;
  maxCost: number;
  metrics: ServiceMetrics;
  /** The most `max-age` a GET answer announces (the cache's httpMaxAge). */
  httpMaxAge: number;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const GRAPHQL_RESPONSE_TYPE = 'application/graphql-response+json; charset=utf-8';
/** Apollo's CSRF prevention: these content types need a preflight header (apollo-server's preventCsrf). */
const SIMPLE_CONTENT_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];

/** The Express middleware: answers a current cached answer, or calls `next()` having changed nothing. */
export function earlyHits<C extends RequestContext>(opts: EarlyHitsOptions<C>): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const request = readRequest(req);
    const type = request && answerType(req);
    if (!request || !type) return next();
    void (async () => {
      const context = await opts.context(req);
      const hit = await opts.cache.findEarly({ ...request, acceptLanguage: context.acceptLanguage });
      if (!hit) return next();
      const verdict = opts.rateLimit && (await opts.rateLimit.consume(context, Math.max(hit.cost, 1)));
      // Apollo refuses it, with its error and headers; nothing was spent.
      if (verdict && !verdict.allowed) return next();
      opts.cache.stats.hits++;
      res.status(200);
      res.setHeader('content-type', type);
      res.setHeader(REQUEST_ID_HEADER, context.requestId);
      res.setHeader(CACHE_STATUS_HEADER, 'HIT');
      if (verdict)
        for (const [name, value] of Object.entries(rateLimitHeaders(verdict))) res.setHeader(name, value);
      if (req.method === 'GET' && hit.policy.scope === 'PUBLIC') {
        res.setHeader('cache-control', `public, max-age=${Math.min(hit.policy.maxAge, opts.httpMaxAge)}`);
        res.setHeader('etag', hit.etag);
        const vary = res.getHeader('vary');
        const text = typeof vary === 'string' ? vary : '';
        if (!/accept-language/i.test(text))
          res.setHeader('vary', text ? `${text}, Accept-Language` : 'Accept-Language');
      } else res.setHeader('cache-control', 'no-store');
      // The data as kept (serialized once per entry), then what is this request's own: the cost it spent.
      const cost = {
        requested: hit.cost,
        limit: opts.maxCost,
        ...(verdict ? { remaining: verdict.remaining } : {}),
      };
      const extensions = opts.reportCost ? `,"extensions":${JSON.stringify({ cost })}` : '';
      const labels = { operation: operationLabel(hit.operationName), outcome: 'ok' as const };
      opts.metrics.requests.inc(labels);
      opts.metrics.duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
      // 304 when the ETag matches the request's If-None-Match (Express's freshness check, as its send does);
      // not res.send itself, which would add an ETag of its own to a POST, where Apollo's answer has none.
      if (req.fresh) return void res.status(304).end();
      res.end(`{"data":${hit.data}${extensions}}`);
    })().catch(next);
  };
}

/** The query, operation name and variables of a GET or a JSON POST Apollo would run as is; else undefined. */
function readRequest(req: Request): Omit<EarlyRequest, 'acceptLanguage'> | undefined {
  let input: Record<string, unknown>;
  let variables: unknown;
  if (req.method === 'POST') {
    if (!req.is('application/json') || !isObject(req.body)) return undefined;
    input = req.body;
    variables = input.variables ?? undefined;
  } else if (req.method === 'GET') {
    if (!csrfSafe(req)) return undefined;
    const at = req.url.indexOf('?');
    if (at < 0) return undefined;
    const params = new URLSearchParams(req.url.slice(at + 1));
    input = Object.fromEntries(params);
    if (params.getAll('query').length > 1) return undefined;
    try {
      variables = input.variables === undefined ? undefined : JSON.parse(input.variables as string);
    } catch {
      return undefined;
    }
  } else return undefined;
  const { query, operationName } = input;
  if (typeof query !== 'string' || query === '' || input.extensions !== undefined) return undefined;
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string')
    return undefined;
  if (variables !== undefined && variables !== null && !isObject(variables)) return undefined;
  return {
    query,
    operationName: (operationName as string | null | undefined) ?? null,
    variables: (variables as Record<string, unknown> | null | undefined) ?? {},
  };
}

/** Apollo's CSRF prevention, for a request without a body: a non-simple content type or a preflight header. */
function csrfSafe(req: Request): boolean {
  const type = req.headers['content-type'];
  if (type !== undefined) {
    const essence = type.split(';')[0].trim().toLowerCase();
    if (!SIMPLE_CONTENT_TYPES.includes(essence)) return true;
  }
  return ['x-apollo-operation-name', 'apollo-require-preflight'].some((h) => {
    const v = req.headers[h];
    return typeof v === 'string' && v.length > 0;
  });
}

/** The content type Apollo would answer with (its choice for a single result); undefined when not JSON. */
function answerType(req: Request): string | undefined {
  const accept = req.headers.accept;
  if (!accept) return JSON_TYPE;
  const preferred = new Negotiator({ headers: { accept } }).mediaType([
    JSON_TYPE,
    GRAPHQL_RESPONSE_TYPE,
    'application/json; callbackSpec=1.0; charset=utf-8',
  ]);
  return preferred === JSON_TYPE || preferred === GRAPHQL_RESPONSE_TYPE ? preferred : undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
