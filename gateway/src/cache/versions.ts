import { RAISE_VERSION_SCRIPT, versionKey } from '@civic/common/data-version';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** The data version of each of our subgraphs as this gateway knows it; null: unknown (nothing is cached then). */
export type VersionSnapshot = Readonly<Record<string, number | null>>;

/** How the gateway learns the data version of each of our subgraphs (common/src/data-version.ts). */
export interface DataVersionsOptions {
  /** Our subgraphs (the ones that keep a version) and their GraphQL URLs; `/data-version` is beside them. */
  subgraphUrls: Readonly<Record<string, string>>;
  /** How often each subgraph is asked, in ms. */
  pollMs: number;
  /** With Redis: the versions are read from it on every request, and each poll raises its keys if behind. */
  redis?: Redis;
  keyPrefix: string;
  log: Logger;
}

/**
 * The versions of our subgraphs' data, as the response cache needs them before it looks an answer up.
 *
 * - Memory mode: each subgraph's `GET /data-version` is polled every `pollMs`; a version is only trusted while
 *   the poll that read it started recently (within three intervals, at least 750 ms): a subgraph that stops
 *   answering makes the answers depending on it uncached, never stale. So an answer of data older than a write
 *   is served at most max(750 ms, 3 intervals) + 100 ms (the subgraph's own read cache) after its commit, and
 *   typically for one interval.
 * - Redis mode: the writers set `<prefix>:version:<subgraph>` after each commit (common/src/data-version.ts),
 *   and every request reads them with one MGET, so an answer is never older than the last write that
 *   returned. The polls still run, and raise a key that is behind (never lower it): that fills the keys of a
 *   fresh Redis and covers a writer that ran without REDIS_URL within one interval.
 */
export class DataVersions {
  private readonly names: string[];
  private readonly known = new Map<string, { version: number; at: number }>();
  private readonly timer: NodeJS.Timeout;
  private readonly maxAgeMs: number;
  private readonly keys: string[];
  private polling: Promise<void> | undefined;
  /** Resolves once every subgraph has been asked once (answered or not). */
  readonly first: Promise<void>;

  constructor(private readonly opts: DataVersionsOptions) {
    this.names = Object.keys(opts.subgraphUrls);
    this.keys = this.names.map((n) => versionKey(opts.keyPrefix, n));
    this.maxAgeMs = Math.max(750, opts.pollMs * 3);
    this.first = this.poll();
    this.timer = setInterval(() => void this.poll(), opts.pollMs);
    this.timer.unref();
  }

  /** The subgraphs that keep a version. */
  get subgraphs(): readonly string[] {
    return this.names;
  }

  /** The Redis keys of the versions, in the order of {@link subgraphs} (for a pipelined MGET). */
  get redisKeys(): readonly string[] {
    return this.keys;
  }

  /** Memory mode's view: each subgraph's last polled version, null when not recent enough to trust. */
  polled(): VersionSnapshot {
    const now = Date.now();
    const out: Record<string, number | null> = {};
    for (const name of this.names) {
      const k = this.known.get(name);
      out[name] = k && now - k.at <= this.maxAgeMs ? k.version : null;
    }
    return out;
  }

  /** Redis mode's view, from an MGET of {@link redisKeys}. */
  fromRedis(values: readonly (string | null)[]): VersionSnapshot {
    const out: Record<string, number | null> = {};
    this.names.forEach((name, i) => {
      const v = values[i];
      out[name] = v !== null && v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
    });
    return out;
  }

  /** One round of polls (a round still running is not doubled). */
  poll(): Promise<void> {
    this.polling ??= Promise.all(this.names.map((n) => this.pollOne(n))).then(
      () => void (this.polling = undefined),
    );
    return this.polling;
  }

  private async pollOne(name: string): Promise<void> {
    const url = new URL('/data-version', this.opts.subgraphUrls[name]);
    // Trusted from when it was asked, not answered: a slow answer may hold a version read before a commit.
    const asked = Date.now();
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(this.maxAgeMs) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const body = (await res.json()) as { version?: unknown };
      if (typeof body.version !== 'number') throw new Error('no version in the answer');
      this.known.set(name, { version: body.version, at: asked });
      // A Redis away is the lookups' problem (they miss): the version known here stays good.
      await this.opts.redis
        ?.eval(RAISE_VERSION_SCRIPT, 1, versionKey(this.opts.keyPrefix, name), String(body.version))
        .catch(() => undefined);
    } catch (err) {
      // Unknown from now on: what depends on this subgraph is neither read from nor written to the cache.
      if (this.known.delete(name)) {
        this.opts.log.warn(
          { subgraph: name, err: (err as Error).message },
          'cache: no data version from this subgraph; its answers are not cached until it answers again',
        );
      }
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
