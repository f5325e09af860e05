import { Redis } from 'ioredis';

/** A refusal's Retry-After, in seconds, checked to be within the rate limits' window of one minute. */
export function retryAfterOf(headers: Headers): number {
  const retryAfter = Number(headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  return retryAfter;
}

/** Deletes every key under `prefix` in the Redis at `url`: what a test's rate limits left there. */
export async function dropRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url);
  try {
    const found = await redis.keys(`${prefix}*`);
    if (found.length) await redis.del(...found);
  } finally {
    redis.disconnect();
  }
}
