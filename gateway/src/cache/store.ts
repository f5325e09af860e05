import {
  ErrorsAreMissesCache,
  InMemoryLRUCache,
  type KeyValueCache,
  type KeyValueCacheSetOptions,
} from '@apollo/utils.keyvaluecache';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * The gateway's one key-value store for what it keeps between requests and may share between replicas: cached
 * responses, automatic persisted queries. Apollo's `KeyValueCache` interface (get, set with a `ttl` in seconds,
 * delete), so Apollo's own plugins can use it as they are.
 */
export interface SharedStore extends KeyValueCache<string> {
  /** `memory` (this process, an LRU bounded in bytes) or `redis` (shared by every replica). */
  readonly kind: 'memory' | 'redis';
  /** The Redis connection, when there is one (for pub/sub and version keys beside the cached values). */
  readonly redis?: Redis;
  close(): Promise<void>;
}

/** How to build a {@link SharedStore}. */
export interface SharedStoreOptions {
  /** Keep the values in this Redis; without it, in this process's memory. */
  redisUrl?: string | null;
  /** The most bytes the in-memory store holds (keys and values, counted as UTF-16 code units × 2). */
  maxBytes: number;
  /** Where a Redis outage (and its end) is reported. */
  log: Logger;
}

/**
 * A memory store bounded by bytes (least recently used entries go first), or a Redis store whose failures are
 * misses: while Redis is away every lookup misses and every write is dropped, so the gateway answers from the
 * subgraphs instead of failing (one warning when Redis goes, one line when it is back).
 */
export function openSharedStore(opts: SharedStoreOptions): SharedStore {
  if (!opts.redisUrl) {
    const lru = new InMemoryLRUCache<string>({
      maxSize: opts.maxBytes,
      sizeCalculation: (value: string, key: string) => (value.length + key.length) * 2 || 1,
    });
    return {
      kind: 'memory',
      get: (key) => lru.get(key),
      set: (key, value, options) => lru.set(key, value, options),
      delete: (key) => lru.delete(key),
      close: async () => lru.clear(),
    };
  }
  const log = opts.log;
  // No offline queue: while Redis is away a command fails at once (a miss) instead of holding the request.
  const redis = new Redis(opts.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  let down = false;
  redis.on('error', (err: Error) => {
    if (down) return;
    down = true;
    log.warn({ err: err.message }, 'cache: Redis unreachable; every lookup misses until it is back');
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    log.info('cache: Redis is back');
  });
  const raw: KeyValueCache<string> = {
    get: async (key) => (await redis.get(key)) ?? undefined,
    set: async (key, value, options?: KeyValueCacheSetOptions) => {
      const ttl = options?.ttl;
      if (ttl) await redis.set(key, value, 'EX', Math.max(1, Math.ceil(ttl)));
      else await redis.set(key, value);
    },
    delete: async (key) => (await redis.del(key)) > 0,
  };
  const safe = new ErrorsAreMissesCache(raw);
  // Apollo's wrapper turns failed reads into misses but lets failed writes throw: a write lost while Redis is
  // away is only a later miss, so it is dropped here too (the 'error' handler above has said Redis is away).
  const dropped = async (write: () => Promise<unknown>) => {
    try {
      await write();
    } catch {
      // Dropped: see above.
    }
  };
  return {
    kind: 'redis',
    redis,
    get: (key) => safe.get(key),
    set: (key, value, options) => dropped(() => raw.set(key, value, options)),
    delete: async (key) => {
      await dropped(() => raw.delete(key));
    },
    close: async () => {
      redis.disconnect();
    },
  };
}
