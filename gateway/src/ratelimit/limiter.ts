import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateVerdict } from '@civic/common/limits';

/** The window of RATE_LIMIT_COST_PER_MINUTE and EXPORT_ROWS_PER_MINUTE, in seconds. */
export const RATE_LIMIT_WINDOW_SECONDS = 60;

/** How to build {@link RateLimitStore}. */
export interface RateLimitStoreOptions {
  /** Share the counts through this Redis (REDIS_URL); without it they are kept in this process's memory. */
  redisUrl?: string | null;
  /** Where a Redis outage (and its end) is reported. */
  log: Logger;
}

/**
 * Where the per-minute counts are kept: this process's memory, or a Redis shared by every gateway replica (one
 * connection for all the limiters of a gateway).
 *
 * Redis unreachable: the gateway fails open to its own memory (rate-limiter-flexible's `insuranceLimiter`),
 * with one warning when Redis goes and one line when it is back. Each replica then limits each client on its
 * own, so a client gets at most the budget times the replicas, and the API stays up (docs/protection.md).
 */
export class RateLimitStore {
  readonly redis?: Redis;

  constructor(opts: RateLimitStoreOptions) {
    if (!opts.redisUrl) return;
    const log = opts.log;
    // No offline queue: while Redis is away a command fails at once (and the memory limiter answers) instead
    // of waiting for a reconnection with the client's request held.
    const redis = new Redis(opts.redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      lazyConnect: false,
    });
    let down = false;
    redis.on('error', (err: Error) => {
      if (down) return;
      down = true;
      log.warn(
        { err: err.message },
        'rate limits: Redis unreachable; each gateway process limits clients in its own memory until it is back',
      );
    });
    redis.on('ready', () => {
      if (!down) return;
      down = false;
      log.info('rate limits: Redis is back; budgets are shared again');
    });
    this.redis = redis;
  }

  /**
   * Resolves once the Redis connection is up or has failed for the first time (at once without Redis), so
   * that the first requests of a starting gateway spend from the shared budgets rather than its memory's.
   */
  async connected(): Promise<void> {
    const redis = this.redis;
    if (!redis || redis.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const done = () => {
        redis.off('ready', done);
        redis.off('error', done);
        resolve();
      };
      redis.once('ready', done);
      redis.once('error', done);
    });
  }

  /** Closes the Redis connection, if any. */
  async close(): Promise<void> {
    const redis = this.redis;
    if (!redis) return;
    // A connection that is not up has nothing to flush: stop its reconnecting at once.
    if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
    else redis.disconnect();
  }
}

/** How to build {@link PerMinuteLimiter}. */
export interface PerMinuteLimiterOptions {
  store: RateLimitStore;
  /** What a client may spend per minute unless told otherwise (its quota, in {@link PerMinuteLimiter.consume}). */
  points: number;
  /** Prefix of the keys (`<prefix>:<client>`): what is counted, e.g. `civic:ratelimit` for cost. */
  keyPrefix: string;
}

type Limiter = RateLimiterMemory | RateLimiterRedis;

/**
 * Each client's points per minute (cost, or export rows), counted by `rate-limiter-flexible` (a fixed window of
 * 60 s per client) in the {@link RateLimitStore}. A request that would go over is refused and spends nothing
 * (what it asked for is given back), so a client that asks for too much at once can still spend less.
 *
 * Quotas differ by client (anonymous clients have the default, an API key its own), but a rate-limiter-flexible
 * limiter has one fixed `points`: so there is one limiter per distinct quota, made when first needed and kept
 * (there are as many as distinct quotas among the keys: a handful). They all count under the same keys: in
 * Redis, the counter `<prefix>:<client>` holds only what was consumed, and `points` is only what each limiter
 * compares it with; a client always comes with the same quota (a key's quotas never change), so it is always
 * counted by the same limiter, in memory too. Scaling each client's spending to the default quota instead
 * would round (cost 1 against a quota of 3 is a third of a point) and make the headers lie.
 */
export class PerMinuteLimiter {
  private readonly limiters = new Map<number, Limiter>();

  constructor(private readonly opts: PerMinuteLimiterOptions) {}

  /** The default quota. */
  get points(): number {
    return this.opts.points;
  }

  /** Spends `amount` from the client's quota if that much is left; says where the client stands after it. */
  async consume(client: string, amount: number, quota = this.opts.points): Promise<RateVerdict> {
    const limiter = this.limiterFor(quota);
    try {
      return verdict(quota, await limiter.consume(client, amount), true);
    } catch (rejected) {
      if (!(rejected instanceof RateLimiterRes)) throw rejected;
      // Refused: give back what the refused request was counted for, so what is left stays what it was.
      const after = await limiter.reward(client, amount).catch(() => rejected);
      return verdict(quota, after, false);
    }
  }

  /** Where the client stands, spending nothing. */
  async peek(client: string, quota = this.opts.points): Promise<RateVerdict> {
    const res = await this.limiterFor(quota).get(client);
    return res
      ? verdict(quota, res, true)
      : {
          allowed: true,
          limit: quota,
          remaining: quota,
          resetSeconds: RATE_LIMIT_WINDOW_SECONDS,
          windowSeconds: RATE_LIMIT_WINDOW_SECONDS,
        };
  }

  private limiterFor(points: number): Limiter {
    let limiter = this.limiters.get(points);
    if (limiter) return limiter;
    const base = { points, duration: RATE_LIMIT_WINDOW_SECONDS, keyPrefix: this.opts.keyPrefix };
    const redis = this.opts.store.redis;
    limiter = redis
      ? new RateLimiterRedis({
          ...base,
          storeClient: redis,
          rejectIfRedisNotReady: true,
          insuranceLimiter: new RateLimiterMemory(base),
        })
      : new RateLimiterMemory(base);
    this.limiters.set(points, limiter);
    return limiter;
  }
}

function verdict(limit: number, res: RateLimiterRes, allowed: boolean): RateVerdict {
  return {
    allowed,
    limit,
    remaining: Math.max(0, limit - res.consumedPoints),
    resetSeconds: Math.ceil(Math.max(0, res.msBeforeNext) / 1000),
    windowSeconds: RATE_LIMIT_WINDOW_SECONDS,
  };
}
