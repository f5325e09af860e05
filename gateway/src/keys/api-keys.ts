import type { Logger } from 'pino';
import { newKey, parseKey, secretMatches } from './key';
import { infoOf, type ApiKeyInfo, type KeyStore, type StoredKey } from './store';

/** The largest quota a key may be given: far above any real need, and exact as a JavaScript number. */
export const MAX_QUOTA = 1_000_000_000_000;

/** What `npm run keys -- create` asks for. */
export interface NewKeyRequest {
  name: string;
  costPerMinute: number;
  /** Rows per minute; omitted or null: EXPORT_KEY_ROWS_PER_MINUTE. */
  exportRowsPerMinute?: number | null;
}

/** A refusal of a command on keys that its caller can fix (a bad name or quota, an unknown id). */
export class KeyCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyCommandError';
  }
}

/**
 * Creates a key: stores its id, name, quotas and the SHA-256 of its secret, and returns the whole key, which
 * is never stored nor shown again.
 */
export async function createKey(
  store: KeyStore,
  request: NewKeyRequest,
  now = new Date(),
): Promise<{ key: string; info: ApiKeyInfo }> {
  const name = request.name.trim();
  if (!name || name.length > 255) throw new KeyCommandError('--name: expected 1 to 255 characters');
  const quota = (flag: string, value: number) => {
    if (!Number.isSafeInteger(value) || value < 1 || value > MAX_QUOTA) {
      throw new KeyCommandError(`${flag} ${value}: expected a whole number from 1 to ${MAX_QUOTA}`);
    }
    return value;
  };
  const generated = newKey();
  const stored: StoredKey = {
    id: generated.id,
    name,
    secretSha256: generated.secretSha256,
    costPerMinute: quota('--cost-per-minute', request.costPerMinute),
    exportRowsPerMinute:
      request.exportRowsPerMinute == null ? null : quota('--export-rows', request.exportRowsPerMinute),
    createdAt: now.toISOString(),
    revokedAt: null,
  };
  await store.insert(stored);
  return { key: generated.key, info: infoOf(stored) };
}

/** Revokes a key; refuses (KeyCommandError) an id that names none. Revoking a revoked key changes nothing. */
export async function revokeKey(
  store: KeyStore,
  id: string,
  now = new Date(),
): Promise<{ info: ApiKeyInfo; already: boolean }> {
  const before = await store.get(id);
  if (!before)
    throw new KeyCommandError(`There is no API key with the id "${id}" (see npm run keys -- list)`);
  if (before.revokedAt) return { info: infoOf(before), already: true };
  const info = await store.revoke(id, now.toISOString());
  return { info: info!, already: false };
}

/** Why a key sent with a request was refused: said to the client (401), never with the key itself. */
export type InvalidKeyReason = 'malformed' | 'unknown' | 'revoked' | 'conflicting';

/** A request's API key was refused: 401 INVALID_API_KEY, with a message that names what was wrong. */
export class InvalidApiKeyError extends Error {
  constructor(
    readonly reason: InvalidKeyReason,
    message: string,
    /** The key's public id, when the key had the shape of one: for the logs. */
    readonly keyId?: string,
  ) {
    super(message);
    this.name = 'InvalidApiKeyError';
  }
}

/** The key store could not be read and no earlier answer for this key is at hand: 503. */
export class KeyStoreUnavailableError extends Error {
  constructor() {
    super('API keys cannot be checked right now: try again shortly');
    this.name = 'KeyStoreUnavailableError';
  }
}

/** How {@link ApiKeys} caches what it reads. */
export interface ApiKeysOptions {
  /**
   * How long a key read from the store is trusted, in ms (default 30,000): a revoked key keeps working for at
   * most this long on each gateway replica; a created key works at once.
   */
  ttlMs?: number;
  /** The most keys kept (default 10,000): requests with random ids cannot grow the cache past it. */
  maxEntries?: number;
  /** Where a store failure is reported. */
  log?: Logger;
}

interface Entry {
  /** When the answer stops being trusted (ms since the epoch). */
  expires: number;
  /** The answer, once read: the key, or null when the store has none of that id. */
  value?: StoredKey | null;
  /** The read under way: concurrent requests with the same key share it. */
  pending?: Promise<StoredKey | null>;
}

/**
 * Checks the API keys that requests carry, against the store, through a small cache: each key id is read from
 * the store at most once per `ttlMs` per gateway process (unknown ids too, so a flood of made-up keys costs one
 * read each at most once per `ttlMs`), so a request with a key costs no database round trip. When the store
 * fails, a key read before (even longer ago than `ttlMs`) is still trusted; one never read gets 503.
 */
export class ApiKeys {
  private readonly cache = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(
    private readonly store: KeyStore,
    private readonly opts: ApiKeysOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
  }

  /**
   * The key's info when `presented` is a valid key; throws {@link InvalidApiKeyError} when it is malformed,
   * unknown (or its secret is wrong) or revoked, {@link KeyStoreUnavailableError} when it cannot be checked.
   */
  async authenticate(presented: string): Promise<ApiKeyInfo> {
    const parsed = parseKey(presented);
    if (!parsed) {
      throw new InvalidApiKeyError(
        'malformed',
        'The API key is malformed: expected the whole key as `npm run keys -- create` printed it (cg_<id>_<secret>)',
      );
    }
    const key = await this.read(parsed.id);
    // The same answer for an id that does not exist and a secret that does not match: either way the key sent
    // is not one that was ever given out.
    if (!key || !secretMatches(parsed.secret, key.secretSha256)) {
      throw new InvalidApiKeyError(
        'unknown',
        `The API key ${parsed.id} is not known to this gateway`,
        parsed.id,
      );
    }
    if (key.revokedAt) {
      throw new InvalidApiKeyError(
        'revoked',
        `The API key ${parsed.id} was revoked on ${key.revokedAt}: ask for a new one`,
        parsed.id,
      );
    }
    return infoOf(key);
  }

  private async read(id: string): Promise<StoredKey | null> {
    const now = Date.now();
    const cached = this.cache.get(id);
    if (cached && cached.expires > now && cached.value !== undefined) return cached.value;
    if (cached?.pending) return cached.pending;
    const entry: Entry = { expires: now + this.ttlMs, value: cached?.value };
    const pending = this.store.get(id).then(
      (value) => {
        entry.value = value;
        entry.pending = undefined;
        return value;
      },
      (err: unknown) => {
        entry.pending = undefined;
        this.opts.log?.error({ keyId: id, err: String(err) }, 'API keys: the key store could not be read');
        // A key known before still works while the store is away; an answer never read cannot be given.
        if (entry.value !== undefined) return entry.value;
        this.cache.delete(id);
        throw new KeyStoreUnavailableError();
      },
    );
    entry.pending = pending;
    this.cache.delete(id);
    this.cache.set(id, entry);
    // Oldest first (a Map keeps insertion order, and an entry is re-inserted when read again from the store).
    while (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    return pending;
  }
}
