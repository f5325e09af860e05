import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateVerdict } from '@civic/common/limits';

/** The window of RATE_LIMIT_COST_PER_MINUTE, in seconds. */
export const RATE_LIMIT_WINDOW_SECONDS = 60;

/** How to build {@link CostRateLimiter}. */
export interface CostRateLimiterOptions {
  /** The cost one client may spend per minute (RATE_LIMIT_COST_PER_MINUTE); at least 1. */
  costPerMinute: number;
  /** Share the budgets through this Redis (REDIS_URL); without it they are kept in this process's memory. */
  redisUrl?: string | null;
  /** Prefix of the Redis keys (`<prefix>:<client>`); default `civic:ratelimit`. */
  keyPrefix?: string;
  /** Where a Redis outage (and its end) is reported. */
  log: Logger;
}

/**
 * Each client's cost per minute, counted by `rate-limiter-flexible` (a fixed window of 60 s per client): in
 * memory, or in Redis so that every gateway replica spends from the same budget. A request that would go over
 * is refused and spends nothing (what it asked for is given back), so a client that asks for too much at once
 * can still run a smaller operation.
 *
 * Redis unreachable: the gateway fails open to its own memory (rate-limiter-flexible's `insuranceLimiter`),
 * with one warning when Redis goes and one line when it is back. Each replica then limits each client on its
 * own, so a client gets at most the budget times the replicas, and the API stays up (docs/protection.md).
 */
export class CostRateLimiter {
  private readonly limiter: RateLimiterMemory | RateLimiterRedis;
  private readonly redis?: Redis;
  private readonly points: number;

  constructor(opts: CostRateLimiterOptions) {
    this.points = opts.costPerMinute;
    const base = {
      points: opts.costPerMinute,
      duration: RATE_LIMIT_WINDOW_SECONDS,
      keyPrefix: opts.keyPrefix ?? 'civic:ratelimit',
    };
    if (!opts.redisUrl) {
      this.limiter = new RateLimiterMemory(base);
      return;
    }
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
    this.limiter = new RateLimiterRedis({
      ...base,
      storeClient: redis,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory(base),
    });
  }

  /** Spends `cost` from the client's budget if that much is left; says where the client stands after it. */
  async consume(client: string, cost: number): Promise<RateVerdict> {
    try {
      return this.verdict(await this.limiter.consume(client, cost), true);
    } catch (rejected) {
      if (!(rejected instanceof RateLimiterRes)) throw rejected;
      // Refused: give back what the refused request was counted for, so what is left stays what it was.
      const after = await this.limiter.reward(client, cost).catch(() => rejected);
      return this.verdict(after, false);
    }
  }

  /** Where the client stands, spending nothing. */
  async peek(client: string): Promise<RateVerdict> {
    const res = await this.limiter.get(client);
    return res
      ? this.verdict(res, true)
      : {
          allowed: true,
          limit: this.points,
          remaining: this.points,
          resetSeconds: RATE_LIMIT_WINDOW_SECONDS,
          windowSeconds: RATE_LIMIT_WINDOW_SECONDS,
        };
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

  private verdict(res: RateLimiterRes, allowed: boolean): RateVerdict {
    return {
      allowed,
      limit: this.points,
      remaining: Math.max(0, this.points - res.consumedPoints),
      resetSeconds: Math.ceil(Math.max(0, res.msBeforeNext) / 1000),
      windowSeconds: RATE_LIMIT_WINDOW_SECONDS,
    };
  }
}
