import { createHash } from 'node:crypto';
import type { Experimental_DidResolveQueryPlanCallback } from '@apollo/gateway';
import { HeaderMap, type ApolloServerPlugin, type GraphQLRequestContext } from '@apollo/server';
import { DEFAULT_CACHE_PREFIX } from '@civic/common/data-version';
import type { RequestContext } from '@civic/common/context';
import { negotiateLanguages } from '@civic/common/language';
import { operationCost } from '@civic/common/limits/cost';
import { printSchema, type GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import { openSharedStore, type SharedStore } from './store';
import { DataVersions, type VersionSnapshot } from './versions';
import { sharedAnswer } from '../coalesce';

/** How the gateway caches whole answers (GatewayOptions.responseCache; config RESPONSE_CACHE...). */
export interface ResponseCacheOptions {
  /** `off`: nothing is kept (the HTTP headers are still set); `memory`: this process; `redis`: shared. */
  mode: 'off' | 'memory' | 'redis';
  /** The Redis of `redis` mode. */
  redisUrl?: string | null;
  /** The most bytes the memory LRU holds; default 64 MiB. */
  maxBytes?: number;
  /** How often each subgraph's data version is polled, in ms; default 250. */
  pollMs?: number;
  /** The most `max-age` a GET answer announces to browsers and CDNs, in seconds; default 60. */
  httpMaxAge?: number;
  /**
   * Answer current cached answers as requests arrive, before Express and Apollo (gateway/src/cache/early.ts);
   * default true. False: every hit goes through Apollo's pipeline (the same answer, at about 3× the CPU).
   */
  early?: boolean;
  /**
   * The prefix of every key in Redis (answers and data versions); default `civic:cache`. The writers publish
   * versions under the same prefix (common/src/data-version.ts publishDataVersionsTo).
   */
  keyPrefix?: string;
  /** Where the counters are kept (a /metrics route reads them); default a new object. */
  stats?: ResponseCacheStats;
  /**
   * The subgraphs that keep a data version (serve `/data-version`); default every one the gateway is given a URL
   * for. Any other (a partner) has its answers kept only as long as its own Cache-Control says.
   */
  versioned?: readonly string[];
}

/** What the cache did, since the gateway started. */
export interface ResponseCacheStats {
  /** Answers served from the cache. */
  hits: number;
  /** Queries looked up and not found (or found for older data, or with a version unknown). */
  misses: number;
  /** Of the misses: an entry was found, of data that has changed since. */
  stale: number;
  /** Answers written to the cache. */
  writes: number;
  /** Operations never looked up: mutations, exports, RESPONSE_CACHE=off. */
  bypasses: number;
  /** Of the hits: those answered before Express and Apollo (gateway/src/cache/early.ts). */
  early: number;
}

export const newResponseCacheStats = (): ResponseCacheStats => ({
  hits: 0,
  misses: 0,
  stale: 0,
  writes: 0,
  bypasses: 0,
  early: 0,
});

/** The most `max-age` a GET answer announces to browsers and CDNs by default, in seconds. */
export const DEFAULT_HTTP_MAX_AGE = 60;

/** The response header saying what the cache did: HIT, MISS or BYPASS. */
export const CACHE_STATUS_HEADER = 'x-cache';

/** What is kept per answer: only what every client may see, never its cost or its rate limit. */
interface Entry {
  /** The answer's `data`. */
  d: unknown;
  /** Its cache policy (the lowest maxAge of what it holds). */
  p: { maxAge: number; scope: 'PUBLIC' | 'PRIVATE' };
  /** The data versions of our subgraphs it was computed from (those its query plan calls). */
  v: Record<string, number>;
  /** Its entity tag: over `data` only. */
  e: string;
  /** The operation's cost with its variables (common/src/limits/cost.ts): what a hit spends from a budget. */
  c?: number;
  /** The operation's name as the metrics label it (its resolved name), null when anonymous. */
  n?: string | null;
}

/** What a request sends that keys an answer, read from HTTP before Apollo parses anything. */
export interface EarlyRequest {
  query: string;
  operationName: string | null;
  variables: Record<string, unknown>;
  acceptLanguage: string | null;
}

/** An entry as last read from the store: its text, parsed, and (once an early hit needs it) what it answers. */
interface Memo {
  raw: string;
  entry: Entry | undefined;
  hit?: EarlyHit;
}

/** An answer found for an {@link EarlyRequest}: what the gateway needs to send it without Apollo. */
export interface EarlyHit {
  /** The answer's `data`, as JSON text. */
  data: string;
  policy: Entry['p'];
  etag: string;
  cost: number;
  operationName: string | null;
}

/** The response cache as the gateway wires it: a plugin, the planner's hook, the counters, and close. */
export interface ResponseCache {
  readonly mode: ResponseCacheOptions['mode'];
  readonly plugin: ApolloServerPlugin<RequestContext>;
  /** Hand it to ApolloGateway (`experimental_didResolveQueryPlan`): it records which subgraphs a plan calls. */
  readonly didResolveQueryPlan: Experimental_DidResolveQueryPlanCallback;
  readonly stats: ResponseCacheStats;
  /** The store answers are kept in (undefined when off), shared with what else the gateway keeps. */
  readonly store?: SharedStore;
  /** The data versions as this gateway knows them (undefined when off). */
  readonly versions?: DataVersions;
  /**
   * The key of a request's answer, from the request alone (see {@link findEarly}); undefined before the
   * supergraph is loaded. `schema` is the supergraph it is for: a key is good while {@link currentSchemaId} is it.
   */
  earlyKey(request: EarlyRequest): { key: string; schema: string } | undefined;
  /** The supergraph early keys are made for now (undefined before one is loaded). */
  currentSchemaId(): string | undefined;
  /**
   * Looks an answer up by an {@link earlyKey}, before Apollo's pipeline (gateway/src/cache/early.ts): found only
   * when an entry exists under it, its data is current, and it was written with its cost. The same object for
   * the same stored entry, while it is among the last used. Counts nothing: the caller counts the hit it
   * answers, and anything else goes to Apollo's path, which looks it up again and counts what it finds.
   */
  findEarly(key: string): Promise<EarlyHit | undefined>;
  /** Hand it to `ApolloGateway.onSchemaLoadOrUpdate`: the supergraph that early lookups key on. */
  schemaLoaded(apiSchema: GraphQLSchema): void;
  close(): Promise<void>;
}

/**
 * The gateway's response cache (issue 11). Whole answers of queries are kept, keyed by the document, the
 * operation name, the variables, the negotiated languages and the supergraph, and valid while the data
 * versions of the subgraphs their query plan calls are unchanged (common/src/data-version.ts): a write to a
 * subgraph makes every answer that read it unreachable, on every replica, at once in Redis mode and within one
 * poll interval in memory mode. An answer is kept for the lowest `@cacheControl(maxAge)` of what it holds
 * (the subgraphs send it as Cache-Control, the gateway's data sources restrict the policy with it); one holding
 * a type or field without a hint (a partner's, a search highlight) is not kept at all. Neither are answers
 * with errors, mutations, and the pages of exports.
 *
 * Not Apollo's `@apollo/server-plugin-response-cache`, though it follows its design (same hooks, same
 * policy, only `data` stored): its key must be complete before execution, so it could only carry the versions
 * of every subgraph, and its entry cannot hold the versions an answer was computed from, nor an entity tag.
 *
 * HTTP: a cacheable GET answer gets `Cache-Control: public, max-age=<policy, at most httpMaxAge>`, `Vary:
 * Accept-Language` and a weak ETag over its `data` (Express answers 304 to a matching If-None-Match); every other
 * answer gets `no-store`. The cost a client spent (`extensions.cost`, the RateLimit headers) is never stored:
 * the limits plugin adds it to each answer, hit or miss, after the cache has answered.
 */
export function createResponseCache(opts: {
  options: ResponseCacheOptions;
  /** Our subgraphs, which keep a data version. */
  subgraphUrls: Readonly<Record<string, string>>;
  log: Logger;
}): ResponseCache {
  const o = opts.options;
  const stats = o.stats ?? newResponseCacheStats();
  const httpMaxAge = o.httpMaxAge ?? DEFAULT_HTTP_MAX_AGE;
  const prefix = o.keyPrefix ?? DEFAULT_CACHE_PREFIX;
  const storing = o.mode !== 'off';
  if (o.mode === 'redis' && !o.redisUrl) {
    throw new Error('responseCache: mode "redis" needs a redisUrl (REDIS_URL)');
  }
  const store = storing
    ? openSharedStore({
        redisUrl: o.mode === 'redis' ? o.redisUrl : null,
        maxBytes: o.maxBytes ?? 64 * 1024 * 1024,
        log: opts.log,
      })
    : undefined;
  const ours = new Set(o.versioned ?? Object.keys(opts.subgraphUrls));
  const versions = storing
    ? new DataVersions({
        subgraphUrls: Object.fromEntries(Object.entries(opts.subgraphUrls).filter(([n]) => ours.has(n))),
        pollMs: o.pollMs ?? 250,
        redis: store?.redis,
        keyPrefix: prefix,
        log: opts.log,
      })
    : undefined;

  // The subgraphs each operation's plan calls, by the operation's context value (Apollo hands the same object to
  // the plugins and to the gateway's executor).
  const planned = new WeakMap<object, readonly string[]>();
  const servicesOfPlan = new WeakMap<object, readonly string[]>();
  const didResolveQueryPlan: Experimental_DidResolveQueryPlanCallback = ({ queryPlan, requestContext }) => {
    let services = servicesOfPlan.get(queryPlan);
    if (!services) servicesOfPlan.set(queryPlan, (services = [...fetchedServices(queryPlan.node)]));
    if (requestContext.context) planned.set(requestContext.context, services);
  };

  // The last entries parsed, by key: a hit on a hot answer is not parsed again while its stored text is the same
  // (its data is only read: each response is serialized from it). Bounded: 256 entries of at most 64 Ki
  // characters (32 MiB at worst).
  // An early hit (findEarly) also keeps its data serialized, so a hot answer is not serialized again either.
  const recent = new Map<string, Memo>();
  const memoOf = (key: string, raw: string): Memo => {
    const memo = recent.get(key);
    if (memo && memo.raw === raw) return memo;
    const fresh: Memo = { raw, entry: parseEntry(raw) };
    if (raw.length > 65_536) return fresh;
    recent.delete(key);
    if (recent.size >= 256) recent.delete(recent.keys().next().value!);
    recent.set(key, fresh);
    return fresh;
  };
  const parsed = (key: string, raw: string): Entry | undefined => memoOf(key, raw).entry;

  /** Both lookups in one round trip to Redis; from memory, the polled versions. */
  async function lookup(key: string): Promise<{ versions: VersionSnapshot; raw: string | undefined }> {
    const redis = store!.redis;
    if (!redis) return { versions: versions!.polled(), raw: await store!.get(key) };
    try {
      const replies = await redis
        .pipeline()
        .mget(...versions!.redisKeys)
        .get(key)
        .exec();
      if (!replies || replies.some(([err]) => err)) throw new Error('Redis refused the lookup');
      return {
        versions: versions!.fromRedis(replies[0][1] as (string | null)[]),
        raw: (replies[1][1] as string | null) ?? undefined,
      };
    } catch {
      // Redis away: nothing is known, so nothing is read or written (the store logs the outage once).
      return { versions: Object.fromEntries([...ours].map((n) => [n, null])), raw: undefined };
    }
  }

  const plugin: ApolloServerPlugin<RequestContext> = {
    async requestDidStart({ request, contextValue }) {
      const http = request.http;
      // /graphql's requests: a POST, or a GET with the operation in its query string. An export's pages run
      // through executeOperation presented as a GET with no query string (gateway/src/export/http.ts).
      const viaGraphQL = !!http && (http.method === 'POST' || (http.method === 'GET' && http.search !== ''));
      let status: 'HIT' | 'MISS' | 'BYPASS' | undefined;
      let key: string | undefined;
      let snapshot: VersionSnapshot | undefined;
      let etag: string | undefined;
      return {
        async responseForOperation(rc) {
          if (!storing || !viaGraphQL || rc.operation?.operation !== 'query') {
            status = 'BYPASS';
            stats.bypasses++;
            return null;
          }
          key = `${prefix}:r:${cacheKey(schemaId(rc.schema), rc.source!, rc.request.operationName, rc.request.variables, contextValue.acceptLanguage)}`;
          const found = await lookup(key);
          snapshot = found.versions;
          const entry = found.raw === undefined ? undefined : parsed(key, found.raw);
          if (entry) {
            const current = Object.entries(entry.v).every(([name, v]) => snapshot![name] === v);
            if (current) {
              status = 'HIT';
              stats.hits++;
              etag = entry.e;
              rc.overallCachePolicy.replace(entry.p);
              return {
                http: { status: undefined, headers: new HeaderMap() },
                body: { kind: 'single', singleResult: { data: entry.d as Record<string, unknown> } },
              };
            }
            stats.stale++;
          }
          status = 'MISS';
          stats.misses++;
          return null;
        },

        async willSendResponse(rc) {
          const { response } = rc;
          const headers = response.http.headers;
          if (status) headers.set(CACHE_STATUS_HEADER, status);
          const single = response.body.kind === 'single' ? response.body.singleResult : undefined;
          const policy = rc.overallCachePolicy.policyIfCacheable();
          // An answer whose values could not all be completed (extensions.valueCompletion) is not kept either.
          const cacheable =
            !!single &&
            single.data != null &&
            !single.errors &&
            !single.extensions?.valueCompletion &&
            policy?.scope === 'PUBLIC';
          const method = rc.request.http?.method;
          if (cacheable && (method === 'GET' || method === 'HEAD')) {
            etag ??= entityTag(single!.data);
            headers.set('cache-control', `public, max-age=${Math.min(policy!.maxAge, httpMaxAge)}`);
            headers.set('etag', etag);
            const vary = headers.get('vary');
            if (!vary || !/accept-language/i.test(vary)) {
              headers.set('vary', vary ? `${vary}, Accept-Language` : 'Accept-Language');
            }
          } else {
            // A POST is never stored by an HTTP cache, and an answer that is not cacheable must not be either.
            headers.set('cache-control', 'no-store');
          }
          if (status !== 'MISS' || !cacheable || !key || !snapshot) return;
          // An answer shared from an identical query's execution (gateway/src/coalesce.ts) began before this
          // request read the versions: it may predate them, so it is not kept (the executing request keeps its own).
          if (sharedAnswer(rc.contextValue)) return;
          // The versions of the subgraphs this answer read, as they were before it was computed: data written
          // since then gets a newer version, so an answer mixing old and new data is never taken for the new.
          const v: Record<string, number> = {};
          for (const name of planned.get(rc.contextValue) ?? [...ours]) {
            if (!ours.has(name)) continue; // A partner's answer is bounded by its own maxAge (the policy's).
            const version = snapshot[name];
            if (version === null || version === undefined) return;
            v[name] = version;
          }
          const entry: Entry = {
            d: single!.data,
            p: policy!,
            v,
            e: etag ?? entityTag(single!.data),
            c: costOf(rc),
            n: rc.operationName ?? null,
          };
          stats.writes++;
          // In the background: the client does not wait for the store (a failure is a miss next time).
          void store!.set(key, JSON.stringify(entry), { ttl: policy!.maxAge }).catch(() => undefined);
        },
      };
    },
  };

  let currentSchema: string | undefined;
  const earlyKey = (r: EarlyRequest) =>
    storing && currentSchema
      ? {
          key: `${prefix}:r:${cacheKey(currentSchema, r.query, r.operationName, r.variables, r.acceptLanguage)}`,
          schema: currentSchema,
        }
      : undefined;
  async function findEarly(key: string): Promise<EarlyHit | undefined> {
    if (!storing) return undefined;
    const found = await lookup(key);
    if (found.raw === undefined) return undefined;
    const memo = memoOf(key, found.raw);
    const entry = memo.entry;
    if (!entry || entry.c === undefined || entry.n === undefined) return undefined;
    for (const name in entry.v) if (found.versions[name] !== entry.v[name]) return undefined;
    return (memo.hit ??= {
      data: JSON.stringify(entry.d),
      policy: entry.p,
      etag: entry.e,
      cost: entry.c,
      operationName: entry.n,
    });
  }

  return {
    mode: o.mode,
    plugin,
    didResolveQueryPlan,
    stats,
    store,
    versions,
    earlyKey,
    currentSchemaId: () => currentSchema,
    findEarly,
    schemaLoaded: (apiSchema) => void (currentSchema = schemaId(apiSchema)),
    close: async () => {
      versions?.stop();
      await store?.close();
    },
  };
}

/** The services of a query plan's fetches, however nested (sequence, parallel, flatten, defer, condition). */
function* fetchedServices(node: unknown, seen = new Set<string>()): Generator<string> {
  if (!node || typeof node !== 'object') return;
  const n = node as Record<string, unknown>;
  if (n.kind === 'Fetch' && typeof n.serviceName === 'string') {
    if (!seen.has(n.serviceName)) {
      seen.add(n.serviceName);
      yield n.serviceName;
    }
    return;
  }
  for (const child of [n.node, n.primary, n.ifClause, n.elseClause, n.rest, n.nodes, n.deferred]) {
    if (Array.isArray(child)) for (const c of child) yield* fetchedServices(c, seen);
    else yield* fetchedServices(child, seen);
  }
}

const schemaIds = new WeakMap<GraphQLSchema, string>();

/** A supergraph's identity: the same on every replica serving it, another once a partner is published. */
function schemaId(schema: GraphQLSchema): string {
  let id = schemaIds.get(schema);
  if (!id) schemaIds.set(schema, (id = sha256(printSchema(schema)).slice(0, 16)));
  return id;
}

/**
 * What the answer depends on besides the data: the supergraph, the document, the operation name and variables the
 * client sent, and the languages it asked for (Accept-Language, as negotiated: `fr-FR,fr;q=0.9` and `fr` are one
 * key; the fallback order is each subgraph's configuration). Not the client or its API key: no resolver reads
 * them. All of it is known from the request alone, so a hit can be found before Apollo parses anything.
 */
function cacheKey(
  schema: string,
  source: string,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | undefined,
  acceptLanguage: string | null,
): string {
  return sha256(
    JSON.stringify([
      schema,
      source,
      operationName ?? null,
      variables ?? {},
      negotiateLanguages(acceptLanguage, []),
    ]),
  );
}

/** The operation's cost, as the limits plugin computed it (remembered per schema, document and variables). */
function costOf(rc: GraphQLRequestContext<RequestContext>): number | undefined {
  if (!rc.document) return undefined;
  try {
    return operationCost(rc.schema, rc.document, rc.request.variables, rc.operationName ?? undefined);
  } catch {
    return undefined;
  }
}

function parseEntry(raw: string): Entry | undefined {
  try {
    return JSON.parse(raw) as Entry;
  } catch {
    return undefined;
  }
}

/** A weak entity tag over the answer's data: the body's other parts (the cost a client spent) vary per request. */
const entityTag = (data: unknown) =>
  `W/"${createHash('sha1').update(JSON.stringify(data)).digest('base64url')}"`;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
