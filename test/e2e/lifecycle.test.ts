import { connect, type Socket } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { requestContext } from '@civic/common/context';
import { createService, type Service } from '@civic/common/service';

/**
 * What a service does when it is told to stop (issue 12, "Lifecycle"), on a real HTTP server on port 0: it
 * turns not-ready, accepts no new connection, lets a request in flight finish, and cuts one that outlasts
 * SHUTDOWN_TIMEOUT_MS without making stop() wait for it. The slow request is a real resolver that waits until
 * the test releases it, so nothing depends on timing but the grace period itself.
 */

/** A promise and the function that resolves it. */
function latch() {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return { done, release };
}

/** A service with one field, `slow`, that answers "done" once released; `entered` says a request is in it. */
async function slowService() {
  const entered = latch();
  const gate = latch();
  const schema = buildSubgraphSchema({
    typeDefs: parse(/* GraphQL */ `
      type Query {
        slow: String!
      }
    `),
    resolvers: {
      Query: {
        slow: async () => {
          entered.release();
          await gate.done;
          return 'done';
        },
      },
    },
  });
  const service = await createService({ name: 'slow', schema, context: async (req) => requestContext(req) });
  const { port } = await service.listen(0, '127.0.0.1');
  return { service, port, entered: entered.done, release: gate.release };
}

const opened: { service: Service; release: () => void }[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const { service, release } of opened.splice(0)) {
    release();
    await service.stop();
  }
});

/** Resolves with the error code of a new TCP connection to `port` ('connected' if it was accepted). */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? String(err)));
  });
}

/**
 * Waits (a few event-loop turns at most) until new connections to `port` are refused. One made in the instant
 * the listener closes may be reset instead (it was still in the kernel's accept queue): not taken either.
 */
async function refused(port: number): Promise<string> {
  let outcome = await tryConnect(port);
  for (let i = 0; i < 50 && outcome !== 'ECONNREFUSED'; i++) {
    await new Promise((r) => setTimeout(r, 10));
    outcome = await tryConnect(port);
  }
  return outcome;
}

const BODY = JSON.stringify({ query: '{ slow }' });

/** The slow operation as raw HTTP/1.1 on a kept-alive connection, so a second request can follow it on it. */
const SLOW_REQUEST =
  'POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
  `X-Request-Id: slow-1\r\nContent-Length: ${Buffer.byteLength(BODY)}\r\n\r\n${BODY}`;

/** Each response in raw HTTP/1.1 output: its status, its x-request-id and its JSON body. */
function responses(raw: string) {
  return raw
    .split(/(?=HTTP\/1\.1 \d{3} )/)
    .filter((r) => r.startsWith('HTTP/1.1'))
    .map((r) => {
      const [head, rest] = [r.slice(0, r.indexOf('\r\n\r\n')), r.slice(r.indexOf('\r\n\r\n') + 4)];
      const json = rest.slice(rest.indexOf('{'), rest.lastIndexOf('}') + 1);
      return {
        status: Number(head.slice(9, 12)),
        requestId: /^x-request-id: (.*)$/im.exec(head)?.[1]?.trim(),
        body: JSON.parse(json) as unknown,
      };
    });
}

test('stop() answers the request in flight, while /ready says 503 and new connections are refused', async () => {
  const slow = await slowService();
  opened.push(slow);
  const socket = connect(slow.port, '127.0.0.1');
  sockets.push(socket);
  let raw = '';
  socket.on('data', (d: Buffer) => (raw += d.toString()));
  const ended = new Promise<void>((r) => socket.once('close', () => r()));
  socket.write(SLOW_REQUEST);
  await slow.entered;

  const stopping = slow.service.stop();
  expect(slow.service.draining).toBe(true);
  // The listener is closed: a new client (or a load balancer's new probe) is refused, not queued.
  expect(await refused(slow.port)).toBe('ECONNREFUSED');
  // A probe that comes on a connection still open for the request in flight is answered: not ready.
  socket.write('GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  // Long enough for the server to read the probe before the slow answer lets it close the connection.
  await new Promise((r) => setTimeout(r, 200));
  slow.release();
  await stopping;
  // Once its last answer is sent, the server closes the connection itself.
  await ended;

  expect(responses(raw)).toEqual([
    { status: 200, requestId: 'slow-1', body: { data: { slow: 'done' } } },
    {
      status: 503,
      requestId: undefined,
      body: {
        status: 'not ready',
        service: 'slow',
        checks: { shutdown: { ok: false, reason: 'shutting down' } },
      },
    },
  ]);
});

test('a request longer than SHUTDOWN_TIMEOUT_MS is cut, and stop() does not wait for it', async () => {
  const before = process.env.SHUTDOWN_TIMEOUT_MS;
  process.env.SHUTDOWN_TIMEOUT_MS = '300';
  let slow: Awaited<ReturnType<typeof slowService>>;
  try {
    slow = await slowService();
  } finally {
    if (before === undefined) delete process.env.SHUTDOWN_TIMEOUT_MS;
    else process.env.SHUTDOWN_TIMEOUT_MS = before;
  }
  opened.push(slow);
  const request = fetch(`http://127.0.0.1:${slow.port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: BODY,
  });
  // Caught at once, checked below: the rejection comes while stop() is awaited.
  const outcome = request.then(
    (res) => `answered ${res.status}`,
    (err: Error) => `cut: ${err.message}`,
  );
  await slow.entered;
  // Never released before stop() resolves: only the grace period can end the request.
  await expect(slow.service.stop()).resolves.toBeUndefined();
  expect(await outcome).toBe('cut: fetch failed');
  expect(await tryConnect(slow.port)).toBe('ECONNREFUSED');
});
