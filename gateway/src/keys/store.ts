import type { GatewayDatabaseConfig } from '@civic/common/config';

/** An API key as listed: everything but its secret. */
export interface ApiKeyInfo {
  /** `cg_` and 8 letters: public, the key's name in lists, logs and rate limits. */
  id: string;
  /** Who holds it (a partner platform, a newsroom's dashboard), as given to `--name`. */
  name: string;
  /** The cost (as MAX_COST counts it) its holder may spend per minute, instead of RATE_LIMIT_COST_PER_MINUTE. */
  costPerMinute: number;
  /** Rows its holder may export per minute; null: EXPORT_KEY_ROWS_PER_MINUTE. */
  exportRowsPerMinute: number | null;
  /** ISO 8601, UTC. */
  createdAt: string;
  /** ISO 8601, UTC; null while the key is valid. */
  revokedAt: string | null;
}

/** An API key as stored: its info and the SHA-256 of its secret (never the secret). */
export interface StoredKey extends ApiKeyInfo {
  secretSha256: string;
}

/**
 * Where the gateway keeps its API keys: table `api_keys` in the gateway's own database, an embedded SQLite file
 * or MySQL (gateway/src/keys/sql-store.ts); both behave the same.
 */
export interface KeyStore {
  /** Where it is, for messages (never a password). */
  readonly location: string;
  insert(key: StoredKey): Promise<void>;
  /** The key of that id, revoked or not; null when there is none. */
  get(id: string): Promise<StoredKey | null>;
  /** Every key, oldest first, without their hashes. */
  list(): Promise<ApiKeyInfo[]>;
  /**
   * Marks the key revoked at `at` (ISO 8601) unless it already is; returns it as it now is, or null when there
   * is no key of that id.
   */
  revoke(id: string, at: string): Promise<ApiKeyInfo | null>;
  close(): Promise<void>;
}

/** Opens the gateway's database the configuration names, creating it (and its table) when missing. */
export async function openKeyStore(config: GatewayDatabaseConfig): Promise<KeyStore> {
  const { SqlKeyStore } = await import('./sql-store');
  return SqlKeyStore.open(config);
}

/** A row of `api_keys` (both backends name the columns alike) as a {@link StoredKey}. */
export interface KeyRow {
  id: string;
  name: string;
  secret_sha256: string;
  cost_per_minute: number | string;
  export_rows_per_minute: number | string | null;
  created_at: string;
  revoked_at: string | null;
}

/** The columns of `api_keys` listed in every SELECT: never `*`, so that nothing unexpected is read. */
export const KEY_COLUMNS =
  'id, name, secret_sha256, cost_per_minute, export_rows_per_minute, created_at, revoked_at';

export function keyOf(row: KeyRow, iso: (stored: string) => string): StoredKey {
  return {
    id: row.id,
    name: row.name,
    secretSha256: row.secret_sha256,
    costPerMinute: Number(row.cost_per_minute),
    exportRowsPerMinute: row.export_rows_per_minute === null ? null : Number(row.export_rows_per_minute),
    createdAt: iso(row.created_at),
    revokedAt: row.revoked_at === null ? null : iso(row.revoked_at),
  };
}

/** A key's info: what may be shown (the hash is dropped). */
export function infoOf(key: StoredKey): ApiKeyInfo {
  const { secretSha256: _hash, ...info } = key;
  return info;
}
