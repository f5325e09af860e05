import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { responseCacheConfig } from '@civic/common/config';
import {
  bumpDataVersion,
  closeDataVersionPublisher,
  publishDataVersionsTo,
  readDataVersion,
  versionKey,
  writeData,
} from '@civic/common/data-version';
import { openDataSource } from '@civic/common/db';
import { logger } from '@civic/common/log';
import { openSharedStore } from '@civic/gateway/cache/store';
import { dropRedisKeys } from '../support/rate-limit';
import { BACKENDS, freshStorage, MODULES } from '../support/system';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('RESPONSE_CACHE configuration', () => {
  it('defaults to memory, to redis with REDIS_URL, and refuses redis without one', () => {
    expect(responseCacheConfig({})).toEqual({
      mode: 'memory',
      redisUrl: null,
      maxBytes: 64 * 1024 * 1024,
      pollMs: 250,
      httpMaxAge: 60,
    });
    expect(responseCacheConfig({ REDIS_URL: 'redis://cache:6379' }).mode).toBe('redis');
    expect(responseCacheConfig({ REDIS_URL: 'redis://cache:6379', RESPONSE_CACHE: 'memory' }).mode).toBe(
      'memory',
    );
    expect(responseCacheConfig({ RESPONSE_CACHE: 'off' }).mode).toBe('off');
    expect(responseCacheConfig({ RESPONSE_CACHE_MAX_MB: '8' }).maxBytes).toBe(8 * 1024 * 1024);
    expect(() => responseCacheConfig({ RESPONSE_CACHE: 'redis' })).toThrow(
      /RESPONSE_CACHE: "redis" needs REDIS_URL/,
    );
    expect(() => responseCacheConfig({ RESPONSE_CACHE: 'disk' })).toThrow(/RESPONSE_CACHE/);
    expect(() => responseCacheConfig({ RESPONSE_CACHE_MAX_MB: '0' })).toThrow(/RESPONSE_CACHE_MAX_MB/);
  });
});

describe('the memory store', () => {
  it('holds no more than its bound in bytes, dropping the least recently used first', async () => {
    const maxBytes = 100_000;
    const store = openSharedStore({ maxBytes, log: logger });
    const value = 'x'.repeat(990);
    for (let i = 0; i < 1000; i++) await store.set(`key:${String(i).padStart(4, '0')}`, value);
    let kept = 0;
    let bytes = 0;
    for (let i = 0; i < 1000; i++) {
      const key = `key:${String(i).padStart(4, '0')}`;
      if ((await store.get(key)) !== undefined) {
        kept++;
        bytes += (key.length + value.length) * 2;
      }
    }
    expect(bytes).toBeLessThanOrEqual(maxBytes);
    // 1,996 bytes an entry (UTF-16): 50 fit in 100,000, and those are the last ones written.
    expect(kept).toBe(50);
    expect(await store.get('key:0999')).toBe(value);
    expect(await store.get('key:0000')).toBeUndefined();
    await store.close();
  });
});

describe.each(BACKENDS)('data versions on %s', (backend) => {
  let ds: DataSource;
  let drop: () => Promise<void>;
  const prefix = `civic:test:versions:${randomBytes(4).toString('hex')}`;
  beforeAll(async () => {
    const fresh = freshStorage(backend);
    drop = fresh.drop;
    ds = await openDataSource(
      await MODULES.organizations.createDataSource(fresh.storage.organizations),
      fresh.storage.organizations,
    );
  });
  afterAll(async () => {
    await ds?.destroy();
    await drop?.();
    await closeDataVersionPublisher();
    await dropRedisKeys(REDIS_URL, prefix);
  });

  it('starts at the time of the migration and only grows, once per write transaction', async () => {
    const start = await readDataVersion(ds, 'organizations');
    expect(start).toBeGreaterThan(Date.UTC(2024, 0, 1));
    const a = await ds.transaction((m) => bumpDataVersion(m, 'organizations'));
    const b = await ds.transaction((m) => bumpDataVersion(m, 'organizations'));
    expect(a).toBeGreaterThan(start!);
    expect(b).toBeGreaterThan(a);
    expect(await readDataVersion(ds, 'organizations')).toBe(b);
  });

  it('is raised with the write or not at all: a write that fails leaves it as it was', async () => {
    const before = await readDataVersion(ds, 'organizations');
    await expect(
      writeData(ds, 'organizations', async (m) => {
        await m.query(`UPDATE organizations SET source_dataset = source_dataset`);
        throw new Error('the writer failed');
      }),
    ).rejects.toThrow('the writer failed');
    expect(await readDataVersion(ds, 'organizations')).toBe(before);
    await writeData(ds, 'organizations', async () => undefined);
    expect(await readDataVersion(ds, 'organizations')).toBeGreaterThan(before!);
  });

  it('is in Redis once the write has returned, and never lowered there', async () => {
    publishDataVersionsTo({ redisUrl: REDIS_URL, keyPrefix: prefix });
    const redis = new Redis(REDIS_URL);
    try {
      await writeData(ds, 'organizations', async () => undefined);
      const committed = await readDataVersion(ds, 'organizations');
      expect(Number(await redis.get(versionKey(prefix, 'organizations')))).toBe(committed);
      // A late writer (or a gateway's late poll) with an older version does not lower it.
      await redis.set(versionKey(prefix, 'organizations'), String(committed! + 1_000_000));
      await writeData(ds, 'organizations', async () => undefined);
      expect(Number(await redis.get(versionKey(prefix, 'organizations')))).toBe(committed! + 1_000_000);
    } finally {
      redis.disconnect();
      publishDataVersionsTo(null);
    }
  });
});
