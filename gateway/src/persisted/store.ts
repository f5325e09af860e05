import type { GatewayDatabaseConfig } from '@civic/common/config';
import type { ClientDocument, PersistedDocument } from './documents';

/** A persisted document as stored: its client's, with when it was added (ISO 8601, UTC). */
export interface StoredDocument extends ClientDocument {
  addedAt: string;
}

/** What adding a client's documents changed. */
export interface AddResult {
  /** Ids stored for the first time for this client. */
  added: string[];
  /** Ids the client already had, whose name changed. */
  renamed: string[];
  /** Ids the client already had, as they were. */
  unchanged: string[];
}

/**
 * Where the documents of `npm run persisted:add` are kept: table `persisted_documents` in the gateway's own
 * database (the API keys' one: an embedded SQLite file or MySQL; gateway/src/persisted/sql-store.ts).
 */
export interface PersistedStore {
  /** Where it is, for messages (never a password). */
  readonly location: string;
  /** Adds documents for a client, in one transaction; adding one it has is no change (its name may change). */
  add(client: string, docs: readonly PersistedDocument[], at: string): Promise<AddResult>;
  /** A client's documents, or every client's, by client then name then id. */
  list(client?: string): Promise<StoredDocument[]>;
  /** Removes one of a client's documents, or all of them (no id): how many were removed. */
  remove(client: string, id?: string): Promise<number>;
  /**
   * A value that changes whenever a document is added, renamed or removed (the count and the latest addition):
   * what a gateway compares to know whether to read the documents again.
   */
  version(): Promise<string>;
  close(): Promise<void>;
}

/** Opens the gateway's database the configuration names, creating it (and the table) when missing. */
export async function openPersistedStore(config: GatewayDatabaseConfig): Promise<PersistedStore> {
  const { SqlPersistedStore } = await import('./sql-store');
  return SqlPersistedStore.open(config);
}
