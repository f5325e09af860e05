import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A minimal round-robin HTTP load balancer for the rolling-restart test (issue 12): what a Kubernetes Service or
 * an nginx `upstream` does in front of the replicas of one service, which we do not own, kept as small and
 * honest as nginx with `proxy_next_upstream error` and no upstream keep-alive (nginx's default):
 * - each request goes to the next backend in rotation, on a new connection (`Connection: close` upstream);
 * - a request whose connection to a backend is refused (ECONNREFUSED: it never reached a server) is sent to the
 *   next backend in rotation, each backend tried at most once; nothing else is retried: any other failure
 *   (a reset, a connection closed before the answer) is answered 502 and recorded;
 * - every backend's `GET /ready` is polled every 100 ms: a backend enters the rotation at its first 200 and
 *   leaves it at its first answer that is not 200 (or no answer), so a draining service (503) gets no new
 *   request after the next poll.
 * It records every request it forwards (to which backend, its status or its failure), so a test can say which
 * requests were in flight on a backend at a given moment and how each ended.
 */

/** How often each backend's readiness is polled. */
export const POLL_MS = 100;

/** One request as the balancer forwarded it. */
export interface Forwarded {
  readonly id: number;
  /** Its method and path: a GraphQL call (POST /graphql), or a readiness probe a gateway sends its subgraph. */
  readonly method: string;
  readonly path: string;
  /** The port of each backend it was sent to, in order (more than one: a refused connection, sent on). */
  readonly tried: number[];
  /** performance.now() when it was received and when its answer was passed back whole (or failed). */
  readonly receivedAt: number;
  doneAt?: number;
  /** The backend's HTTP status, once its answer was passed back whole. */
  status?: number;
  /** Why it failed (no backend, or an error other than a refused connection): it was answered 502 or cut. */
  failure?: string;
}

interface Backend {
  readonly port: number;
  ready: boolean;
  /** Taken out of the rotation by the test (as endpoints are removed when a pod starts terminating). */
  drained: boolean;
  readonly inFlight: Set<number>;
  readonly poller: NodeJS.Timeout;
}

/** Headers that concern one connection only, never forwarded (RFC 9110, section 7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

const endToEnd = (headers: IncomingHttpHeaders) =>
  Object.fromEntries(Object.entries(headers).filter(([k]) => !HOP_BY_HOP.has(k.toLowerCase())));

export class Balancer {
  /** Every request forwarded, by id. */
  readonly forwarded = new Map<number, Forwarded>();
  private readonly backends = new Map<number, Backend>();
  private next = 0;
  private ids = 0;

  private constructor(
    private readonly server: Server,
    /** http://127.0.0.1:<port> */
    readonly origin: string,
  ) {}

  /** Starts a balancer on 127.0.0.1, port 0, with no backend. */
  static async start(): Promise<Balancer> {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const balancer = new Balancer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => balancer.handle(req, res));
    return balancer;
  }

  /** Adds a backend on 127.0.0.1:`port`; it enters the rotation once its `GET /ready` answers 200. */
  add(port: number): void {
    if (this.backends.has(port)) throw new Error(`backend ${port} is already there`);
    const backend: Backend = {
      port,
      ready: false,
      drained: false,
      inFlight: new Set(),
      poller: setInterval(() => this.poll(backend), POLL_MS),
    };
    this.backends.set(port, backend);
    this.poll(backend);
  }

  /** Removes a backend: no new request goes to it (those in flight on it go on). */
  remove(port: number): void {
    const backend = this.backends.get(port);
    if (!backend) return;
    clearInterval(backend.poller);
    this.backends.delete(port);
  }

  /**
   * Takes the backend on `port` out of the rotation (`false`: puts it back): no new request goes to it, those in
   * flight on it go on and are still counted. What Kubernetes does when a pod starts terminating (its endpoint
   * removed), before or while the pod gets SIGTERM.
   */
  drain(port: number, drained = true): void {
    const backend = this.backends.get(port);
    if (backend) backend.drained = drained;
  }

  /** Whether the backend on `port` is in the rotation (its last poll answered 200). */
  ready(port: number): boolean {
    const b = this.backends.get(port);
    return b !== undefined && b.ready && !b.drained;
  }

  /** The ids of the requests in flight on the backend on `port` (sent to it, its answer not yet passed back). */
  inFlight(port: number): number[] {
    return [...(this.backends.get(port)?.inFlight ?? [])];
  }

  /** Resolves once the backend on `port` is in the rotation; rejects after `withinMs`. */
  async whenReady(port: number, withinMs: number): Promise<void> {
    const until = performance.now() + withinMs;
    while (!this.ready(port)) {
      if (performance.now() > until) throw new Error(`backend ${port} not ready within ${withinMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Stops polling and closes the listener and every connection. */
  async close(): Promise<void> {
    for (const port of [...this.backends.keys()]) this.remove(port);
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private poll(backend: Backend) {
    const req = httpRequest(
      { host: '127.0.0.1', port: backend.port, path: '/ready', method: 'GET', agent: false, timeout: 1000 },
      (res) => {
        res.resume();
        backend.ready = res.statusCode === 200;
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => void (backend.ready = false));
    req.end();
  }

  /** The backends in rotation, starting after the last one used. */
  private rotation(): Backend[] {
    const ready = [...this.backends.values()].filter((b) => b.ready && !b.drained);
    if (ready.length === 0) return [];
    const start = this.next++ % ready.length;
    return [...ready.slice(start), ...ready.slice(0, start)];
  }

  private handle(req: IncomingMessage, res: ServerResponse) {
    const record: Forwarded = {
      id: ++this.ids,
      method: req.method ?? '',
      path: req.url ?? '',
      tried: [],
      receivedAt: performance.now(),
    };
    this.forwarded.set(record.id, record);
    const fail = (why: string) => {
      record.failure = why;
      record.doneAt = performance.now();
      if (res.headersSent) res.destroy();
      else {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('Bad gateway');
      }
    };
    // The body is kept whole (small JSON), so that a request refused by one backend can be sent to the next.
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const candidates = this.rotation();
      const attempt = () => {
        const backend = candidates.shift();
        if (!backend) return fail(record.tried.length ? 'every backend refused' : 'no backend ready');
        record.tried.push(backend.port);
        backend.inFlight.add(record.id);
        const settle = () => backend.inFlight.delete(record.id);
        const upstream = httpRequest(
          {
            host: '127.0.0.1',
            port: backend.port,
            path: req.url,
            method: req.method,
            headers: { ...endToEnd(req.headers), 'content-length': String(body.byteLength) },
            agent: false,
          },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
            answer.on('end', () => {
              settle();
              record.status = answer.statusCode;
              record.doneAt = performance.now();
            });
            answer.on('error', (err) => {
              settle();
              fail(`answer cut: ${String(err)}`);
            });
            answer.pipe(res);
          },
        );
        upstream.on('error', (err: NodeJS.ErrnoException) => {
          settle();
          if (record.status !== undefined || record.failure !== undefined) return;
          // Refused: the request never reached a server, so it may go to another backend.
          if (err.code === 'ECONNREFUSED') return attempt();
          fail(`${err.code ?? 'error'} from backend ${backend.port}: ${err.message}`);
        });
        upstream.end(body);
      };
      attempt();
    });
  }
}
