import { createHash } from 'node:crypto';
import type { RegistryConfig } from '@civic/common/config';

/** One published version of a partner subgraph: what was published, where it is served from, by whom. */
export interface RegistryVersion {
  /** 1, 2, 3... per subgraph. */
  version: number;
  sdl: string;
  /** sha256 of `sdl`, hex: how "the same SDL again" is recognised. */
  sdlHash: string;
  /** The routing URL the gateway calls for this version. */
  url: string;
  /** Who the subgraph belongs to (a team, an organization), as given to `--owner`. */
  owner: string | null;
  /** The gateway's timeout for calls to it, ms; null: the gateway's default (SUBGRAPH_TIMEOUT_MS). */
  timeoutMs: number | null;
  /** ISO 8601, UTC. */
  publishedAt: string;
  /** The operating-system user (or CI) that ran the publish command. */
  publishedBy: string | null;
}

/** A partner subgraph in the registry: its current version, and every version it has had. */
export interface RegistryEntry extends RegistryVersion {
  name: string;
  /** Oldest first; the last one is the current one (the fields of the entry itself). */
  versions: RegistryVersion[];
}

/** What a publisher hands to {@link RegistryStore.put}: the next version's content (the store numbers it). */
export type NewVersion = Omit<RegistryVersion, 'version' | 'sdlHash'> & { name: string };

/**
 * Where partner subgraphs are recorded. Two backends behave the same: {@link DirectoryStore} (one JSON
 * document per subgraph) and {@link MysqlStore} (tables `registry_subgraphs` and `registry_versions`). Our own
 * subgraphs are never stored: they come from the running code (schema/*.graphql) and config.
 */
export interface RegistryStore {
  /** Where it is, for messages (never a password). */
  readonly location: string;
  /**
   * A cheap token that changes whenever anything is published or removed (the gateway polls it, and reads
   * the entries only when it changed).
   */
  revision(): Promise<string>;
  /** Every partner subgraph, by name, with its history. */
  list(): Promise<RegistryEntry[]>;
  /**
   * Runs `fn` holding the registry's lock, so that concurrent publishers are serialized: what one checks
   * against is what it writes over. Waits (up to 30 s) for another holder.
   */
  withLock<T>(fn: () => Promise<T>): Promise<T>;
  /** Records the next version of a subgraph (under {@link withLock}); returns the entry as it now is. */
  put(next: NewVersion): Promise<RegistryEntry>;
  /** Forgets a subgraph and its history (under {@link withLock}); false when there was none of that name. */
  remove(name: string): Promise<boolean>;
  close(): Promise<void>;
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** How long a publisher waits for another one to release the registry. */
export const LOCK_WAIT_MS = 30_000;

/** A partner subgraph's name: also its environment suffix (SUBGRAPH_SECRET_<NAME>) and a file name. */
export const SUBGRAPH_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** Opens the registry the configuration names (creating its directory, or its database and tables). */
export async function openRegistryStore(config: RegistryConfig): Promise<RegistryStore> {
  if (config.type === 'mysql') {
    const { MysqlStore } = await import('./mysql-store');
    return MysqlStore.open(config.url, config.database);
  }
  const { DirectoryStore } = await import('./directory-store');
  return DirectoryStore.open(config.dir);
}
