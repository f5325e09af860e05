import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { GraphQLError } from 'graphql';
import { negotiateLanguages } from './language';
import { LANGUAGES, type Language } from './localized';
import type { Logger } from 'pino';
import { addLogFields, logger } from './log';

/**
 * What every request carries, in the gateway and in each subgraph. Built in one place so that auth,
 * language negotiation, tracing and rate limits can be added here without touching any resolver.
 */
export interface RequestContext {
  requestId: string;
  /** The raw Accept-Language header, forwarded by the gateway to the subgraphs. */
  acceptLanguage: string | null;
  /** The order in which to pick among a text's languages: Accept-Language first, then the fallback order. */
  languages: readonly Language[];
  /**
   * Aborted when the client goes away before its answer is sent (see {@link clientGoneSignal}), or at the
   * gateway when the request runs past its deadline ({@link startDeadline}, its reason then REQUEST_TIMEOUT):
   * the gateway cancels the request's subgraph calls with it and starts no other; a subgraph's database edge
   * refuses the request's further statements (common/src/db.ts).
   */
  signal: AbortSignal;
}

export const REQUEST_ID_HEADER = 'x-request-id';

/** The code of the error a request's remaining work fails with once its client has gone away. */
export const CLIENT_GONE_CODE = 'CLIENT_CLOSED_REQUEST';

/**
 * What stops the work of a request whose client has gone away. Nobody reads it (the connection is closed); it
 * has a code of its own so that it is neither masked nor logged as an internal error, nor taken for a failure
 * of the subgraph or database it interrupted.
 */
export const clientGoneError = (): GraphQLError =>
  new GraphQLError('The client went away before the answer was complete', {
    extensions: { code: CLIENT_GONE_CODE },
  });

/** The code of the error a request fails with once it has run past its deadline (REQUEST_DEADLINE_MS). */
export const REQUEST_TIMEOUT_CODE = 'REQUEST_TIMEOUT';

/**
 * What stops the work of a request that has run past its deadline (see {@link startDeadline}): its subgraph
 * calls in flight are abandoned, no other is made, and the gateway answers with this error alone.
 */
export const requestTimeoutError = (ms: number): GraphQLError =>
  new GraphQLError(
    `The request took longer than the ${ms} ms allowed (REQUEST_DEADLINE_MS): it was stopped`,
    {
      extensions: { code: REQUEST_TIMEOUT_CODE, limit: ms },
    },
  );

/**
 * The error the remaining work of a request whose signal is aborted fails with: the signal's own reason (the
 * client gone, or the deadline passed), or the client-gone error for a signal aborted otherwise.
 */
export function abortError(signal: AbortSignal | undefined): GraphQLError {
  const reason: unknown = signal?.reason;
  return reason instanceof GraphQLError ? reason : clientGoneError();
}

/** Whether a signal was aborted by a request's deadline rather than by its client going away. */
export const pastDeadline = (signal: AbortSignal | undefined): boolean =>
  signal?.aborted === true && abortError(signal).extensions.code === REQUEST_TIMEOUT_CODE;

/**
 * A request as Express hands it on, or as the HTTP server does to a handler ahead of Express (which sets `res`
 * itself, as Express does): what the helpers below read.
 */
export type ServedRequest = IncomingMessage & { res?: ServerResponse };

const ids = new WeakMap<IncomingMessage, string>();
const signals = new WeakMap<ServedRequest, AbortSignal>();
const controllers = new WeakMap<ServedRequest, AbortController>();

/**
 * The request's id: the one its caller sent (the gateway, to a subgraph), if well formed, else a new one. The
 * same for the whole request, whether Express has taken it over yet or not (the gateway's early answers).
 */
export function requestIdOf(req: IncomingMessage): string {
  let id = ids.get(req);
  if (id === undefined) {
    const incoming = req.headers[REQUEST_ID_HEADER];
    id = typeof incoming === 'string' && /^[\w.-]{1,128}$/.test(incoming) ? incoming : randomUUID();
    ids.set(req, id);
  }
  return id;
}

/**
 * A signal aborted when the connection of `req` closes before its response has ended: the client (or, for a
 * subgraph, the gateway, which cancels its call) went away, and nobody will read what the request computes.
 * One per request, however often it is asked for (an export builds its context once per export, and runs many
 * operations with it).
 */
export function clientGoneSignal(req: ServedRequest): AbortSignal {
  let signal = signals.get(req);
  if (signal) return signal;
  const controller = new AbortController();
  signal = controller.signal;
  signals.set(req, signal);
  controllers.set(req, controller);
  const res = req.res;
  // A response's 'close' also follows a complete answer; only one closed before it ended means a client gone.
  if (res) res.once('close', () => void (res.writableEnded || controller.abort(clientGoneError())));
  else req.socket.once('close', () => controller.abort(clientGoneError()));
  return signal;
}

/**
 * Gives `req` a deadline: `ms` after this call, its signal (the one {@link clientGoneSignal} hands out, which
 * the gateway's subgraph calls and the database edge already obey) is aborted with {@link requestTimeoutError},
 * unless its response has ended first. One deadline per request: a second call changes nothing.
 */
export function startDeadline(req: ServedRequest, ms: number): void {
  clientGoneSignal(req);
  const controller = controllers.get(req);
  if (!controller || deadlines.has(req)) return;
  deadlines.add(req);
  const timer = setTimeout(() => controller.abort(requestTimeoutError(ms)), ms);
  timer.unref();
  const clear = () => clearTimeout(timer);
  if (req.res) req.res.once('close', clear);
  else req.socket.once('close', clear);
}
const deadlines = new WeakSet<ServedRequest>();

const scope = new AsyncLocalStorage<{ signal: AbortSignal; requestId: string }>();

/**
 * The signal of the request whose work is running (see {@link requestScope}), or undefined outside any
 * request (start-up, imports, migrations). For code that is handed no context: the database edge.
 */
export const currentRequestSignal = (): AbortSignal | undefined => scope.getStore()?.signal;

/**
 * The id of the request whose work is running, or undefined outside any request: for a log line written by
 * code that is handed no context (Apollo's error formatter).
 */
export const currentRequestId = (): string | undefined => scope.getStore()?.requestId;

// Every line logged while a request's work runs names the request, whether or not its code says so.
addLogFields(() => {
  const requestId = scope.getStore()?.requestId;
  return requestId === undefined ? undefined : { requestId };
});

/**
 * Express middleware that runs the rest of a request's handling inside its scope, so that
 * {@link currentRequestSignal} finds its signal anywhere below (the database edge: common/src/db.ts), and logs
 * one JSON line at info level when its client goes away after sending its request: `client went away`, the
 * request id and how long the request had run. No stack trace: a client that leaves is not an error of the
 * service.
 */
export function requestScope(service: string): RequestHandler {
  const log = logger.child({ service });
  return (req: Request, _res: Response, next: NextFunction) => runInRequestScope(req, log, next);
}

/**
 * Runs `work` inside the scope of `req` (see {@link requestScope}, which does it for Express's path; the
 * gateway's GraphQL requests run without Express do it themselves: common/src/front-graphql.ts), `log` being the
 * service's logger.
 */
export function runInRequestScope<T>(req: ServedRequest, log: Logger, work: () => T): T {
  const started = performance.now();
  const signal = clientGoneSignal(req);
  signal.addEventListener(
    'abort',
    () => {
      // One whose body was still arriving is the body parser's to log (`request aborted by the client`).
      if (!req.complete) return;
      const fields = { requestId: requestIdOf(req), ms: Math.round(performance.now() - started) };
      log.info(fields, pastDeadline(signal) ? 'request deadline passed' : 'client went away');
    },
    { once: true },
  );
  return scope.run({ signal, requestId: requestIdOf(req) }, work);
}

/** The context of a request, built once per request by the gateway and by each subgraph. */
export function requestContext(
  req: ServedRequest,
  fallback: readonly Language[] = LANGUAGES,
): RequestContext {
  const acceptLanguage = req.headers['accept-language'] ?? null;
  return {
    requestId: requestIdOf(req),
    acceptLanguage,
    languages: negotiateLanguages(acceptLanguage, fallback),
    signal: clientGoneSignal(req),
  };
}
