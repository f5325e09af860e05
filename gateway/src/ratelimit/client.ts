import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { REQUEST_ID_HEADER, requestContext } from '@civic/common/context';
import { InvalidApiKeyError, KeyStoreUnavailableError, type ApiKeys } from '../keys/api-keys';

/**
 * Who is asking, for the rate limits and the exports' concurrency slots and row limits: the one place that
 * decides it. A request with an API key (`Authorization: Bearer <key>` or `x-api-key: <key>`) is its key's
 * holder, with the key's own quotas; any other is anonymous and known by its IP (`req.ip`, which reads
 * X-Forwarded-For only when TRUST_PROXY says the proxy in front may be believed).
 */
export interface Client {
  /** What its budget and its slots are counted by: `key:<id>` for a key's holder, else `ip:<address>`. */
  id: string;
  /** No API key: held to the anonymous quotas (EXPORT_ANONYMOUS_MAX_ROWS...). */
  anonymous: boolean;
  /** A key holder's own export row limit; capped by EXPORT_MAX_ROWS. */
  maxRows?: number;
  /** A key holder's cost per minute, instead of RATE_LIMIT_COST_PER_MINUTE. */
  costPerMinute?: number;
  /** A key holder's export rows per minute, when its key sets them (else EXPORT_KEY_ROWS_PER_MINUTE). */
  exportRowsPerMinute?: number;
}

/** The anonymous client of a request: its IP. */
export function anonymousClient(req: Request): Client {
  return anonymousAt(req.ip ?? req.socket.remoteAddress);
}

/** The anonymous client at an IP address (`req.ip`, as Express reads it). */
const anonymousAt = (ip: string | undefined): Client => ({ id: `ip:${ip ?? 'unknown'}`, anonymous: true });

/**
 * The API key a request carries, if any: `Authorization: Bearer <key>` or `x-api-key: <key>` (both may be sent
 * if they agree). Another Authorization scheme (Basic, from a proxy's own login) is not ours and is ignored.
 * Throws {@link InvalidApiKeyError} when the headers cannot be read as one key.
 */
export function presentedKey(req: Pick<IncomingMessage, 'headers'>): string | undefined {
  const header = req.headers['x-api-key'];
  if (Array.isArray(header)) {
    throw new InvalidApiKeyError('conflicting', 'Send one x-api-key header, not several');
  }
  const fromHeader = header?.trim();
  const auth = /^Bearer(?:\s+(.*))?$/i.exec(req.headers.authorization?.trim() ?? '');
  const fromBearer = auth ? (auth[1] ?? '').trim() : undefined;
  if (fromHeader !== undefined && fromBearer !== undefined && fromHeader !== fromBearer) {
    throw new InvalidApiKeyError(
      'conflicting',
      'The request carries two different API keys (Authorization: Bearer and x-api-key): send one',
    );
  }
  const key = fromBearer ?? fromHeader;
  if (key === '') {
    throw new InvalidApiKeyError(
      'malformed',
      'The API key is empty: send `Authorization: Bearer <key>` or `x-api-key: <key>`, or no key at all',
    );
  }
  return key;
}

/** Finds the client of a request: see {@link clientResolver}. */
export type ClientOf = (req: Request) => Promise<Client>;

/**
 * The client of a request, with these API keys (none: every client is anonymous, and key headers are
 * ignored, as by a gateway built without a key store). Resolved once per request (the export routes and the
 * GraphQL context both ask). Rejects with {@link InvalidApiKeyError} for a key that is malformed, unknown or
 * revoked, never falling back to anonymous: a dashboard with a revoked key must learn it.
 */
export function clientResolver(keys?: ApiKeys): ClientOf {
  const resolved = new WeakMap<Request, Promise<Client>>();
  const resolve = async (req: Request): Promise<Client> => {
    const presented = keys ? presentedKey(req) : undefined;
    if (!keys || presented === undefined) return anonymousClient(req);
    return keyHolder(keys, presented);
  };
  return (req) => {
    let client = resolved.get(req);
    if (!client) {
      client = resolve(req);
      resolved.set(req, client);
    }
    return client;
  };
}

/** The holder of a presented key; rejects as {@link clientResolver} does. */
async function keyHolder(keys: ApiKeys, presented: string): Promise<Client> {
  const key = await keys.authenticate(presented);
  return {
    id: `key:${key.id}`,
    anonymous: false,
    costPerMinute: key.costPerMinute,
    ...(key.exportRowsPerMinute !== null ? { exportRowsPerMinute: key.exportRowsPerMinute } : {}),
  };
}

/**
 * The client of a request not yet handed to Express (gateway/src/cache/early.ts), by the same rules as
 * {@link clientResolver}, `ip` being Express's `req.ip` for it; undefined for any key that is not valid (malformed,
 * conflicting, unknown, revoked, or not checkable now): that request goes to Express, which refuses it.
 */
export function earlyClient(keys?: ApiKeys) {
  return async (req: IncomingMessage, ip: string | undefined): Promise<Client | undefined> => {
    if (!keys) return anonymousAt(ip);
    try {
      const presented = presentedKey(req);
      return presented === undefined ? anonymousAt(ip) : await keyHolder(keys, presented);
    } catch {
      return undefined;
    }
  };
}

/**
 * An Express middleware that settles who the client is before any route: a request whose API key is refused
 * gets 401 INVALID_API_KEY (with `WWW-Authenticate`, RFC 6750) as a JSON GraphQL error, and one whose key
 * cannot be checked 503; nothing else runs. Logged with the key's public id and the reason, never the key.
 */
export function requireValidKey(clientOf: ClientOf, log: Logger) {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      await clientOf(req);
    } catch (err) {
      if (err instanceof InvalidApiKeyError) {
        // Refused before GraphQL: the id is set here, for the client's report to match this line.
        const requestId = requestContext(req).requestId;
        log.info({ keyId: err.keyId, reason: err.reason, path: req.path, requestId }, 'API key refused');
        res.setHeader(REQUEST_ID_HEADER, requestId);
        res.setHeader('WWW-Authenticate', `Bearer realm="civic-graph", error="invalid_token"`);
        res.status(401).json({
          errors: [{ message: err.message, extensions: { code: 'INVALID_API_KEY', reason: err.reason } }],
        });
        return;
      }
      if (err instanceof KeyStoreUnavailableError) {
        res.setHeader('Retry-After', '5');
        res.status(503).json({
          errors: [{ message: err.message, extensions: { code: 'SERVICE_UNAVAILABLE' } }],
        });
        return;
      }
      return next(err);
    }
    next();
  };
}
