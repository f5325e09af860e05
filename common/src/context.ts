import { randomUUID } from 'node:crypto';
import type { Request } from 'express';

/**
 * What every request carries, in the gateway and in each subgraph. Built in one place so that auth,
 * language negotiation, tracing and rate limits can be added here without touching any resolver.
 */
export interface RequestContext {
  requestId: string;
  /** The raw Accept-Language header, forwarded by the gateway to the subgraphs. */
  acceptLanguage: string | null;
}

export const REQUEST_ID_HEADER = 'x-request-id';

export function requestContext(req: Request): RequestContext {
  const incoming = req.headers[REQUEST_ID_HEADER];
  const requestId =
    typeof incoming === 'string' && /^[\w.-]{1,128}$/.test(incoming) ? incoming : randomUUID();
  return { requestId, acceptLanguage: req.headers['accept-language'] ?? null };
}
