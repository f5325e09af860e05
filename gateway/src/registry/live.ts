import type { SupergraphSdlHook } from '@apollo/gateway';
import type { Logger } from 'pino';
import { composeSupergraph } from './check';
import { coreSubgraphs } from './registry';
import type { RegistryEntry, RegistryStore } from './store';

/** What {@link LiveSupergraph} needs. */
export interface LiveSupergraphOptions {
  store: RegistryStore;
  /** Our subgraphs' URLs (config): written into the composed supergraph, as partners' registry URLs are. */
  coreUrls: Readonly<Record<string, string>>;
  /** Served while the registry has no partner: the checked-in supergraph, composed at build time. */
  coreSupergraph: string;
  /** How often to look for a change (REGISTRY_POLL_MS). */
  pollMs: number;
  log: Logger;
}

/** What a published partner's data source needs beyond its URL. */
export interface PartnerRoute {
  url: string;
  version: number;
  timeoutMs: number | null;
}

/** What decides the served supergraph: each partner's SDL, URL and timeout (not its owner or dates). */
const fingerprint = (entries: readonly RegistryEntry[]) =>
  entries.map((e) => `${e.name}:${e.sdlHash}:${e.url}:${e.timeoutMs ?? ''}`).join('|');

/**
 * The gateway's supergraph, kept in step with the registry: ApolloGateway's `supergraphSdl` function form.
 *
 * At start it serves our subgraphs plus every published partner, composed; with no partner, the checked-in
 * supergraph as it is. Then every `pollMs` it asks the store for its revision (one small read, no
 * composition); only when that changed does it read the entries, and only when what they would serve
 * changed does it compose and hand the result to `update`. ApolloGateway swaps schema and query planner
 * at once, and requests already planned finish on the previous ones. A set that does not compose, or a
 * supergraph the gateway refuses, is logged with the reasons and the previous supergraph stays served;
 * the same set is not retried until the registry changes again. An unreadable registry (its database
 * down) is logged and retried at the next poll, the gateway answering meanwhile.
 */
export class LiveSupergraph {
  private routes = new Map<string, PartnerRoute>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopped = false;
  private lastRevision: string | undefined;
  /** The fingerprint last tried, served or not: a broken set is reported once. */
  private lastAttempt: string | undefined;

  constructor(private readonly opts: LiveSupergraphOptions) {}

  /** A partner's route in the supergraph served now (undefined for ours, or one no longer published). */
  route(name: string): PartnerRoute | undefined {
    return this.routes.get(name);
  }

  /** For `new ApolloGateway({ supergraphSdl: live.hook })`. */
  readonly hook: SupergraphSdlHook = async ({ update }) => {
    const initial = await this.initial();
    const schedule = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        this.polling = this.poll(update).finally(schedule);
      }, this.opts.pollMs);
      this.timer.unref();
    };
    schedule();
    return {
      supergraphSdl: initial,
      cleanup: async () => {
        this.stopped = true;
        clearTimeout(this.timer);
        await this.polling;
        await this.opts.store.close();
      },
    };
  };

  private async initial(): Promise<string> {
    const { log } = this.opts;
    let entries: RegistryEntry[];
    try {
      this.lastRevision = await this.opts.store.revision();
      entries = await this.opts.store.list();
    } catch (err) {
      this.lastRevision = undefined;
      log.error(
        { registry: this.opts.store.location, err: (err as Error).message },
        'the schema registry cannot be read: serving our own subgraphs only until it can',
      );
      return this.opts.coreSupergraph;
    }
    this.lastAttempt = fingerprint(entries);
    const sdl = this.compose(entries);
    if (sdl === undefined) return this.opts.coreSupergraph;
    this.serve(entries);
    return sdl;
  }

  /** The supergraph of our subgraphs and these partners, or undefined (logged) when they do not compose. */
  private compose(entries: readonly RegistryEntry[]): string | undefined {
    if (!entries.length) return this.opts.coreSupergraph;
    const composed = composeSupergraph([
      ...coreSubgraphs(this.opts.coreUrls),
      ...entries.map((e) => ({ name: e.name, url: e.url, sdl: e.sdl })),
    ]);
    if (composed.ok) return composed.supergraphSdl;
    this.opts.log.error(
      {
        subgraphs: entries.map((e) => `${e.name}@${e.version}`),
        problems: composed.errors.map((e) => e.message),
      },
      `the registry's subgraphs do not compose (${composed.errors.map((e) => e.message).join('; ')}): still serving the previous supergraph`,
    );
    return undefined;
  }

  private serve(entries: readonly RegistryEntry[]): void {
    this.routes = new Map(
      entries.map((e) => [e.name, { url: e.url, version: e.version, timeoutMs: e.timeoutMs }]),
    );
  }

  private async poll(update: (sdl: string) => void): Promise<void> {
    const { log, store } = this.opts;
    let entries: RegistryEntry[];
    try {
      const revision = await store.revision();
      if (revision === this.lastRevision) return;
      entries = await store.list();
      this.lastRevision = revision;
    } catch (err) {
      log.error(
        { registry: store.location, err: (err as Error).message },
        'the schema registry cannot be read',
      );
      return;
    }
    const fp = fingerprint(entries);
    if (fp === this.lastAttempt) return;
    this.lastAttempt = fp;
    const started = Date.now();
    const sdl = this.compose(entries);
    if (sdl === undefined || this.stopped) return;
    // The routes first: `update` builds the new partners' data sources, which read their timeouts here.
    const previous = this.routes;
    this.serve(entries);
    try {
      update(sdl);
    } catch (err) {
      this.routes = previous;
      log.error(
        { subgraphs: entries.map((e) => `${e.name}@${e.version}`), err: (err as Error).message },
        `the new supergraph failed to load (${(err as Error).message}): still serving the previous one`,
      );
      return;
    }
    log.info(
      { subgraphs: entries.map((e) => `${e.name}@${e.version}`), ms: Date.now() - started },
      'serving a new supergraph from the schema registry',
    );
  }
}
