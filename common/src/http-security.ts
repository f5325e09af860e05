import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import cors from 'cors';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
import Negotiator from 'negotiator';
import type { Logger } from 'pino';
import type { ServerBounds } from './config';

/**
 * The headers every response of every service carries (helmet): `X-Content-Type-Options: nosniff` (a JSON
 * answer or a CSV export is never sniffed into HTML), `Referrer-Policy: no-referrer`, `X-Frame-Options: DENY`,
 * and a Content-Security-Policy of `default-src 'none'; frame-ancestors 'none'`: a JSON document rendered by a
 * browser may load nothing and be framed by no one. Strict-Transport-Security is left to whatever terminates
 * TLS in front of the services (they speak plain HTTP themselves, and HSTS is a promise about a whole host).
 */
export function apiSecurityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    },
    strictTransportSecurity: false,
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
}

/** The `'sha256-...'` source of each inline `<script>` or `<style>` element of a page, as a browser hashes it. */
export function inlineHashes(html: string, tag: 'script' | 'style'): string[] {
  // An HTML parser ends a script or a style element at the first `</script` or `</style`, whatever it is inside
  // (so an inlined bundle escapes its own), and hashes exactly the text in between.
  const elements = new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}`, 'gi');
  const hashes = new Set<string>();
  for (const m of html.matchAll(elements)) {
    hashes.add(`'sha256-${createHash('sha256').update(m[1], 'utf8').digest('base64')}'`);
  }
  return [...hashes];
}

/**
 * The Content-Security-Policy of a landing page made of inline scripts and styles (the gateway's explorer,
 * gateway/src/landing-page.ts): its own inline `<script>` and `<style>` elements are allowed by their hashes,
 * computed once from the page, and nothing else runs; no `'unsafe-inline'` for scripts, no `'unsafe-eval'`. The
 * explorer's editors run in workers made from `blob:` URLs, talk only to this origin (`connect-src 'self'`),
 * and set styles at run time, which only `'unsafe-inline'` in `style-src` allows (a style cannot run code).
 */
export function landingPagePolicy(html: string): string {
  const scripts = inlineHashes(html, 'script');
  return [
    "default-src 'none'",
    `script-src ${scripts.join(' ')}`,
    "style-src 'unsafe-inline'",
    'worker-src blob:',
    "connect-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const MEDIA_TYPES = [
  'application/json',
  'application/graphql-response+json',
  'multipart/mixed; deferSpec=20220824',
  'multipart/mixed; incrementalSpec=v0.2',
  'multipart/mixed',
  'text/html',
];

/**
 * Apollo Server's own rule for serving its landing page instead of a GraphQL answer (`prefersHTML` in
 * `@apollo/server`): a GET whose Accept header prefers `text/html` to every GraphQL media type.
 */
export function prefersHtml(req: Request): boolean {
  return req.method === 'GET' && acceptPrefersHtml(req.get('accept'));
}

/** Whether an Accept header prefers `text/html` to every GraphQL media type (see {@link prefersHtml}). */
export function acceptPrefersHtml(accept: string | undefined): boolean {
  return !!accept && new Negotiator({ headers: { accept } }).mediaType(MEDIA_TYPES) === 'text/html';
}

/** Puts the landing page's policy (see {@link landingPagePolicy}) on the responses that will be that page. */
export function landingPageHeaders(html: string): RequestHandler {
  const policy = landingPagePolicy(html);
  return (req: Request, res: Response, next: NextFunction) => {
    if (prefersHtml(req)) res.setHeader('content-security-policy', policy);
    next();
  };
}

/** The request headers a page may send the gateway: what a GraphQL client, the explorer and exports use. */
export const CORS_ALLOWED_HEADERS = [
  'content-type',
  'authorization',
  'x-api-key',
  'apollo-require-preflight',
  'x-apollo-operation-name',
  'x-request-id',
  'accept-language',
];

/** The response headers a page may read: the request id, the rate limits, an export's file name and count. */
export const CORS_EXPOSED_HEADERS = [
  'x-request-id',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
  'ratelimit-policy',
  'retry-after',
  'content-disposition',
  'x-total-count',
];

/**
 * CORS for the gateway (CORS_ORIGINS): `*`, any page may read the answers, never with credentials (no cookie
 * is ever read, so none is asked for: a page cannot act as its visitor); or a list of origins, each echoed back
 * only to itself, with `Vary: Origin`. A preflight (OPTIONS) gets 204 with the methods and headers allowed,
 * cached 10 minutes. CSRF prevention is separate and unchanged: Apollo's for /graphql, the exports' own.
 */
export function corsFor(origins: '*' | readonly string[]): RequestHandler {
  return cors({
    origin: origins === '*' ? '*' : [...origins],
    credentials: false,
    methods: ['GET', 'HEAD', 'POST'],
    allowedHeaders: CORS_ALLOWED_HEADERS,
    exposedHeaders: CORS_EXPOSED_HEADERS,
    maxAge: 600,
    optionsSuccessStatus: 204,
  });
}

/** The fields of two `Vary` values, each once (case-insensitively), the first value's first; `*` wins. */
export function mergeVary(first: string, second: string): string {
  const fields: string[] = [];
  for (const f of `${first},${second}`.split(',')) {
    const field = f.trim();
    if (field === '*') return '*';
    if (field && !fields.some((x) => x.toLowerCase() === field.toLowerCase())) fields.push(field);
  }
  return fields.join(', ');
}

/**
 * Apollo's Express integration sets each header of its answer over the response's own: its `Vary`
 * (`Accept-Language` on a cacheable GET) replaced the `Vary: Origin` that CORS had set for a list of origins,
 * so a shared cache could hand one origin's `Access-Control-Allow-Origin` to another. On a response that has a
 * `Vary` already, a later `Vary` adds its fields to it instead (the early cache hits send the same union).
 * Nothing is done to a response without one (CORS `*` sets none).
 */
export const keepVary: RequestHandler = (_req, res, next) => {
  if (res.getHeader('vary') === undefined) return next();
  const setHeader = res.setHeader;
  res.setHeader = function (this: Response, name: string, value: number | string | readonly string[]) {
    if (name.toLowerCase() !== 'vary') return setHeader.call(this, name, value);
    const had = this.getHeader('vary');
    const was = had === undefined ? '' : Array.isArray(had) ? had.join(', ') : String(had);
    return setHeader.call(
      this,
      name,
      mergeVary(was, Array.isArray(value) ? value.join(', ') : String(value)),
    );
  } as Response['setHeader'];
  next();
};

/**
 * Bounds what one connection may hold (docs/protection.md): headers within `headersTimeoutMs` and the whole
 * request, body included, within `requestTimeoutMs` (else 408 and the connection closed), an idle keep-alive
 * connection for `keepAliveTimeoutMs`, and at most `maxConnections` connections at once: one more is closed as
 * soon as it is accepted, logged once a second at most. `maxHeaderBytes` is set when the server is created.
 */
export function boundServer(http: Server, bounds: ServerBounds, log: Logger): void {
  http.headersTimeout = bounds.headersTimeoutMs;
  http.requestTimeout = bounds.requestTimeoutMs;
  http.keepAliveTimeout = bounds.keepAliveTimeoutMs;
  http.maxConnections = bounds.maxConnections;
  let dropped = 0;
  let timer: NodeJS.Timeout | undefined;
  http.on('drop', () => {
    dropped++;
    timer ??= setTimeout(() => {
      log.warn(
        { dropped, maxConnections: bounds.maxConnections },
        `connections refused: ${dropped} over MAX_CONNECTIONS (${bounds.maxConnections})`,
      );
      dropped = 0;
      timer = undefined;
    }, 1000).unref();
  });
}
