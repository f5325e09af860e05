import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A pass-through HTTP proxy in front of one subgraph that counts the requests it forwards: put between a
 * gateway and a subgraph, it shows whether (and how often) the gateway called the subgraph at all.
 */
export interface CountingProxy {
  url: string;
  count: number;
  /** The bytes of the answers it has passed back (bodies only). */
  bytes: number;
  close(): Promise<void>;
}

/** Starts a {@link CountingProxy} on 127.0.0.1, port 0, forwarding to `target` (a subgraph's GraphQL URL). */
export async function countingProxy(target: string): Promise<CountingProxy> {
  const to = new URL(target);
  const proxy = {
    url: '',
    count: 0,
    bytes: 0,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
  const server: Server = createServer((req, res) => {
    proxy.count++;
    const upstream = httpRequest(
      { host: to.hostname, port: to.port, path: to.pathname, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.on('data', (chunk: Buffer) => void (proxy.bytes += chunk.length));
        answer.pipe(res);
      },
    );
    // A caller that goes away (the gateway cancelling its call) closes the connection to the subgraph too, as
    // a reverse proxy does, so the subgraph sees it.
    res.on('close', () => void (res.writableEnded || upstream.destroy()));
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${to.pathname}`;
  return proxy;
}
