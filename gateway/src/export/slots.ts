import { ExportError } from './errors';

/** How long a client refused for running too many exports is told to wait (`Retry-After`, seconds). */
export const EXPORT_RETRY_AFTER_SECONDS = 10;

/**
 * The exports each client is running, in this gateway process's memory: at most `perClient` at once, so one
 * client cannot hold every subgraph busy paging. Replicas count separately (the per-minute rate limits,
 * shared through Redis when configured, are what bound a client across replicas).
 */
export class ExportSlots {
  private readonly running = new Map<string, number>();

  constructor(private readonly perClient: number) {}

  /**
   * Takes one of the client's slots, or throws an {@link ExportError} 429 with `Retry-After` when it has none
   * left. Returns the release, to call exactly once, when the export's work has stopped.
   */
  acquire(client: string): () => void {
    const count = this.running.get(client) ?? 0;
    if (count >= this.perClient) {
      throw new ExportError(
        [
          {
            message:
              `You are already running ${count} exports, the most one client may run at once ` +
              '(EXPORT_MAX_CONCURRENT_PER_CLIENT): wait for one to finish, then try again',
            extensions: { code: 'TOO_MANY_EXPORTS', limit: this.perClient },
          },
        ],
        429,
        { 'Retry-After': String(EXPORT_RETRY_AFTER_SECONDS) },
      );
    }
    this.running.set(client, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.running.get(client) ?? 1) - 1;
      if (left > 0) this.running.set(client, left);
      else this.running.delete(client);
    };
  }
}
