import type { Request } from 'express';

/**
 * Who is asking, for the rate limits and the exports' concurrency slots and row limits: the one place that
 * decides it. Today every client is anonymous and known by its IP (`req.ip`, which reads X-Forwarded-For only
 * when TRUST_PROXY says the proxy in front may be believed); API keys will replace this function.
 */
export interface Client {
  /** What its budget and its slots are counted by: `ip:<address>` (an API key's id, once keys exist). */
  id: string;
  /** No API key: held to the anonymous quotas (EXPORT_ANONYMOUS_MAX_ROWS...). */
  anonymous: boolean;
  /** A key holder's own export row limit; capped by EXPORT_MAX_ROWS. */
  maxRows?: number;
}

/** The client of a request: its IP, anonymous (see {@link Client}). */
export function clientOf(req: Request): Client {
  return { id: `ip:${req.ip ?? req.socket.remoteAddress ?? 'unknown'}`, anonymous: true };
}
