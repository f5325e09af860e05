import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Logger } from 'pino';
import { CLIENT_NAME, PersistedDocumentError, readManifest, type ClientDocument } from './documents';
import type { PersistedStore } from './store';

/** The built-in manifests: `<client>.json` each, in Apollo's persisted query manifest format. */
export const MANIFESTS_DIR = join(__dirname, 'manifests');

/**
 * Reads every `<client>.json` of `dir` (Apollo's manifest format) as the documents of the client named by the
 * file; throws, naming the file, when one is not a manifest or an id is not the SHA-256 of its body. A missing
 * directory has none.
 */
export function loadManifests(dir: string = MANIFESTS_DIR): ClientDocument[] {
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  return files.flatMap((file) => {
    const client = basename(file, '.json');
    if (!CLIENT_NAME.test(client)) {
      throw new PersistedDocumentError(
        `${file}: a manifest's file name is its client's name: letters, digits, ".", "_" and "-"`,
      );
    }
    const docs = readManifest(readFileSync(join(dir, file), 'utf8'), `manifest ${file}`);
    return docs.map((d) => ({ ...d, client }));
  });
}

/** The persisted documents cannot be read right now, and none were read before: 503. */
export class PersistedStoreUnavailableError extends Error {
  constructor() {
    super('Persisted documents cannot be looked up right now: try again shortly');
    this.name = 'PersistedStoreUnavailableError';
  }
}

/** How {@link KnownDocuments} finds documents. */
export interface KnownDocumentsOptions {
  /** The built-in manifests' documents (always known, never re-read). */
  manifests: readonly ClientDocument[];
  /** The documents of `npm run persisted:add`; without it, only the manifests'. */
  store?: PersistedStore;
  /**
   * How long what was read from `store` is trusted, in ms (default 5000): a document added or removed is
   * seen by every gateway replica within about this long.
   */
  refreshMs?: number;
  log?: Logger;
}

/**
 * Every persisted document a gateway accepts, by id: the built-in manifests' and the store's. The store is read
 * whole (documents are few, and added by people), then only its version (one `COUNT`, `MAX`) once per
 * `refreshMs`, and read again when it changed; so a lookup costs no database round trip, and a flood of made-up
 * ids costs the database at most one small query per `refreshMs`. A known id is answered from memory at once
 * (the check runs behind it); an unknown one waits for the check when the last one is older than `refreshMs`,
 * so a document just added works on its first request after that. When the store fails, what was read before
 * is kept; if nothing ever was, an id that is not a manifest's gets {@link PersistedStoreUnavailableError}.
 */
export class KnownDocuments {
  private readonly manifests: ReadonlyMap<string, ClientDocument>;
  private readonly refreshMs: number;
  private stored?: ReadonlyMap<string, ClientDocument>;
  private version?: string;
  private checkedAt = 0;
  private pending?: Promise<void>;
  private failing = false;
  private closed = false;

  constructor(private readonly opts: KnownDocumentsOptions) {
    this.manifests = new Map(opts.manifests.map((d) => [d.id, d]));
    this.refreshMs = opts.refreshMs ?? 5000;
  }

  /** How many documents the manifests hold, and the store (as last read). */
  get size(): { manifests: number; stored: number } {
    return { manifests: this.manifests.size, stored: this.stored?.size ?? 0 };
  }

  /** The document of that id (lowercase hex), or undefined. */
  async get(id: string): Promise<ClientDocument | undefined> {
    const builtIn = this.manifests.get(id);
    if (builtIn || !this.opts.store) return builtIn;
    const stale = Date.now() - this.checkedAt >= this.refreshMs;
    const known = this.stored?.get(id);
    if (known) {
      if (stale) void this.refresh();
      return known;
    }
    if (stale) await this.refresh();
    if (!this.stored) throw new PersistedStoreUnavailableError();
    return this.stored.get(id);
  }

  /** Reads the store's version, and its documents when it changed; one read at a time. Never throws. */
  refresh(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.pending ??= this.read().finally(() => (this.pending = undefined));
    return this.pending;
  }

  /** Stops reading the store (it is about to close): waits for a read under way. */
  async close(): Promise<void> {
    this.closed = true;
    await this.pending;
  }

  private async read(): Promise<void> {
    const store = this.opts.store!;
    try {
      const version = await store.version();
      if (version !== this.version || !this.stored) {
        const docs = await store.list();
        this.stored = new Map(docs.map((d) => [d.id, d]));
        this.version = version;
      }
      if (this.failing) this.opts.log?.info('persisted documents: the store can be read again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) {
        this.opts.log?.error(
          { err: String(err) },
          'persisted documents: the store could not be read; using what was read before',
        );
      }
      this.failing = true;
    } finally {
      // A failing store is asked again after refreshMs too, not on every request.
      this.checkedAt = Date.now();
    }
  }
}
