import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A proxy in front of one subgraph that, while `hold` is true, keeps each request it receives unanswered (and
 * unforwarded) until its caller gives up: it shows whether the gateway abandons a call, and when. With `hold`
 * false it passes requests through.
 */
export interface HoldingProxy {
  url: string;
  hold: boolean;
  /** Requests received since the last reset. */
  received: number;
  /** Held requests whose caller closed the connection before any answer. */
  abandoned: number;
  /** Resolves once `abandoned` reaches `n`. */
  abandonedCount(n: number): Promise<void>;
  reset(): void;
  close(): Promise<void>;
}

export async function holdingProxy(target: string): Promise<HoldingProxy> {
  const to = new URL(target);
  const waiting: { n: number; resolve: () => void }[] = [];
  const held = new Set<import('node:http').ServerResponse>();
  const proxy: HoldingProxy = {
    url: '',
    hold: true,
    received: 0,
    abandoned: 0,
    abandonedCount: (n) =>
      proxy.abandoned >= n ? Promise.resolve() : new Promise((resolve) => waiting.push({ n, resolve })),
    reset: () => {
      proxy.received = 0;
      proxy.abandoned = 0;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const res of held) res.destroy();
        server.close(() => r());
      }),
  };
  const server: Server = createServer((req, res) => {
    proxy.received++;
    if (proxy.hold) {
      held.add(res);
      res.on('close', () => {
        held.delete(res);
        if (res.writableEnded) return;
        proxy.abandoned++;
        for (const w of waiting.splice(0)) {
          if (proxy.abandoned >= w.n) w.resolve();
          else waiting.push(w);
        }
      });
      req.resume();
      return;
    }
    const upstream = httpRequest(
      { host: to.hostname, port: to.port, path: to.pathname, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    res.on('close', () => void (res.writableEnded || upstream.destroy()));
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${to.pathname}`;
  return proxy;
}
