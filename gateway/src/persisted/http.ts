import { PrefixingKeyValueCache, type KeyValueCache } from '@apollo/utils.keyvaluecache';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { REQUEST_ID_HEADER, requestContext } from '@civic/common/context';
import { logger } from '@civic/common/log';
import { openSharedStore, type SharedStore } from '../cache/store';
import { ExportError } from '../export/errors';
import { DOCUMENT_ID, sha256Hex } from './documents';
import { KnownDocuments, loadManifests, MANIFESTS_DIR, PersistedStoreUnavailableError } from './known';
import type { PersistedStore } from './store';

/** The default life of a document registered by automatic persisted queries (APQ_TTL_SECONDS): one day. */
export const DEFAULT_APQ_TTL_SECONDS = 86_400;

/** The bytes of the in-memory store made for automatic persisted queries when none is given: 16 MiB. */
export const DEFAULT_APQ_MEMORY_BYTES = 16 * 1024 * 1024;

/** The error codes of persisted queries, stable: clients act on them. */
export const PERSISTED_ERROR_CODES = [
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_HASH_MISMATCH',
  'PERSISTED_QUERY_VERSION_NOT_SUPPORTED',
  'PERSISTED_QUERY_REQUIRED',
] as const;

/** How the gateway serves persisted documents and automatic persisted queries (GatewayOptions.persisted). */
export interface PersistedOptions {
  /**
   * The documents of `npm run persisted:add` (the gateway's database); without it, only the built-in
   * manifests'. The gateway owns it: it closes it when it stops.
   */
  store?: PersistedStore;
  /** How long the documents read from `store` are trusted, in ms (default 5000). */
  refreshMs?: number;
  /** The built-in manifests (`<client>.json` each); default gateway/src/persisted/manifests. */
  manifestsDir?: string;
  /**
   * Automatic persisted queries (Apollo's protocol): where the documents clients register are kept, the shared
   * store of gateway/src/cache/store.ts (memory, or Redis so that replicas share them), under `keyPrefix`
   * (default `civic:`, then `apq:<sha256>`), for `ttlSeconds` (default APQ_TTL_SECONDS, one day). The gateway
   * closes it when it stops (closing a shared store twice is harmless). Default: an in-memory store of 16 MiB.
   * `false`: off (a request that registers one gets PERSISTED_QUERY_NOT_SUPPORTED; a hash of a persisted document
   * still works).
   */
  apq?: { store: SharedStore; keyPrefix?: string; ttlSeconds?: number } | false;
  /**
   * Safelist mode (PERSISTED_ONLY): only persisted documents run (by id, by hash, or by their exact text); any
   * other operation, an APQ registration and an export's own `query` are refused with PERSISTED_QUERY_REQUIRED.
   */
  only?: boolean;
  log?: Logger;
}

/** What the gateway wires in: see {@link persistedQueries}. */
export interface PersistedQueries {
  readonly documents: KnownDocuments;
  /** Apollo's own automatic persisted queries over the shared store (common/src/service.ts), or none (off). */
  readonly apollo?: { cache: KeyValueCache<string>; ttlSeconds: number };
  /** Runs before Apollo reads a request at `/graphql` and `/` (ServiceOptions.beforeGraphQL). */
  readonly middleware: RequestHandler;
  /**
   * The same checks for a POST's JSON body read without Express (common/src/front-graphql.ts): the body Apollo
   * runs (the middleware's, an id replaced by its document), or undefined when the middleware would refuse it or
   * fail (Express's path then answers it).
   */
  admits(body: Record<string, unknown>): Promise<Record<string, unknown> | undefined>;
  /** Throws an ExportError when an export asks for something safelist mode refuses (its own `query`). */
  checkExport(req: Request): Promise<void>;
  close(): Promise<void>;
}

/** A refusal of a request before Apollo sees it: its HTTP status, stable code and message. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const REQUIRED_MESSAGE =
  'This gateway runs persisted documents only (PERSISTED_ONLY): send the id of one of its documents ' +
  '(GET /graphql?id=<sha256>, or "documentId": "sha256:<sha256>"), not a GraphQL document';

/**
 * Persisted documents and automatic persisted queries at the gateway, in front of Apollo Server:
 *
 * - a request by id (`id=<sha256>` or `documentId=sha256:<sha256>`, in a GET's query string or a POST's body) is
 *   given the document of that id (a built-in manifest's or `persisted:add`'s), or refused with
 *   PERSISTED_QUERY_NOT_FOUND;
 * - an APQ request (`extensions.persistedQuery`) is checked first (version 1, a SHA-256 in hex, the hash of
 *   the query it comes with), so that Apollo never meets one it would answer with an uncoded error; a hash
 *   alone is looked up among the persisted documents, then among the registered ones; a hash with its query
 *   goes on to Apollo, which stores it in the shared store once it has parsed, validated and passed the limits;
 * - in safelist mode, anything else is refused with PERSISTED_QUERY_REQUIRED.
 *
 * A document found is put in the request as its `query`, so Apollo (limits, cost, cache, CSRF prevention) runs
 * it as if it had been sent.
 */
export async function persistedQueries(opts: PersistedOptions): Promise<PersistedQueries> {
  const log = opts.log ?? logger.child({ service: 'gateway', component: 'persisted' });
  const documents = new KnownDocuments({
    manifests: loadManifests(opts.manifestsDir ?? MANIFESTS_DIR),
    store: opts.store,
    refreshMs: opts.refreshMs,
    log,
  });
  // Read once now, so that the first requests are answered from memory (a failure is logged, and retried).
  if (opts.store) await documents.refresh();
  const only = opts.only ?? false;
  const apqConfig =
    opts.apq === false
      ? undefined
      : (opts.apq ?? { store: openSharedStore({ redisUrl: null, maxBytes: DEFAULT_APQ_MEMORY_BYTES, log }) });
  if (apqConfig) await connected(apqConfig.store, log);
  // Apollo prefixes its keys with `apq:` itself; ours come first, so deployments (and tests) sharing a Redis stay apart.
  const apqCache = apqConfig && new PrefixingKeyValueCache(apqConfig.store, apqConfig.keyPrefix ?? 'civic:');
  const ttlSeconds = (apqConfig && apqConfig.ttlSeconds) ?? DEFAULT_APQ_TTL_SECONDS;

  const resolve = async (input: Input | undefined): Promise<void> => {
    if (!input) return;
    const { query, extensions } = input;
    const id = documentIdOf(input.get('id'), input.get('documentId'));
    const persisted = extensions?.persistedQuery;
    const hasPersisted = persisted !== undefined && persisted !== null;
    if (id !== undefined) {
      if (query) throw badRequest('Send either the id of a persisted document or a query, not both');
      if (hasPersisted)
        throw badRequest('Send either the id of a persisted document or extensions.persistedQuery, not both');
      const doc = await documents.get(id);
      if (!doc) {
        throw new Refusal(
          400,
          'PERSISTED_QUERY_NOT_FOUND',
          `There is no persisted document with the id ${id}: its client must add it first (npm run persisted:add)`,
        );
      }
      return input.replace(doc.body);
    }
    if (hasPersisted) {
      const hash = apqHashOf(persisted);
      if (query) {
        const actual = sha256Hex(query);
        if (actual !== hash) {
          throw new Refusal(
            400,
            'PERSISTED_QUERY_HASH_MISMATCH',
            `extensions.persistedQuery.sha256Hash ${hash} is not the SHA-256 of the query sent (${actual})`,
          );
        }
        // A persisted document's own text: run it; nothing to register.
        if (await documents.get(hash)) return input.replace(query);
        if (only) {
          throw new Refusal(
            400,
            'PERSISTED_QUERY_REQUIRED',
            `${REQUIRED_MESSAGE}; automatic persisted queries cannot register new ones here`,
          );
        }
        // Left to Apollo, which registers it only once it has passed parsing, validation and the limits.
        return;
      }
      const doc = await documents.get(hash);
      if (doc) return input.replace(doc.body);
      const registered = !only && apqCache ? await apqCache.get(`apq:${hash}`) : undefined;
      if (registered !== undefined) return input.replace(registered);
      // Apollo's protocol: 200, so that the client sends the query with its hash next; never cached.
      throw new Refusal(
        200,
        'PERSISTED_QUERY_NOT_FOUND',
        only
          ? `The hash ${hash} is not one of this gateway's persisted documents, and it runs those only (PERSISTED_ONLY)`
          : `No document is registered under the hash ${hash}: send it again with its query`,
      );
    }
    if (only && query && !(await documents.get(sha256Hex(query)))) {
      throw new Refusal(400, 'PERSISTED_QUERY_REQUIRED', REQUIRED_MESSAGE);
    }
  };

  const middleware: RequestHandler = async (req: Request, res: Response, next: NextFunction) => {
    try {
      await resolve(readInput(req));
    } catch (err) {
      const requestId = requestContext(req).requestId;
      if (err instanceof Refusal) {
        log.info({ requestId, code: err.code }, 'persisted query refused');
        return refuse(res, requestId, err.status, err.code, err.message);
      }
      if (err instanceof PersistedStoreUnavailableError) {
        res.setHeader('retry-after', '5');
        return refuse(res, requestId, 503, 'SERVICE_UNAVAILABLE', err.message);
      }
      return next(err);
    }
    next();
  };

  return {
    documents,
    apollo: apqCache && !only ? { cache: apqCache, ttlSeconds } : undefined,
    middleware,
    async admits(body) {
      let run = body;
      try {
        await resolve(bodyInput(body, (next) => void (run = next)));
        return run;
      } catch {
        return undefined;
      }
    },
    async checkExport(req) {
      if (!only) return;
      const input = (req.method === 'POST' ? req.body : req.query) as Record<string, unknown> | undefined;
      const query = input && typeof input === 'object' ? input.query : undefined;
      if (query === undefined || query === null || query === '') return;
      if (typeof query === 'string' && (await documents.get(sha256Hex(query)))) return;
      throw new ExportError([
        {
          message:
            'This gateway runs persisted documents only (PERSISTED_ONLY): export a saved query by its "name", ' +
            'not a "query" of your own',
          extensions: { code: 'PERSISTED_QUERY_REQUIRED' },
        },
      ]);
    },
    async close() {
      await documents.close();
      await opts.store?.close();
      await apqConfig?.store.close();
    },
  };
}

/**
 * Waits (2 s at most) for a Redis store to be connected: until then every lookup misses and every registration is
 * lost, and the first clients would be told to send their queries again. A Redis still away after it is said once.
 */
async function connected(store: SharedStore, log: Logger): Promise<void> {
  const redis = store.redis;
  if (!redis || redis.status === 'ready') return;
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 2000);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  if (!ready) log.warn('automatic persisted queries: Redis is not reachable yet; hashes miss until it is');
}

/** A request's GraphQL parameters, as Apollo will read them, and a way to put a document in their place. */
interface Input {
  query: string | undefined;
  extensions: Record<string, unknown> | undefined;
  get(name: string): unknown;
  /** Puts `query` in the request, without its id and its `persistedQuery` extension. */
  replace(query: string): void;
}

/**
 * The parameters of a GET (its query string, as Apollo reads it) or of a POST (its JSON body, an object), or
 * undefined when there are none: no query string, or a body that is not an object (a batch), which Apollo
 * refuses by itself.
 */
function readInput(req: Request): Input | undefined {
  if (req.method === 'GET' || req.method === 'HEAD') {
    const at = req.url.indexOf('?');
    if (at < 0) return undefined;
    const params = new URLSearchParams(req.url.slice(at + 1));
    let extensions: unknown;
    try {
      extensions = JSON.parse(params.get('extensions') ?? 'null');
    } catch {
      // Apollo refuses the request (its extensions are not JSON); the rest is still checked here.
    }
    const ext = isObject(extensions) ? extensions : undefined;
    return {
      query: params.get('query') || undefined,
      extensions: ext,
      get: (name) => params.get(name) ?? undefined,
      replace(query) {
        params.delete('id');
        params.delete('documentId');
        params.set('query', query);
        const rest = withoutPersisted(ext);
        if (rest) params.set('extensions', JSON.stringify(rest));
        else params.delete('extensions');
        req.url = `${req.url.slice(0, at)}?${params.toString()}`;
      },
    };
  }
  const body: unknown = req.body;
  return isObject(body) ? bodyInput(body, (next) => void (req.body = next)) : undefined;
}

/** The parameters of a POST's JSON body; `put` puts the body to run in its place. */
function bodyInput(body: Record<string, unknown>, put: (body: Record<string, unknown>) => void): Input {
  // Extensions that are not an object are Apollo's to refuse; the rest is still checked here.
  const extensions = isObject(body.extensions) ? body.extensions : undefined;
  const query = typeof body.query === 'string' && body.query !== '' ? body.query : undefined;
  return {
    query,
    extensions,
    get: (name) => (Object.hasOwn(body, name) ? body[name] : undefined),
    replace(query) {
      const { id: _id, documentId: _documentId, extensions: _extensions, ...rest } = body;
      const others = withoutPersisted(extensions);
      put({ ...rest, query, ...(others ? { extensions: others } : {}) });
    },
  };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `extensions` without `persistedQuery`; undefined when nothing is left. */
function withoutPersisted(extensions: Record<string, unknown> | undefined) {
  if (!extensions) return undefined;
  const { persistedQuery: _pq, ...rest } = extensions;
  return Object.keys(rest).length ? rest : undefined;
}

/**
 * The id a request names, lowercase: `id` (Relay's and this gateway's URLs) or `documentId` (GraphQL over HTTP's
 * persisted documents), each either 64 hex digits or `sha256:` and 64 hex digits; undefined when it names none.
 */
function documentIdOf(id: unknown, documentId: unknown): string | undefined {
  const read = (value: unknown, field: string): string | undefined => {
    if (value === undefined || value === null) return undefined;
    const text = typeof value === 'string' ? value.replace(/^sha256:/, '') : undefined;
    if (text === undefined || !DOCUMENT_ID.test(text)) {
      throw badRequest(
        `"${field}" must be a persisted document's id: its SHA-256 as 64 hex digits, or "sha256:" and them`,
      );
    }
    return text.toLowerCase();
  };
  const a = read(id, 'id');
  const b = read(documentId, 'documentId');
  if (a && b && a !== b) throw badRequest('"id" and "documentId" name two different documents: send one');
  return a ?? b;
}

/** The hash of a well-formed `extensions.persistedQuery` (version 1); refuses any other. */
function apqHashOf(persisted: unknown): string {
  if (!isObject(persisted)) {
    throw badRequest(
      'extensions.persistedQuery must be an object: { "version": 1, "sha256Hash": "<sha256>" }',
    );
  }
  if (persisted.version !== 1) {
    throw new Refusal(
      400,
      'PERSISTED_QUERY_VERSION_NOT_SUPPORTED',
      `extensions.persistedQuery.version ${JSON.stringify(persisted.version)?.slice(0, 40) ?? 'is missing'}: only version 1 of automatic persisted queries is supported`,
    );
  }
  const hash = persisted.sha256Hash;
  // Lowercase only, as Apollo's clients send it and Apollo compares it when it registers the query.
  if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) {
    throw badRequest(
      'extensions.persistedQuery.sha256Hash must be the SHA-256 of the query, as 64 lowercase hex digits',
    );
  }
  return hash;
}

const badRequest = (message: string) => new Refusal(400, 'BAD_REQUEST', message);

/** Answers a refused request as a GraphQL error, never cached (a document may be added a second later). */
function refuse(res: Response, requestId: string, status: number, code: string, message: string): void {
  res.setHeader(REQUEST_ID_HEADER, requestId);
  res.setHeader('cache-control', status === 200 ? 'private, no-cache, must-revalidate' : 'no-store');
  res.status(status).json({ errors: [{ message, extensions: { code } }] });
}
