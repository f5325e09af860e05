import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import { negotiateLanguages } from './language';
import { LANGUAGES, type Language } from './localized';

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
}

export const REQUEST_ID_HEADER = 'x-request-id';

export function requestContext(req: Request, fallback: readonly Language[] = LANGUAGES): RequestContext {
  const incoming = req.headers[REQUEST_ID_HEADER];
  const requestId =
    typeof incoming === 'string' && /^[\w.-]{1,128}$/.test(incoming) ? incoming : randomUUID();
  const acceptLanguage = req.headers['accept-language'] ?? null;
  return { requestId, acceptLanguage, languages: negotiateLanguages(acceptLanguage, fallback) };
}
