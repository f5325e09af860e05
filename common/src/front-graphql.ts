import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type HTTPGraphQLResponse } from '@apollo/server';
import type { Logger } from 'pino';
import { runInRequestScope, type RequestContext, type ServedRequest } from './context';
import { mergeVary } from './http-security';
import { markReachedGraphQL } from './metrics';
import { SIGNATURE_HEADER, verify } from './signing';

/*
 * GraphQL POSTs run without Express (issue 11: the gateway's throughput against Hive Gateway). A CPU profile of the
 * gateway under a short dashboard query, caching off, found Express's part of every request at ~14 % of the
 * gateway's CPU: its router matching each of the app's layers against the path, helmet and CORS computing the same
 * headers each time, body-parser, Apollo's Express integration and `res.send`. Here, in the HTTP server's own
 * 'request' handler, a GraphQL POST that Express's path would hand to Apollo as it came is handed to Apollo
 * directly, and its answer written as Express would have written it:
 *
 * - only a POST to `/graphql` or `/` (no query string) whose body Express's JSON parser would read as this does:
 *   `application/json` in UTF-8, not encoded, its Content-Length given and within MAX_BODY_BYTES, a JSON object
 *   (an array, a batch, is Apollo's to refuse); with a signing secret (a subgraph), a valid signature over those
 *   bytes;
 * - the service's `admit` builds the request's context from it, running the checks its Express routes and its
 *   `beforeGraphQL` middleware run on such a request (the gateway: the API key, persisted documents, the
 *   deadline); it resolves undefined, or fails, for anything it would refuse or does not take: then, and for
 *   anything else above, the request goes to Express unchanged (its body, read here, is put back before Express
 *   reads it), which answers it as before, refusals included;
 * - the request runs in its scope (its signal, its id in every log line: common/src/context.ts), as Express's
 *   `requestScope` runs it;
 * - the answer has Apollo's status and body, and the headers in Express's order: the security and CORS headers
 *   (computed once per Origin, common/src/service.ts `expressFront`), Apollo's (a `Vary` merged into CORS's, as
 *   `keepVary` does), then what `res.send` adds: `Content-Type` again in its spelling, `Content-Length`, and its
 *   weak `ETag`. test/e2e/front-graphql.test.ts compares the two paths byte for byte.
 *
 * Off with GRAPHQL_FRONT=false (every request through Express, as before), and whenever tracing is on (its spans
 * are Express middleware).
 */

/** A handler ahead of Express: answers `req` itself, or calls `pass()` (once) and leaves `req` and `res` to Express. */
export type FrontHandler = (req: IncomingMessage, res: ServerResponse, pass: () => void) => void;

/** What a {@link FrontHandler} needs to answer a request exactly as Express would have begun answering it. */
export interface ExpressFront {
  /**
   * The headers Express's middleware puts on a GraphQL answer before any route runs, in order, as `[name,
   * value]`: the security headers (helmet), and CORS for the request's Origin. Computed by running the same
   * middleware once per Origin, and remembered (a few hundred Origins at most: beyond, undefined, and the
   * request goes to Express).
   */
  headersFor(origin: string | undefined): readonly (readonly [string, string])[] | undefined;
  /** The client's address as Express's `req.ip` reads it (with TRUST_PROXY). */
  ipOf(req: IncomingMessage): string | undefined;
  /** Express's ETag of a body, as `res.send` adds it to an answer that has none (the app's `etag fn`). */
  etag(body: string): string | undefined;
  /**
   * Says that a POST's client went away before its body was whole, as Express's body parser says it (one line;
   * common/src/service.ts bodyErrors): for a request read by a handler before Express, whose body parser would
   * then never hear of it.
   */
  aborted(req: IncomingMessage): void;
}

/** The line logged for a request whose client went away while sending its body. */
export const ABORTED = 'request aborted by the client';

/** A request the front path runs: the context Apollo runs it with, and the body it runs. */
export interface FrontRun<C extends RequestContext> {
  context: C;
  body: Record<string, unknown>;
}

/** What a service gives the front path: how a request it takes is run, or undefined to leave it to Express. */
export interface FrontGraphQL<C extends RequestContext> {
  /**
   * How `req` runs, `body` being its parsed JSON body and `ip` Express's `req.ip` for it: its context, and the
   * body to run (`body`, or another: a persisted document's id replaced by its text). Undefined (or a failure):
   * the request is handed to Express, which decides as it always has. It must run every check Express's path runs
   * on a GraphQL POST before Apollo, and start nothing that must not happen twice.
   */
  admit(
    req: ServedRequest,
    body: Record<string, unknown>,
    ip: string | undefined,
  ): Promise<FrontRun<C> | undefined>;
}

/** What {@link frontGraphQL} needs from the service being built. */
export interface FrontGraphQLOptions<C extends RequestContext> {
  apollo: ApolloServer<C>;
  front: ExpressFront;
  service: FrontGraphQL<C>;
  /** MAX_BODY_BYTES: a larger body goes to Express, which refuses it. */
  maxBodyBytes: number;
  /** A subgraph's signing secret: only a request validly signed is run here. */
  signatureSecret?: string | null;
  log: Logger;
  /** Counts each request run here (graphql_requests_front_total). */
  counted: () => void;
}

/** The handler ahead of Express (common/src/service.ts) for GraphQL POSTs; see the comment above. */
export function frontGraphQL<C extends RequestContext>(opts: FrontGraphQLOptions<C>): FrontHandler {
  const { apollo, front, service, log } = opts;
  const secret = opts.signatureSecret;

  async function run(
    req: ServedRequest,
    res: ServerResponse,
    base: readonly (readonly [string, string])[],
    body: Record<string, unknown>,
    pass: () => void,
  ) {
    // What Express sets before any middleware reads it (clientGoneSignal watches the response).
    req.res = res;
    let admitted: FrontRun<C> | undefined;
    try {
      admitted = await service.admit(req, body, front.ipOf(req));
    } catch {
      admitted = undefined;
    }
    if (!admitted) return pass();
    const { context } = admitted;
    // Its body, read here and put back, is read to its end, as Express would have.
    req.resume();
    markReachedGraphQL(req);
    opts.counted();
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const answer = await runInRequestScope(req, log, () =>
      apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: 'POST', headers, search: '', body: admitted.body },
        context: async () => context,
      }),
    );
    await write(res, base, answer, front);
  }

  return (req, res, pass) => {
    const url = req.url;
    if (req.method !== 'POST' || (url !== '/graphql' && url !== '/')) return pass();
    const length = postLength(req, opts.maxBodyBytes);
    if (length === undefined) return pass();
    const signature = req.headers[SIGNATURE_HEADER];
    if (secret && typeof signature !== 'string') return pass();
    const origin = req.headers.origin;
    const base = front.headersFor(origin);
    if (!base) return pass();
    readBody(req, length, (chunks) => {
      // Closed before its body was whole: gone for Express too (its body parser would never hear of it again),
      // so said here, as Express's body parser says it (common/src/service.ts bodyErrors).
      if (!chunks) return front.aborted(req);
      const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      if (secret && !verify(secret, signature as string, raw).ok) return pass();
      const body = jsonObject(raw.toString('utf8'));
      if (!body) return pass();
      run(req, res, base, body, pass).catch((err: unknown) => {
        // Apollo answers its own failures; this is one of the writing, after the answer began, or before it.
        log.error({ err: String(err) }, 'request failed outside GraphQL');
        if (res.headersSent) return void res.destroy();
        res.writeHead(500, [...base.flat(), 'content-type', 'application/json; charset=utf-8']);
        res.end(
          JSON.stringify({
            errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
          }),
        );
      });
    });
  };
}

/** A body as Express's JSON parser (strict) and then this path take it: a JSON object; else undefined. */
function jsonObject(text: string): Record<string, unknown> | undefined {
  if (!/^[\x20\x09\x0a\x0d]*\{/.test(text)) return undefined;
  try {
    const body: unknown = JSON.parse(text);
    return typeof body === 'object' && body !== null && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes Apollo's answer as Express's integration and `res.send` do (see the comment at the top): the headers in
 * Node's bookkeeping order (a header set again keeps its place and takes the name as last written).
 */
async function write(
  res: ServerResponse,
  base: readonly (readonly [string, string])[],
  answer: HTTPGraphQLResponse,
  front: ExpressFront,
) {
  const headers: [string, string][] = base.map(([n, v]) => [n, v]);
  const lower = base.map(([n]) => n.toLowerCase());
  const hadVary = lower.includes('vary');
  const set = (name: string, value: string) => {
    const key = name.toLowerCase();
    const i = lower.indexOf(key);
    if (i < 0) {
      headers.push([name, value]);
      lower.push(key);
    } else headers[i] = [name, key === 'vary' && hadVary ? mergeVary(headers[i][1], value) : value];
  };
  for (const [name, value] of answer.headers) set(name, value);
  const status = answer.status ?? 200;
  if (res.destroyed) return;
  if (answer.body.kind !== 'complete') {
    res.writeHead(status, headers.flat());
    for await (const chunk of answer.body.asyncIterator) res.write(chunk);
    res.end();
    return;
  }
  const text = answer.body.string;
  const type = headers[lower.indexOf('content-type')];
  // `res.send` sets the type again, in its spelling (Apollo's types already name their charset, utf-8).
  if (type) type[0] = 'Content-Type';
  else set('Content-Type', 'text/html; charset=utf-8');
  const bytes = Buffer.from(text, 'utf8');
  set('Content-Length', String(bytes.length));
  if (!lower.includes('etag')) {
    const etag = front.etag(text);
    if (etag) set('ETag', etag);
  }
  res.writeHead(status, headers.flat());
  res.end(bytes);
}

/**
 * The length of a POST's body when it is one Express's JSON parser reads as a front handler reads it: JSON in
 * UTF-8, not encoded, its Content-Length given and within the limit; else undefined.
 */
export function postLength(req: IncomingMessage, max: number): number | undefined {
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined) return undefined;
  const encoding = h['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return undefined;
  const type = h['content-type'];
  if (!type || !/^application\/json\s*(;\s*charset="?utf-8"?\s*)?$/i.test(type)) return undefined;
  const declared = h['content-length'];
  if (!declared || !/^\d{1,9}$/.test(declared)) return undefined;
  const length = Number(declared);
  return length > 0 && length <= max ? length : undefined;
}

/**
 * Reads a body of `length` bytes without taking it from the request: once all of it has arrived, it is put back at
 * the front of the request, before the request can end, so that Express reads it as if nobody had. `done` gets
 * its chunks, or undefined when the request closed first (after that, Express's body parser would wait for it
 * forever: the caller says it was aborted, or hands it to one that does). A handler that
 * answers the request itself then calls `req.resume()`, to read it to its end.
 */
export function readBody(
  req: IncomingMessage,
  length: number,
  done: (chunks: Buffer[] | undefined) => void,
): void {
  // Closed already (a handler before this one read it while it was): nothing more will come.
  if (req.destroyed && !req.complete) return done(undefined);
  const chunks: Buffer[] = [];
  let got = 0;
  const finish = (ok: boolean) => {
    req.removeListener('readable', onReadable);
    req.removeListener('close', onClose);
    done(ok ? chunks : undefined);
  };
  const onReadable = () => {
    let chunk: Buffer | null;
    while (got < length && (chunk = req.read() as Buffer | null) !== null) {
      chunks.push(chunk);
      got += chunk.length;
    }
    if (got < length) return;
    // At once, in this tick: a stream whose data was all read ends on the next one, unless it has data again.
    for (let i = chunks.length - 1; i >= 0; i--) req.unshift(chunks[i]);
    finish(true);
  };
  const onClose = () => {
    for (let i = chunks.length - 1; i >= 0; i--) req.unshift(chunks[i]);
    finish(false);
  };
  req.on('readable', onReadable);
  req.once('close', onClose);
}
