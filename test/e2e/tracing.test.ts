import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { context, createContextKey, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { loadConfig } from '@civic/subgraphs/catalog';
import { sanitizeStatement, startTracing, tracingActive } from '@civic/common/tracing';
import { logCapture } from '../support/log-capture';
import { withEnv } from '../support/with-env';
import { startSystem } from '../support/system';
import { npmStartCommand, npmStartEnvironment } from '../support/start-env';

const ROOT = join(__dirname, '..', '..');

/*
 * Traces (issue 12): the gateway and the three subgraphs (SQLite, port 0) export their spans by OTLP/HTTP JSON to a
 * real receiver this test runs on port 0; one query across two subgraphs must give one trace, from the gateway's
 * request down to each subgraph's SQL statements, and its log lines must name it. Unset, nothing is set up.
 */

const { lines, start: captureLogs } = logCapture({ fields: true });
beforeAll(() => captureLogs());
afterAll(() => jest.restoreAllMocks());

/** The organization's name is in the organizations subgraph, its budgets in the budgets subgraph. */
const ORGANIZATION = /* GraphQL */ `
  query MunicipalityBudgets {
    organization(id: "tn-municipality-34012") {
      name
      budgets {
        id
      }
    }
  }
`;

/** One span as the OTLP JSON encoding gives it, with its resource's service name and its attributes flattened. */
interface ExportedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
  status?: { code?: number };
}
const SERVER = 2;
const CLIENT = 3;

interface KeyValue {
  key: string;
  value: Record<string, unknown>;
}
const flatten = (attributes: KeyValue[] = []) =>
  Object.fromEntries(attributes.map(({ key, value }) => [key, Object.values(value)[0]]));

/** A minimal OTLP/HTTP receiver: POST /v1/traces with a JSON body (gzip or not), as a collector takes it. */
async function startReceiver(): Promise<{
  url: string;
  posts: number;
  spans: ExportedSpan[];
  close(): Promise<void>;
}> {
  const spans: ExportedSpan[] = [];
  const state = { posts: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.posts++;
      if (req.method !== 'POST' || req.url !== '/v1/traces') return void res.writeHead(404).end();
      const raw = Buffer.concat(chunks);
      const body = JSON.parse(
        (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8'),
      ) as {
        resourceSpans: {
          resource: { attributes: KeyValue[] };
          scopeSpans: {
            spans: (Omit<ExportedSpan, 'service' | 'attributes'> & { attributes: KeyValue[] })[];
          }[];
        }[];
      };
      for (const rs of body.resourceSpans) {
        const service = String(flatten(rs.resource.attributes)['service.name']);
        for (const ss of rs.scopeSpans)
          for (const s of ss.spans)
            spans.push({ ...s, service, attributes: flatten(s.attributes), links: s.links ?? [] });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get posts() {
      return state.posts;
    },
    spans,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Posts a document to the gateway; the answer's body and its x-request-id. */
async function ask(url: string, query: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  return {
    body: (await res.json()) as { data?: unknown; errors?: unknown[] },
    requestId: res.headers.get('x-request-id')!,
  };
}

/** Whether the OpenTelemetry API of this process is the no-op it is out of the box. */
function apiIsNoop(): boolean {
  const key = createContextKey('probe');
  const span = trace.getTracer('probe').startSpan('probe');
  span.end();
  return (
    !span.isRecording() &&
    propagation.fields().length === 0 &&
    context.with(ROOT_CONTEXT.setValue(key, 1), () => context.active().getValue(key)) === undefined
  );
}

/** Every child started; one a failed test left running is killed, so that jest can exit. */
const children: ChildProcessWithoutNullStreams[] = [];
afterAll(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/**
 * `npm start`'s script in a child process (the exporter loads Node's http module by a dynamic import, which jest's
 * module sandbox refuses), on a fresh embedded database, every port 0, with `env`; its JSON log lines.
 */
function startProcess(dataDir: string, env: NodeJS.ProcessEnv) {
  // The embedded SQLite files, whatever this run's environment says.
  const childEnv = npmStartEnvironment(dataDir, { ...env, LOG_FORMAT: 'json', DATABASE_URL: undefined });
  // Node itself with tsx's loader, as package.json's script runs it (not tsx's command, which turns a SIGTERM into a
  // SIGKILL when the child's event loop does not acknowledge it within 30 ms, and nothing would be flushed).
  const { command, args } = npmStartCommand();
  const child = spawn(command, args, {
    cwd: ROOT,
    env: childEnv,
  }) as ChildProcessWithoutNullStreams;
  children.push(child);
  let output = '';
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      const m = /Civic Graph is ready: open http:\/\/localhost:(\d+)\//.exec(output);
      if (m) resolve(`http://127.0.0.1:${m[1]}/graphql`);
    });
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) => reject(new Error(`exited with ${code} before ready:\n${output}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = () =>
    output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { child, ready, exited, lines };
}

describe('with OTEL_EXPORTER_OTLP_ENDPOINT set (npm start, stopped by SIGTERM)', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let answer: Awaited<ReturnType<typeof ask>>;
  let unparsable: Awaited<ReturnType<typeof ask>>;
  let exitCode: number | null;
  let logged: Record<string, unknown>[];
  let postsBeforeStop: number;
  const dir = mkdtempSync(join(tmpdir(), 'civic-traces-'));

  beforeAll(async () => {
    receiver = await startReceiver();
    const run = startProcess(dir, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    const url = await run.ready;
    answer = await ask(url, ORGANIZATION);
    unparsable = await ask(url, '{ organization(id: "x") { name ');
    postsBeforeStop = receiver.posts;
    // Stopping flushes: the batch is sent every 5 s, and what is left when the process stops is sent then.
    run.child.kill('SIGTERM');
    exitCode = await run.exited;
    logged = run.lines();
  });
  afterAll(async () => {
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const ofTrace = () => {
    const root = receiver.spans.find(
      (s) =>
        s.attributes['civic.request_id'] === answer.requestId &&
        s.kind === SERVER &&
        s.service === 'civic-gateway',
    )!;
    return { root, spans: receiver.spans.filter((s) => s.traceId === root.traceId) };
  };
  const byId = (spans: ExportedSpan[]) => new Map(spans.map((s) => [s.spanId, s]));
  const parentOf = (spans: ExportedSpan[], s: ExportedSpan) => byId(spans).get(s.parentSpanId ?? '');

  test('the process stops on SIGTERM with exit code 0, having sent its last spans', () => {
    expect(exitCode).toBe(0);
    // Sent when it stopped: the last request's spans at least (a batch leaves every 5 s otherwise).
    expect(receiver.posts).toBeGreaterThan(postsBeforeStop);
    expect(new Set(receiver.spans.map((s) => s.service))).toEqual(
      // Each service under its own name; commitments had nothing to do with the query.
      new Set(['civic-gateway', 'civic-organizations', 'civic-budgets']),
    );
  });

  test("the gateway's request is a SERVER span named after its operation, with the client's request id", () => {
    expect(answer.body.errors).toBeUndefined();
    expect(answer.requestId).toMatch(/^[\w.-]+$/);
    const { root } = ofTrace();
    expect(root).toBeDefined();
    expect(root.name).toBe('query MunicipalityBudgets');
    expect(root.parentSpanId || undefined).toBeUndefined();
    expect(root.attributes).toMatchObject({
      'graphql.operation.type': 'query',
      'graphql.operation.name': 'MunicipalityBudgets',
      'civic.outcome': 'ok',
      'civic.request_id': answer.requestId,
      'http.request.method': 'POST',
      'http.response.status_code': 200,
    });
  });

  test('one trace joins the plan fetches, each subgraph call, each subgraph request and its SQL statements', () => {
    const { root, spans } = ofTrace();
    // Every span of the request is in this one trace, and every span of the trace hangs from the gateway's.
    for (const s of receiver.spans.filter((x) => x.attributes['civic.request_id'] === answer.requestId))
      expect(s.traceId).toBe(root.traceId);
    for (const s of spans) {
      let at: ExportedSpan | undefined = s;
      while (at && at !== root) at = parentOf(spans, at);
      expect([s.service, s.name, at?.spanId]).toEqual([s.service, s.name, root.spanId]);
    }
    for (const subgraph of ['organizations', 'budgets']) {
      // Apollo gateway's span of the plan's fetch, our call under it, the subgraph's request under the call.
      const fetches = spans.filter((s) => s.name === 'gateway.fetch' && s.attributes.service === subgraph);
      expect(fetches.length).toBeGreaterThanOrEqual(1);
      const calls = spans.filter((s) => s.name === `subgraph ${subgraph}`);
      expect(calls).toHaveLength(fetches.length);
      for (const call of calls) {
        expect(call.kind).toBe(CLIENT);
        expect(call.service).toBe('civic-gateway');
        expect(fetches).toContain(parentOf(spans, call));
        expect(call.attributes).toMatchObject({
          'civic.subgraph': subgraph,
          'civic.subgraph.shared': false,
          'civic.request_id': answer.requestId,
        });
      }
      const served = spans.filter((s) => s.service === `civic-${subgraph}` && s.kind === SERVER);
      expect(served).toHaveLength(calls.length);
      for (const s of served) {
        expect(calls).toContain(parentOf(spans, s));
        expect(s.name).toMatch(/^query\b/);
        expect(s.attributes).toMatchObject({ 'civic.request_id': answer.requestId, 'civic.outcome': 'ok' });
      }
      const sql = spans.filter((s) => s.service === `civic-${subgraph}` && s.kind === CLIENT);
      expect(sql.length).toBeGreaterThanOrEqual(1);
      for (const s of sql) {
        expect(served).toContain(parentOf(spans, s));
        expect(s.name).toBe('SELECT');
        expect(s.attributes).toMatchObject({
          'db.system': 'sqlite',
          'db.operation.name': 'SELECT',
          'civic.request_id': answer.requestId,
        });
        expect(String(s.attributes['db.statement'])).toMatch(/^SELECT /);
        // No value written into the statement reaches the span: the organization's id was a parameter.
        expect(String(s.attributes['db.statement'])).not.toMatch(/'|tn-municipality-34012/);
      }
    }
  });

  test("a line logged during a request carries the request's id and its trace's ids", () => {
    const line = logged.find((l) => l.msg === 'unparsable operation' && l.requestId === unparsable.requestId);
    expect(line).toBeDefined();
    const server = receiver.spans.find((s) => s.attributes['civic.request_id'] === unparsable.requestId)!;
    expect(server).toBeDefined();
    expect(server.attributes['civic.outcome']).toBe('refused');
    expect(line).toMatchObject({ trace_id: server.traceId, span_id: server.spanId });
  });
});

describe('with no endpoint set', () => {
  test('no provider, context manager or propagator is registered, no span is made and no line names a trace', async () => {
    expect(process.env.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
    expect(process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT).toBeUndefined();
    const sys = await startSystem('sqlite');
    try {
      expect(tracingActive()).toBe(false);
      expect(apiIsNoop()).toBe(true);
      const { requestId } = await ask(sys.gatewayUrl, '{ organization(id: "x") { name ');
      const line = lines.find((l) => l.requestId === requestId);
      expect(line).toBeDefined();
      expect(line).not.toHaveProperty('trace_id');
    } finally {
      await sys.stop();
    }
  });

  test('OTEL_SDK_DISABLED=true turns them off whatever the endpoint, and nothing is sent', async () => {
    const receiver = await startReceiver();
    try {
      const sys = await withEnv(
        { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SDK_DISABLED: 'true' },
        () => startSystem('sqlite'),
      );
      try {
        expect(tracingActive()).toBe(false);
        expect((await ask(sys.gatewayUrl, ORGANIZATION)).body.errors).toBeUndefined();
      } finally {
        await sys.stop();
      }
      expect(receiver.posts).toBe(0);
    } finally {
      await receiver.close();
    }
  });
});

describe('startTracing', () => {
  test('registers the OpenTelemetry globals for the first service, and removes them when the last one stops', async () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' };
    expect(apiIsNoop()).toBe(true);
    const first = startTracing('one', {}, env)!;
    const second = startTracing('two', { global: true }, env)!;
    expect(tracingActive()).toBe(true);
    expect(apiIsNoop()).toBe(false);
    // W3C trace context only: a client's `baggage` is not passed on to the subgraphs.
    expect(propagation.fields()).toEqual(['traceparent', 'tracestate']);
    await second.stop(1000);
    expect(apiIsNoop()).toBe(false);
    await first.stop(1000);
    expect(tracingActive()).toBe(false);
    expect(apiIsNoop()).toBe(true);
    expect(startTracing('three', {}, {})).toBeUndefined();
    expect(apiIsNoop()).toBe(true);
  });
});

describe('the variables', () => {
  test('a bad value is refused naming its variable', () => {
    for (const [name, value] of [
      ['OTEL_EXPORTER_OTLP_ENDPOINT', 'localhost:4318'],
      ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'ftp://collector/v1/traces'],
      ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc'],
      ['OTEL_TRACES_SAMPLER', 'sometimes'],
      ['OTEL_TRACES_SAMPLER_ARG', '1.5'],
    ]) {
      expect(() => loadConfig({ [name]: value })).toThrow(name);
    }
  });

  test('an SQL statement loses its literal values and is cut, its identifiers and placeholders kept', () => {
    expect(
      sanitizeStatement(
        "SELECT t1.id FROM `civic_2024` t1 WHERE t1.name = 'O''Brien' AND t1.n > -4.5 AND t1.k IN (?, ?) LIMIT 10",
      ),
    ).toBe('SELECT t1.id FROM `civic_2024` t1 WHERE t1.name = ? AND t1.n > ? AND t1.k IN (?, ?) LIMIT ?');
    expect(sanitizeStatement(`SELECT ${'x, '.repeat(2000)}y`)).toHaveLength(2001);
  });
});
