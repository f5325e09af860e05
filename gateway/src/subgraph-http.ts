import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { SubgraphErrorCode } from '@civic/common/errors';

/**
 * Why a call to a subgraph failed, in words the client may read: the subgraph is named, its address never is.
 * `cause` (which may name the address) goes to the log only. `trips` says whether the failure says something
 * about the subgraph's health and so counts towards opening its circuit: a response too large for this
 * request does not (any client could cause one), an unreachable or timed-out subgraph does.
 */
export class SubgraphCallError extends Error {
  constructor(
    readonly code: SubgraphErrorCode,
    message: string,
    readonly trips: boolean,
    readonly cause?: unknown,
    /** What the client is told besides the code and the subgraph's name (a budget's name, limit, measure). */
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** A subgraph's answer, read whole: what the gateway needs of it. */
export interface SubgraphAnswer {
  status: number;
  /** `cache-control`, which the gateway's cache policy reads (the lowest max-age of all the fetches wins). */
  cacheControl: string | undefined;
  text: string;
}

/** What a caller of {@link SubgraphHttp.post} is told while the answer arrives, to bound it by its own measure. */
export interface BodyWatch {
  /** The answer announced this many bytes (`content-length`), before any is read. */
  announced?(bytes: number): void;
  /** This many more bytes were read. */
  read?(bytes: number): void;
}

/** Why the gateway gave up on a call it had started: its time ran out, or nobody is waiting for it any more. */
export type Abandoned = 'timeout' | 'unwanted';

/** How {@link SubgraphHttp} reaches one subgraph. */
export interface SubgraphHttpOptions {
  name: string;
  url: string;
  timeoutMs: number;
  maxResponseBytes: number;
  /** The most connections open to this subgraph at once; more calls queue in the agent. */
  maxSockets: number;
}

/** The error codes of a connection the server closed under a request it had not begun to answer. */
const RESET = new Set(['ECONNRESET', 'EPIPE']);

/**
 * The gateway's HTTP client for one subgraph: Node's own `http.request` over a keep-alive agent sized by
 * SUBGRAPH_MAX_SOCKETS, instead of `fetch`. A subgraph call is a small JSON POST and a JSON answer read whole;
 * `fetch` wraps both in WHATWG streams, Request and Response objects and Apollo's node-fetch copies of them,
 * which a CPU profile of the gateway under dashboard load put at about a fifth of its busy time.
 *
 * A POST that finds its reused keep-alive connection closed by the subgraph (the known race between a client's
 * idle connection and the server's keep-alive timeout: ECONNRESET before any byte of the answer) is sent once
 * more on a fresh connection, when `retryable` (queries, never mutations): nothing was executed, since the
 * server closed the connection before reading the request.
 */
export class SubgraphHttp {
  private readonly agent: HttpAgent;
  private readonly send: typeof httpRequest;
  readonly url: URL;

  constructor(private readonly opts: SubgraphHttpOptions) {
    this.url = new URL(opts.url);
    const https = this.url.protocol === 'https:';
    // LIFO: the most recently used connection is the least likely to have been closed by the server meanwhile.
    const agentOptions = { keepAlive: true, maxSockets: opts.maxSockets, scheduling: 'lifo' as const };
    this.agent = https ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.send = https ? httpsRequest : httpRequest;
  }

  /**
   * One POST, bounded in time (from sending to the last byte) and in size; `signal` abandons it (its reason, an
   * {@link Abandoned}, says why). Resolves with the answer's status, cache-control and text; a failure is a
   * {@link SubgraphCallError}, except an abandonment for `unwanted`, which rejects with that string.
   */
  async post(
    body: string,
    headers: Record<string, string>,
    opts: { signal: AbortSignal; retryable: boolean; watch?: BodyWatch },
  ): Promise<SubgraphAnswer> {
    try {
      return await this.once(body, headers, opts.signal, opts.watch);
    } catch (err) {
      if (!(err instanceof ResetBeforeAnswer) || !opts.retryable || opts.signal.aborted)
        throw this.failure(err);
      try {
        return await this.once(body, headers, opts.signal, opts.watch);
      } catch (again) {
        throw this.failure(again);
      }
    }
  }

  /** Closes the idle connections (the gateway replacing its data sources, or stopping). */
  close() {
    this.agent.destroy();
  }

  private once(
    body: string,
    headers: Record<string, string>,
    signal: AbortSignal,
    watch: BodyWatch | undefined,
  ): Promise<SubgraphAnswer> {
    return new Promise<SubgraphAnswer>((resolve, reject) => {
      if (signal.aborted) return reject(abandonment(signal));
      const payload = Buffer.from(body, 'utf8');
      const req = this.send(this.url, {
        method: 'POST',
        agent: this.agent,
        headers: { ...headers, 'content-length': String(payload.byteLength) },
      });
      let answered = false;
      const timer = setTimeout(() => stop('timeout'), this.opts.timeoutMs);
      const stop = (why: Abandoned) => req.destroy(new AbandonedError(why));
      const onAbort = () => stop(signal.reason === 'timeout' ? 'timeout' : 'unwanted');
      signal.addEventListener('abort', onAbort, { once: true });
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      req.on('error', (err: NodeJS.ErrnoException) => {
        done();
        if (err instanceof AbandonedError) return reject(err.why === 'unwanted' ? 'unwanted' : err);
        // Reset on a reused connection before any answer: the server had closed it (keep-alive race).
        if (!answered && req.reusedSocket && err.code && RESET.has(err.code)) {
          return reject(new ResetBeforeAnswer(err));
        }
        reject(err);
      });
      req.once('response', (res: IncomingMessage) => {
        answered = true;
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          res.resume();
          done();
          const failure =
            status >= 500
              ? this.failure(
                  new HttpStatus(status, 'SUBGRAPH_UNAVAILABLE', `is unavailable (HTTP ${status})`, true),
                )
              : this.failure(
                  new HttpStatus(
                    status,
                    'SUBGRAPH_BAD_RESPONSE',
                    `refused the gateway's request (HTTP ${status})`,
                    false,
                  ),
                );
          req.destroy();
          return reject(failure);
        }
        const announced = Number(res.headers['content-length'] ?? NaN);
        try {
          if (announced > this.opts.maxResponseBytes) throw this.tooLarge();
          if (Number.isFinite(announced)) watch?.announced?.(announced);
        } catch (err) {
          done();
          req.destroy();
          return reject(err);
        }
        const chunks: Buffer[] = [];
        let total = 0;
        res.on('data', (chunk: Buffer) => {
          total += chunk.byteLength;
          try {
            if (total > this.opts.maxResponseBytes) throw this.tooLarge();
            watch?.read?.(chunk.byteLength);
          } catch (err) {
            done();
            req.destroy();
            return reject(err);
          }
          chunks.push(chunk);
        });
        res.once('end', () => {
          done();
          const cacheControl = res.headers['cache-control'];
          resolve({ status, cacheControl, text: Buffer.concat(chunks, total).toString('utf8') });
        });
        res.on('error', (err) => {
          done();
          reject(err instanceof AbandonedError ? (err.why === 'unwanted' ? 'unwanted' : err) : err);
        });
      });
      req.end(payload);
    });
  }

  private tooLarge() {
    return new SubgraphCallError(
      'SUBGRAPH_RESPONSE_TOO_LARGE',
      `Subgraph "${this.opts.name}" sent more than ${this.opts.maxResponseBytes} bytes`,
      false,
    );
  }

  /** Any failure as the {@link SubgraphCallError} the client is told of (an `unwanted` abandonment as is). */
  private failure(err: unknown): unknown {
    if (err instanceof SubgraphCallError || err === 'unwanted') return err;
    const name = this.opts.name;
    if (err instanceof HttpStatus) {
      return new SubgraphCallError(
        err.code,
        `Subgraph "${name}" ${err.what}`,
        err.trips,
        `HTTP ${err.status}`,
      );
    }
    if (err instanceof AbandonedError && err.why === 'timeout') {
      return new SubgraphCallError(
        'SUBGRAPH_TIMEOUT',
        `Subgraph "${name}" did not answer within ${this.opts.timeoutMs} ms`,
        true,
      );
    }
    const cause = err instanceof ResetBeforeAnswer ? err.cause : err;
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    return new SubgraphCallError(
      'SUBGRAPH_UNAVAILABLE',
      `Subgraph "${name}" is unavailable`,
      true,
      code ? `${code}: ${String(cause)}` : cause,
    );
  }
}

/** The reason a call was abandoned, carried by the request's destruction. */
class AbandonedError extends Error {
  constructor(readonly why: Abandoned) {
    super(`abandoned: ${why}`);
  }
}

class ResetBeforeAnswer extends Error {
  constructor(readonly cause: NodeJS.ErrnoException) {
    super(cause.message);
  }
}

class HttpStatus extends Error {
  constructor(
    readonly status: number,
    readonly code: SubgraphErrorCode,
    readonly what: string,
    readonly trips: boolean,
  ) {
    super(what);
  }
}

const abandonment = (signal: AbortSignal) =>
  signal.reason === 'timeout' ? new AbandonedError('timeout') : 'unwanted';
