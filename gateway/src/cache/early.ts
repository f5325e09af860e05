import type { IncomingMessage, ServerResponse } from 'node:http';
import Negotiator from 'negotiator';
import { REQUEST_ID_HEADER, requestIdOf } from '@civic/common/context';
import { acceptPrefersHtml } from '@civic/common/http-security';
import { rateLimitHeaders, type RateVerdict } from '@civic/common/limits/ratelimit';
import { operationLabel, type ServiceMetrics } from '@civic/common/metrics';
import { postLength, readBody, type ExpressFront, type FrontHandler } from '@civic/common/front-graphql';
import { DOCUMENT_ID, sha256Hex } from '../persisted/documents';
import type { KnownDocuments } from '../persisted/known';
import type { Client } from '../ratelimit/client';
import { CACHE_STATUS_HEADER, type EarlyHit, type EarlyRequest, type ResponseCache } from './response-cache';

/*
 * Cached answers served as the request arrives, in the HTTP server's own 'request' handler, before Express and
 * Apollo (issue 11: dashboards from the cache at 5× Hive Gateway's uncached throughput). Through Apollo a hit cost
 * about 1 ms of CPU; through an Express middleware ahead of Apollo still ~0.45 ms: Express's middleware chain
 * (security headers, CORS, the request scope, the JSON body parser), a SHA-256 of the key per request and the
 * write. Here: the security and CORS headers are computed once per Origin, the key once per distinct request body
 * (or query string) and languages, and the answer's body and headers are written at once.
 *
 * A hit answered here is the one Apollo's path gives (test/e2e/early-hits.test.ts compares them byte for byte):
 * - it exists only for a query Apollo answered with data and no errors for the same supergraph, document, operation
 *   name and variables, so it passed every check that depends on those (parsing, validation, depth, aliases,
 *   cost); the checks that depend on the client run here: its API key (any key that is not valid, and any key that
 *   cannot be checked now, goes to Express, which refuses it), its rate limit (the entry's cost is spent from its
 *   budget; a client without enough left goes to Express and Apollo, which refuse it with their 429), and in
 *   safelist mode (PERSISTED_ONLY) the document must be a persisted one;
 * - it is only for what Apollo would answer the same way: a GET (Apollo's CSRF rule, not a browser asking for the
 *   explorer page) or a POST of `application/json` in UTF-8 with its Content-Length within MAX_BODY_BYTES, no
 *   Content-Encoding, a JSON object carrying `query` (or a persisted document's `id`) and no `extensions` (an APQ
 *   registration goes to Apollo, which stores it), an Accept that allows JSON, variables that are an object;
 * - its answer has the same status, body (`data`, then `extensions.cost` when the gateway reports costs, Apollo's
 *   trailing newline) and headers in the same order (security and CORS headers, content type, request id, RateLimit
 *   headers, x-cache HIT, Cache-Control, ETag and Vary on GET, Content-Length, Express's ETag where Apollo's answer
 *   has none), 304 on a matching If-None-Match to a GET; it is counted in the same metrics (the operation's name,
 *   outcome ok; a cache hit, and an early one).
 * Anything else, and any miss, goes to Express unchanged: a POST's body, read here, is put back in the request
 * before Express reads it.
 */

/** What the early path needs from the gateway: the objects its Apollo path uses. */
export interface EarlyHitsOptions {
  cache: ResponseCache;
  /** The client of a request (gateway/src/ratelimit/client.ts earlyClient); undefined: refused by Express. */
  client: (req: IncomingMessage, ip: string | undefined) => Promise<Client | undefined>;
  /** Spends a cost from a client's budget (the rate limit), as Apollo's path does; none when the limit is off. */
  consume?: (client: Client, cost: number) => Promise<RateVerdict>;
  /** Put `extensions.cost` in every answer (REPORT_COST), with the client's budget left when rate-limited. */
  reportCost: boolean;
  maxCost: number;
  metrics: ServiceMetrics;
  /** The most `max-age` a GET answer announces (the cache's httpMaxAge). */
  httpMaxAge: number;
  /** The largest body Express reads (MAX_BODY_BYTES): a larger one goes to Express, which refuses it. */
  maxBodyBytes: number;
  /** Persisted documents (requests by id), and whether only those run (PERSISTED_ONLY). */
  persisted?: { documents: KnownDocuments; only: boolean };
}

const JSON_TYPE = 'application/json; charset=utf-8';
const GRAPHQL_RESPONSE_TYPE = 'application/graphql-response+json; charset=utf-8';
/** Apollo's CSRF prevention: these content types need a preflight header (apollo-server's preventCsrf). */
const SIMPLE_CONTENT_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];
/** The most distinct bodies (or query strings), Accept and Accept-Language headers whose reading is remembered. */
const REMEMBERED = 512;
/** The largest body or query string whose reading is remembered, in characters. */
const REMEMBERED_CHARS = 16_384;

/** A request's GraphQL parameters, as read once for its body or query string (see {@link readParams}). */
interface Params {
  /** The document: its text, or the id of a persisted one. */
  query?: string;
  id?: string;
  operationName: string | null;
  variables: Record<string, unknown>;
  /** The cache key for each Accept-Language header, made for the supergraph `schema`. */
  keys: Map<string, string>;
  schema?: string;
  /** The document's SHA-256, once safelist mode has asked for it. */
  sha?: string;
}

/** A bounded map: the first entry put is the first dropped. */
function remember<V>(map: Map<string, V>, key: string, value: V): V {
  if (map.size >= REMEMBERED) map.delete(map.keys().next().value!);
  map.set(key, value);
  return value;
}

/**
 * The handler ahead of Express (common/src/service.ts `beforeExpress`): answers a current cached answer, or hands
 * the request to Express as it came.
 */
export function earlyHits(opts: EarlyHitsOptions): (front: ExpressFront) => FrontHandler {
  return (front) => {
    const stats = opts.cache.stats;
    // By body (POST) and by query string (GET), apart: the same text is not read the same way.
    const bodies = new Map<string, Params | null>();
    const searches = new Map<string, Params | null>();
    const accepts = new Map<string, { type: string | undefined; page: boolean }>();
    /** The answer's body for an entry, and the ETag Express gives it, while its extensions stay the same. */
    const answers = new WeakMap<EarlyHit, { extensions: string; body: Buffer; etag: string | undefined }>();

    const paramsOf = (
      text: string,
      read: (text: string) => Params | undefined,
      known: Map<string, Params | null>,
    ): Params | undefined => {
      const seen = known.get(text);
      if (seen !== undefined) return seen ?? undefined;
      const params = read(text);
      if (text.length <= REMEMBERED_CHARS) remember(known, text, params ?? null);
      return params;
    };

    const acceptOf = (accept: string | undefined) => {
      const header = accept ?? '';
      return (
        accepts.get(header) ??
        remember(accepts, header, {
          type: answerType(accept),
          page: acceptPrefersHtml(accept),
        })
      );
    };

    /** The document of a request: its own text, or its persisted id's; undefined when Apollo's path must decide. */
    async function documentOf(params: Params): Promise<string | undefined> {
      const persisted = opts.persisted;
      if (params.id !== undefined) {
        if (!persisted) return undefined;
        return (await persisted.documents.get(params.id))?.body;
      }
      if (persisted?.only) {
        params.sha ??= sha256Hex(params.query!);
        if (!(await persisted.documents.get(params.sha))) return undefined;
      }
      return params.query;
    }

    /** Answers the request if its answer is cached and current; else resolves false, having sent nothing. */
    async function answer(
      req: IncomingMessage,
      res: ServerResponse,
      params: Params,
      type: string,
      started: bigint,
    ) {
      const lang = req.headers['accept-language'];
      const langKey = lang ?? '';
      const schema = opts.cache.currentSchemaId();
      if (!schema) return false;
      if (params.schema !== schema) {
        params.keys.clear();
        params.schema = schema;
      }
      let key = params.keys.get(langKey);
      if (key === undefined) {
        const query = await documentOf(params);
        if (query === undefined) return false;
        const request: EarlyRequest = {
          query,
          operationName: params.operationName,
          variables: params.variables,
          acceptLanguage: lang ?? null,
        };
        const made = opts.cache.earlyKey(request);
        if (!made || made.schema !== schema) return false;
        key = made.key;
        if (params.keys.size < 16) params.keys.set(langKey, key);
      } else if (opts.persisted && (params.id !== undefined || opts.persisted.only)) {
        // A persisted document may have been removed since the key was made.
        if ((await documentOf(params)) === undefined) return false;
      }
      const origin = req.headers.origin;
      const base = front.headersFor(Array.isArray(origin) ? origin.join(', ') : origin);
      if (!base) return false;
      const hit = await opts.cache.findEarly(key);
      if (!hit) return false;
      const client = await opts.client(req, front.ipOf(req) ?? req.socket.remoteAddress);
      if (!client) return false;
      const verdict = opts.consume && (await opts.consume(client, Math.max(hit.cost, 1)));
      // Apollo refuses it, with its error and headers; nothing was spent.
      if (verdict && !verdict.allowed) return false;
      if (res.headersSent || res.destroyed) return true;
      stats.hits++;
      stats.early++;

      const isGet = req.method === 'GET';
      // Node's own bookkeeping of a response's headers: set again, a header keeps its place and takes the name as
      // last written. `name` is lowercase here.
      const headers: [string, string][] = base.map(([n, v]) => [n, v]);
      const lower = base.map(([n]) => n.toLowerCase());
      const set = (name: string, value: string) => {
        const i = lower.indexOf(name);
        if (i >= 0) headers[i] = [name, value];
        else {
          headers.push([name, value]);
          lower.push(name);
        }
      };
      // In the order Apollo's path sets them: its answer's headers (content type, then each plugin's), then
      // Express's `res.send` (Content-Length, its ETag when there is none).
      set(REQUEST_ID_HEADER, requestIdOf(req));
      if (verdict) for (const [name, value] of Object.entries(rateLimitHeaders(verdict))) set(name, value);
      set(CACHE_STATUS_HEADER, 'HIT');
      let etag: string | undefined;
      if (isGet && hit.policy.scope === 'PUBLIC') {
        set('cache-control', `public, max-age=${Math.min(hit.policy.maxAge, opts.httpMaxAge)}`);
        set('etag', (etag = hit.etag));
        const vary = headers[lower.indexOf('vary')]?.[1];
        if (!vary || !/accept-language/i.test(vary))
          set('vary', vary ? `${vary}, Accept-Language` : 'Accept-Language');
      } else set('cache-control', 'no-store');
      set('content-type', type);
      // Express's `res.send` writes it again, with its own spelling.
      headers[lower.indexOf('content-type')][0] = 'Content-Type';

      // The body Apollo serializes: the data as kept, then what is this request's own (the cost it spent).
      const extensions = opts.reportCost
        ? `,"extensions":{"cost":{"requested":${hit.cost},"limit":${opts.maxCost}${verdict ? `,"remaining":${verdict.remaining}` : ''}}}`
        : '';
      let sent = answers.get(hit);
      if (!sent || sent.extensions !== extensions) {
        sent = {
          extensions,
          body: Buffer.from(`{"data":${hit.data}${extensions}}\n`, 'utf8'),
          etag: undefined,
        };
        answers.set(hit, sent);
      }
      headers.push(['Content-Length', String(sent.body.length)]);
      if (!etag) {
        etag = sent.etag ??= front.etag(sent.body.toString('utf8'));
        if (etag) headers.push(['ETag', etag]);
      }

      const labels = { operation: operationLabel(hit.operationName), outcome: 'ok' as const };
      opts.metrics.requests.inc(labels);
      opts.metrics.duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
      // Express's freshness check, as its `res.send` makes it: a GET whose If-None-Match names the ETag gets 304,
      // without the body and its type and length.
      if (isGet && etag && fresh(req, etag)) {
        const kept = headers.filter(([n]) => !/^content-(type|length)$/i.test(n));
        res.writeHead(304, kept.flat());
        res.end();
      } else {
        res.writeHead(200, headers.flat());
        res.end(sent.body);
      }
      return true;
    }

    return (req, res, pass) => {
      const started = process.hrtime.bigint();
      const method = req.method;
      const url = req.url ?? '';
      const at = url.indexOf('?');
      const path = at < 0 ? url : url.slice(0, at);
      if ((method !== 'GET' && method !== 'POST') || (path !== '/graphql' && path !== '/')) return pass();
      const accept = acceptOf(req.headers.accept);
      if (!accept.type) return pass();
      /** Answers from the cache, or hands the request to Express; `read`: its body was read here (and put back). */
      const run = (params: Params | undefined, read: boolean) => {
        if (!params) return pass();
        answer(req, res, params, accept.type!, started).then(
          (answered) => {
            if (!answered) return pass();
            // Its body, read here and put back, is read to its end, as Express would have.
            if (read) req.resume();
          },
          // Whatever failed, Express and Apollo answer it (they meet the same failure, and say so).
          () => (res.headersSent ? res.destroy() : pass()),
        );
      };
      if (method === 'GET') {
        if (at < 0 || accept.page || !csrfSafe(req) || req.headers['if-modified-since'] !== undefined)
          return pass();
        return run(paramsOf(url.slice(at + 1), readSearch, searches), false);
      }
      const length = postLength(req, opts.maxBodyBytes);
      if (length === undefined) return pass();
      readBody(req, length, (chunks) => {
        // Gone before its body was whole: said here, since neither Express nor the front path would hear of it.
        if (!chunks) return front.aborted(req);
        const text = (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).toString('utf8');
        run(paramsOf(text, readJson, bodies), true);
      });
    };
  };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A persisted document's id as the persisted-query middleware reads it; null when absent, undefined when bad. */
function idOf(value: unknown): string | null | undefined {
  if (value === undefined || value === null) return null;
  const text = typeof value === 'string' ? value.replace(/^sha256:/, '') : undefined;
  return text !== undefined && DOCUMENT_ID.test(text) ? text.toLowerCase() : undefined;
}

/**
 * The parameters of a request that Apollo (after the persisted-query middleware) runs as they are: a document's
 * text or a persisted id (not both, and one id if both fields are given), an operation name that is a string or
 * null, variables that are an object or null, no extensions. Undefined for anything else.
 */
function paramsFrom(
  query: unknown,
  ids: [unknown, unknown],
  operationName: unknown,
  variables: unknown,
): Params | undefined {
  const a = idOf(ids[0]);
  const b = idOf(ids[1]);
  if (a === undefined || b === undefined || (a && b && a !== b)) return undefined;
  const id = a ?? b ?? undefined;
  if (id !== undefined ? query !== undefined && query !== null : typeof query !== 'string' || query === '')
    return undefined;
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string')
    return undefined;
  if (variables !== undefined && variables !== null && !isObject(variables)) return undefined;
  return {
    ...(id !== undefined ? { id } : { query: query as string }),
    operationName: (operationName as string | null | undefined) ?? null,
    variables: (variables as Record<string, unknown> | null | undefined) ?? {},
    keys: new Map(),
  };
}

/** A GET's query string, as Apollo reads it. */
function readSearch(search: string): Params | undefined {
  const p = new URLSearchParams(search);
  if (p.has('extensions') || p.getAll('query').length > 1) return undefined;
  let variables: unknown;
  const text = p.get('variables');
  try {
    variables = text === null ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
  return paramsFrom(
    p.get('query') ?? undefined,
    [p.get('id'), p.get('documentId')],
    p.get('operationName') ?? undefined,
    variables,
  );
}

/** A POST's JSON body, as Express's JSON parser and then Apollo read it. */
function readJson(text: string): Params | undefined {
  // Express's parser (strict) takes an object or an array; an array (a batch) is Apollo's to refuse.
  if (!/^[\x20\x09\x0a\x0d]*\{/.test(text)) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(body) || Object.hasOwn(body, 'extensions')) return undefined;
  return paramsFrom(body.query, [body.id, body.documentId], body.operationName, body.variables);
}

/** Apollo's CSRF prevention, for a request without a body: a non-simple content type or a preflight header. */
function csrfSafe(req: IncomingMessage): boolean {
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
function answerType(accept: string | undefined): string | undefined {
  if (!accept) return JSON_TYPE;
  const preferred = new Negotiator({ headers: { accept } }).mediaType([
    JSON_TYPE,
    GRAPHQL_RESPONSE_TYPE,
    'application/json; callbackSpec=1.0; charset=utf-8',
  ]);
  return preferred === JSON_TYPE || preferred === GRAPHQL_RESPONSE_TYPE ? preferred : undefined;
}

/**
 * Express's `req.fresh` (the `fresh` package) for a GET answered 200 with this ETag and no Last-Modified, the
 * request having no If-Modified-Since: its If-None-Match names the tag (weakly compared) or is `*`, and it does
 * not say `Cache-Control: no-cache`.
 */
function fresh(req: IncomingMessage, etag: string): boolean {
  const match = req.headers['if-none-match'];
  if (!match) return false;
  const control = req.headers['cache-control'];
  if (control && /(?:^|,)\s*?no-cache\s*?(?:,|$)/.test(control)) return false;
  if (match.trim() === '*') return true;
  return match.split(',').some((t) => {
    const tag = t.trim();
    return tag === etag || tag === `W/${etag}` || `W/${tag}` === etag;
  });
}
