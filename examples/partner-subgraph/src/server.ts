import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap } from '@apollo/server';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { schema } from './schema';
import { SIGNATURE_HEADER, verifySignature } from './signature';

/** Options of {@link startPartnerSubgraph}. */
export interface PartnerSubgraphOptions {
  /** Port to listen on; 0 (the default) picks a free one, which the returned `url` names. */
  port?: number;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /**
   * Shared secret of the `x-civic-signature` check. Without one (and without `PARTNER_SECRET` in the
   * environment) requests are not checked: fine on a laptop, never in production.
   */
  secret?: string;
  /** Milliseconds to wait before answering every GraphQL request: a slow partner, for timeout tests. */
  delayMs?: number;
}

/** A running partner subgraph. */
export interface PartnerSubgraph {
  /** Its GraphQL endpoint, `http://<host>:<port>/graphql`. */
  url: string;
  /** Its SDL, exactly as `{ _service { sdl } }` returns it. */
  sdl: string;
  /** Changes the delay of the GraphQL answers from now on (a partner that slows down, then recovers). */
  setDelayMs(ms: number): void;
  /** Stops listening, ends open connections (and requests still waiting out their delay), stops the server. */
  stop(): Promise<void>;
}

/** Request bodies above this size are refused: nobody needs a megabyte of query. */
const MAX_BODY_BYTES = 1024 * 1024;

/** Sends a JSON answer shaped like a GraphQL error, so that the gateway and its logs can read it. */
function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  code: string,
  reason?: string,
): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify({ errors: [{ message, extensions: reason ? { code, reason } : { code } }] }));
}

/** The raw bytes of a request's body, or null (after answering 413) when it is too large. */
async function readBody(req: IncomingMessage, res: ServerResponse): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      sendError(res, 413, `request body larger than ${MAX_BODY_BYTES} bytes`, 'PAYLOAD_TOO_LARGE');
      return null;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Waits `ms`, or less when `signal` aborts first (the client left, or the server stops). */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Starts the city indicators partner subgraph on its own HTTP server: `GET /health` (open), and
 * `GET|POST /graphql`, which checks the `x-civic-signature` header against the raw body when a secret is
 * configured (option `secret`, else env `PARTNER_SECRET`) and answers 401 with the reason otherwise.
 */
export async function startPartnerSubgraph(opts: PartnerSubgraphOptions = {}): Promise<PartnerSubgraph> {
  const secret = opts.secret ?? (process.env.PARTNER_SECRET || undefined);
  const host = opts.host ?? '127.0.0.1';
  let delayMs = opts.delayMs ?? 0;
  const stopping = new AbortController();

  // The landing page would load the Apollo explorer from a CDN (the Civic Graph's own explorer shows this
  // subgraph's fields), and the Civic Graph gateway asks for no federated traces.
  const apollo = new ApolloServer({
    schema,
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginInlineTraceDisabled()],
  });
  await apollo.start();

  async function handleGraphQL(req: IncomingMessage, res: ServerResponse, search: string): Promise<void> {
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'POST') {
      res.setHeader('allow', 'GET, POST');
      sendError(res, 405, `method ${method} not allowed: use GET or POST`, 'METHOD_NOT_ALLOWED');
      return;
    }
    const raw = await readBody(req, res);
    if (raw === null) return;
    if (secret !== undefined) {
      const check = verifySignature(req.headers[SIGNATURE_HEADER], raw, secret);
      if (!check.ok) {
        sendError(res, 401, check.message, 'UNAUTHENTICATED', check.reason);
        return;
      }
    }
    let body: unknown = undefined;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        sendError(res, 400, 'the request body is not valid JSON', 'BAD_REQUEST');
        return;
      }
    }

    // The wait ends early when the caller leaves or the server stops: then there is no one to answer.
    const gone = new AbortController();
    const leave = (): void => gone.abort();
    res.once('close', leave);
    stopping.signal.addEventListener('abort', leave, { once: true });
    await delay(delayMs, gone.signal);
    stopping.signal.removeEventListener('abort', leave);
    if (gone.signal.aborted) {
      res.destroy();
      return;
    }

    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const answer = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method, headers, search, body },
      context: async () => ({}),
    });
    for (const [name, value] of answer.headers) res.setHeader(name, value);
    res.statusCode = answer.status ?? 200;
    if (answer.body.kind === 'complete') {
      res.end(answer.body.string);
      return;
    }
    for await (const chunk of answer.body.asyncIterator) res.write(chunk);
    res.end();
  }

  const httpServer = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://partner.invalid');
    if (url.pathname === '/health' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(req.method === 'HEAD' ? undefined : JSON.stringify({ status: 'ok' }));
      return;
    }
    if (url.pathname !== '/graphql') {
      sendError(res, 404, `no such path ${url.pathname}: the GraphQL endpoint is /graphql`, 'NOT_FOUND');
      return;
    }
    handleGraphQL(req, res, url.search).catch((err: unknown) => {
      // An internal failure: logged here, never sent to the caller.
      console.error('partner subgraph: request failed', err);
      if (!res.headersSent) sendError(res, 500, 'internal error', 'INTERNAL_SERVER_ERROR');
      else res.destroy();
    });
  });

  try {
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(opts.port ?? 0, host, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await apollo.stop();
    throw err;
  }

  const sdlResult = await apollo.executeOperation({ query: /* GraphQL */ '{ _service { sdl } }' });
  if (sdlResult.body.kind !== 'single' || sdlResult.body.singleResult.errors) {
    throw new Error('the partner subgraph could not read its own SDL');
  }
  const sdl = (sdlResult.body.singleResult.data as { _service: { sdl: string } })._service.sdl;

  const { port } = httpServer.address() as AddressInfo;
  const urlHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}/graphql`,
    sdl,
    setDelayMs(ms: number): void {
      delayMs = ms;
    },
    async stop(): Promise<void> {
      stopping.abort();
      await new Promise<void>((resolve, reject) => {
        httpServer.close((err) => (err ? reject(err) : resolve()));
        httpServer.closeAllConnections();
      });
      await apollo.stop();
    },
  };
}
