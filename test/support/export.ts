import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buffer } from 'node:stream/consumers';
import { parse } from 'csv-parse/sync';

/** Helpers shared by the export tests: URLs, CSV rows, reading a download that may be cut, a gated proxy. */

/** `/export.<format>?...` on `root`, with these parameters (variables as JSON). */
export function exportUrl(root: string, format: 'csv' | 'json', params: Record<string, unknown>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) search.set(k, typeof v === 'string' ? v : JSON.stringify(v));
  return `${root}/export.${format}?${search}`;
}

export const csvRows = (text: string) => parse(text, { columns: true }) as Record<string, string>[];

/** Reads a response to its end, or to where it was cut: the bytes, and whether it ended normally. */
export async function readAll(res: Response): Promise<{ bytes: Buffer; outcome: string }> {
  const received: Buffer[] = [];
  const reader = res.body!.getReader();
  const outcome = await (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return 'complete';
      received.push(Buffer.from(value));
    }
  })().catch((err: Error) => `cut: ${err.message}`);
  return { bytes: Buffer.concat(received), outcome };
}

/**
 * An HTTP proxy to a subgraph that counts the requests it gets (one per page of an export of that
 * subgraph's list), and holds every one from the `holdFrom`th on until `release()`. It is pushed onto
 * `opened`, for the test to stop.
 */
export async function gatedProxy(target: string, opened: { stop(): Promise<void> }[]) {
  let count = 0;
  let holdFrom = Infinity;
  let waiting: (() => void)[] = [];
  const arrivals: { n: number; resolve: () => void }[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await buffer(req);
      const n = ++count;
      for (const a of arrivals.filter((a) => a.n <= n)) a.resolve();
      if (n >= holdFrom) await new Promise<void>((resolve) => waiting.push(resolve));
      const upstream = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      res
        .writeHead(upstream.status, { 'content-type': 'application/json' })
        .end(Buffer.from(await upstream.arrayBuffer()));
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    get count() {
      return count;
    },
    hold(from = 1) {
      holdFrom = from;
    },
    release() {
      holdFrom = Infinity;
      for (const go of waiting) go();
      waiting = [];
    },
    /** Resolves once the proxy has received its `n`th request. */
    arrived(n: number): Promise<void> {
      if (count >= n) return Promise.resolve();
      return new Promise((resolve) => arrivals.push({ n, resolve }));
    },
    stop: () =>
      new Promise<void>((resolve) => {
        proxy.release();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  opened.push(proxy);
  return proxy;
}
