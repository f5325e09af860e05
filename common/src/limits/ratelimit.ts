import { GraphQLError } from 'graphql';

/** Where a client stands in its current window after a request (or before any, for a peek). */
export interface RateVerdict {
  /** Whether the request may run: its cost fitted in what was left. */
  allowed: boolean;
  /** The cost a client may spend per window (RATE_LIMIT_COST_PER_MINUTE). */
  limit: number;
  /** What is left of it in this window, after this request if it was allowed. */
  remaining: number;
  /** Seconds until the window ends and the budget is whole again (at least 1 when something was spent). */
  resetSeconds: number;
  /** The window, in seconds (60). */
  windowSeconds: number;
  /** Whose budget it is, for messages: `one client` (the default) or `your API key`. */
  who?: string;
  /** What sets `limit`, for messages: `RATE_LIMIT_COST_PER_MINUTE` (the default), or the key's quota. */
  setting?: string;
}

/**
 * How the limits plugin asks a service's rate limiter (the gateway's, gateway/src/ratelimit): `consume` spends
 * an operation's cost from its client's budget once the cost is known and before anything runs; `peek` tells
 * where the client stands for a request that spent nothing (refused before its cost was known, or for cost),
 * so that every response carries the RateLimit headers. Neither throws: a store that fails is the limiter's
 * to handle.
 */
export interface RateLimitHook<C> {
  consume(context: C, cost: number): Promise<RateVerdict>;
  peek(context: C): Promise<RateVerdict>;
}

/**
 * An operation refused because its client has spent its budget for the window: HTTP 429, with `limit` (the
 * budget), `measured` (this operation's cost), `remaining` and `retryAfter` (seconds) in its extensions, so an
 * export, which reads the error rather than the headers, can say when to come back too.
 */
export class RateLimitedError extends GraphQLError {
  constructor(cost: number, verdict: RateVerdict) {
    const retryAfter = retryAfterOf(verdict);
    const who = verdict.who ?? 'one client';
    const setting = verdict.setting ?? 'RATE_LIMIT_COST_PER_MINUTE';
    const message =
      cost > verdict.limit
        ? `Cost: ${cost}, more than the ${verdict.limit} ${who} may spend in ${verdict.windowSeconds} s ` +
          `(${setting}): this operation can never run; ask for fewer rows or fields`
        : `Cost: ${cost}, more than the ${verdict.remaining} left of the ${verdict.limit} ${who} may spend ` +
          `in ${verdict.windowSeconds} s (${setting}): try again in ${retryAfter} s`;
    super(message, {
      extensions: {
        code: 'RATE_LIMITED',
        limit: verdict.limit,
        measured: cost,
        remaining: verdict.remaining,
        retryAfter,
        http: { status: 429 },
      },
    });
  }
}

/** `Retry-After` of a refusal: whole seconds until the window ends, at least 1. */
export function retryAfterOf(verdict: RateVerdict): number {
  return Math.max(1, verdict.resetSeconds);
}

/**
 * The IETF draft's rate limit headers (draft-ietf-httpapi-ratelimit-headers: `RateLimit-Limit`,
 * `RateLimit-Remaining`, `RateLimit-Reset` in seconds, `RateLimit-Policy` as `<limit>;w=<window>`), and
 * `Retry-After` on a refusal.
 */
export function rateLimitHeaders(verdict: RateVerdict): Record<string, string> {
  return {
    'ratelimit-limit': String(verdict.limit),
    'ratelimit-remaining': String(verdict.remaining),
    'ratelimit-reset': String(verdict.resetSeconds),
    'ratelimit-policy': `${verdict.limit};w=${verdict.windowSeconds}`,
    ...(verdict.allowed ? {} : { 'retry-after': String(retryAfterOf(verdict)) }),
  };
}
