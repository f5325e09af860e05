import {
  context,
  createContextKey,
  propagation,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
  type SpanContext,
  type Tracer,
} from '@opentelemetry/api';
import { loggingErrorHandler, setGlobalErrorHandler, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace-node';
import {
  ATTR_DB_NAMESPACE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_SYSTEM_NAME,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVICE_NAME,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import type { ApolloServerPlugin } from '@apollo/server';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { tracingConfig, type TracingConfig } from './config';
import { currentRequestId, type RequestContext } from './context';
import { addLogFields, logger } from './log';
import { outcomeOf } from './metrics';

/*
 * Traces (issue 12), with the OpenTelemetry SDK, only when OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) is
 * set. Unset, nothing here is set up: no provider, no context manager, no propagator; every hook below returns at
 * its first test of `running`, and the OpenTelemetry API stays the no-op it is out of the box.
 *
 * Each service has its own provider, so that its spans carry its own `service.name` even when one process runs
 * several (`npm start`, the tests): spans of a request are started with the tracer of the service that received
 * it, found in the request's OpenTelemetry context (REQUEST). The process's global provider (what Apollo gateway's
 * own spans use: gateway.request, gateway.plan, gateway.execute, gateway.fetch...) hands out the gateway's.
 */

/** The attribute naming the request on every span: the `x-request-id` of its answer and of its log lines. */
export const REQUEST_ID_ATTRIBUTE = 'civic.request_id';
/** The most characters of an SQL statement a span carries. */
export const MAX_STATEMENT_LENGTH = 2000;

/** What a request's spans need, kept in its OpenTelemetry context by the request's span. */
interface TracedRequest {
  tracer: Tracer;
  span: Span;
  requestId: string | undefined;
}
const REQUEST = createContextKey('civic.request');

/** The services whose tracing is running in this process. */
const running = new Set<ServiceTracing>();
/** The provider the process's global tracer hands out: the gateway's, else the first service's. */
let globalTarget: NodeTracerProvider | undefined;
let offLogFields: (() => void) | undefined;

/** The request whose work is running, if it is traced. */
const tracedRequest = (): TracedRequest | undefined =>
  running.size === 0 ? undefined : (context.active().getValue(REQUEST) as TracedRequest | undefined);

/** A service's tracing, from {@link startTracing}: its request span, its Apollo plugin, and its stop. */
export interface ServiceTracing {
  /** Express middleware: a SERVER span for each GraphQL request (`/`, `/graphql`), child of its `traceparent`. */
  readonly middleware: RequestHandler;
  /** Names the request's span after its operation and records the operation's type and outcome. */
  readonly plugin: ApolloServerPlugin<RequestContext>;
  /** Sends the spans still buffered and shuts the exporter; bounded by `timeoutMs`, then gives up (logged). */
  stop(timeoutMs: number): Promise<void>;
}

/**
 * Starts the tracing of one service (`name`: `gateway`, `organizations`...), or returns undefined, having set up
 * nothing, when the environment sets no endpoint. The first one of the process registers the OpenTelemetry
 * context manager (AsyncLocalStorage) and the W3C trace-context propagator; the last one to stop removes them.
 * `global`: Apollo gateway's own spans go to this service (the gateway).
 */
export function startTracing(
  name: string,
  opts: { global?: boolean } = {},
  env: NodeJS.ProcessEnv = process.env,
): ServiceTracing | undefined {
  const config = tracingConfig(env);
  if (!config) return undefined;
  const provider = new NodeTracerProvider({
    resource: defaultResource().merge(
      resourceFromAttributes({
        [ATTR_SERVICE_NAME]: config.serviceName ?? `civic-${name}`,
        'service.namespace': 'civic-graph',
      }),
    ),
    sampler: samplerOf(config),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: config.url }))],
  });
  const tracer = provider.getTracer('civic-graph');
  const log = logger.child({ service: name });
  if (running.size === 0) {
    // The global provider, the AsyncLocalStorage context manager, and W3C trace context (traceparent, tracestate)
    // alone: not the SDK's default baggage propagator, which would pass a client's `baggage` header on to every
    // subgraph, partners' included (the gateway forwards nothing of a client's but its request id and language).
    new GlobalRouter().register({ propagator: new W3CTraceContextPropagator() });
    // A batch the collector did not take (unreachable, refused): one line each time, instead of the SDK's silence.
    setGlobalErrorHandler((err) =>
      logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'traces: spans not exported'),
    );
    offLogFields = addLogFields(() => {
      const span = trace.getSpanContext(context.active());
      return span ? { trace_id: span.traceId, span_id: span.spanId } : undefined;
    });
  }
  if (opts.global || !globalTarget) globalTarget = provider;
  let stopped: Promise<void> | undefined;
  const tracing: ServiceTracing = {
    middleware: requestSpans(tracer),
    plugin: operationAttributes,
    stop: (timeoutMs) => (stopped ??= stop(timeoutMs)),
  };
  const stop = async (timeoutMs: number) => {
    let timer: NodeJS.Timeout | undefined;
    const flushed = await Promise.race([
      provider.shutdown().then(
        () => true,
        (err: unknown) => void log.warn({ err: String(err) }, 'traces: the last spans could not be sent'),
      ),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (flushed === false) log.warn({ ms: timeoutMs }, 'traces: the last spans were not sent in time');
    running.delete(tracing);
    if (globalTarget === provider) globalTarget = undefined;
    if (running.size === 0) {
      offLogFields?.();
      setGlobalErrorHandler(loggingErrorHandler());
      trace.disable();
      context.disable();
      propagation.disable();
    }
  };
  running.add(tracing);
  log.info({ url: config.url, sampler: config.sampler.name }, 'traces: exporting spans by OTLP/HTTP');
  return tracing;
}

/** Whether any service of this process has its tracing running. */
export const tracingActive = (): boolean => running.size > 0;

/** OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG as the specification defines them. */
function samplerOf(config: TracingConfig): Sampler {
  const { name, ratio } = config.sampler;
  const root = name.endsWith('always_on')
    ? new AlwaysOnSampler()
    : name.endsWith('always_off')
      ? new AlwaysOffSampler()
      : new TraceIdRatioBasedSampler(ratio);
  return name.startsWith('parentbased_') ? new ParentBasedSampler({ root }) : root;
}

/**
 * The process's global provider: only a router. Its tracers start their spans with the tracer of the provider
 * {@link globalTarget} names at that moment (none: non-recording spans), so that Apollo gateway's spans, whose
 * tracer is taken once when its module loads, follow whichever gateway runs now.
 */
class GlobalRouter extends NodeTracerProvider {
  override getTracer(name: string, version?: string): Tracer {
    const noop = new ProxyTracerProvider().getTracer(name, version);
    const target = () => globalTarget?.getTracer(name, version) ?? noop;
    return {
      startSpan: (spanName, options, ctx) => target().startSpan(spanName, options, ctx),
      startActiveSpan: ((...args: unknown[]) =>
        (target().startActiveSpan as (...a: unknown[]) => unknown)(...args)) as Tracer['startActiveSpan'],
    };
  }
}

/**
 * The SERVER span of every GraphQL request, `<method> <path>` until its operation is known, child of the
 * `traceparent` it came with (the gateway's call, or a client's own trace), ended when its answer is sent (or its
 * client goes away). It runs the rest of the request in its context.
 */
function requestSpans(tracer: Tracer): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.path !== '/graphql' && req.path !== '/') return next();
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const requestId = currentRequestId();
    const span = tracer.startSpan(
      `${req.method} ${req.path}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: req.method,
          [ATTR_URL_PATH]: req.path,
          ...(requestId ? { [REQUEST_ID_ATTRIBUTE]: requestId } : {}),
        },
      },
      parent,
    );
    res.once('close', () => {
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode);
      if (!res.writableEnded) span.setStatus({ code: SpanStatusCode.ERROR, message: 'client went away' });
      else if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    const traced: TracedRequest = { tracer, span, requestId };
    context.with(trace.setSpan(parent, span).setValue(REQUEST, traced), next);
  };
}

/** The most characters of an operation name a span carries. */
const MAX_NAME_LENGTH = 128;

/**
 * Apollo plugin: names the request's span `<type> <name>` (`query Dashboard`) once the operation is resolved, with
 * `graphql.operation.type` and `graphql.operation.name`, and records `civic.outcome` (ok, error, refused: as the
 * metrics count it); an outcome `error` marks the span failed.
 */
const operationAttributes: ApolloServerPlugin<RequestContext> = {
  async requestDidStart() {
    const traced = tracedRequest();
    if (!traced) return;
    let executed = false;
    return {
      async didResolveOperation({ operation, operationName }) {
        const type = operation?.operation ?? 'query';
        const name = operationName?.slice(0, MAX_NAME_LENGTH);
        traced.span.updateName(name ? `${type} ${name}` : type);
        traced.span.setAttribute('graphql.operation.type', type);
        if (name) traced.span.setAttribute('graphql.operation.name', name);
      },
      async executionDidStart() {
        executed = true;
      },
      async willSendResponse({ response }) {
        const outcome = outcomeOf(response, executed);
        traced.span.setAttribute('civic.outcome', outcome);
        if (outcome === 'error') traced.span.setStatus({ code: SpanStatusCode.ERROR });
      },
    };
  },
};

/** A CLIENT span of the request whose work is running: a call that leaves the process. */
export interface ClientSpan {
  readonly span: Span;
  /** Puts this span's `traceparent` in the headers of the call, so that the callee's spans are its children. */
  inject(headers: Record<string, string>): void;
  /** Ends it: `errorCode` marks it failed (as `error.type`). */
  end(errorCode?: string): void;
}

/**
 * Starts a CLIENT span named `name` under the active span of a traced request, or returns undefined (tracing off,
 * or work outside any request: then nothing is done at all).
 */
export function clientSpan(name: string, attributes: Attributes): ClientSpan | undefined {
  const traced = tracedRequest();
  if (!traced) return undefined;
  const parent = context.active();
  const span = traced.tracer.startSpan(
    name,
    {
      kind: SpanKind.CLIENT,
      attributes: traced.requestId ? { ...attributes, [REQUEST_ID_ATTRIBUTE]: traced.requestId } : attributes,
    },
    parent,
  );
  return {
    span,
    inject: (headers) => propagation.inject(trace.setSpan(parent, span), headers),
    end: (errorCode) => {
      if (errorCode) {
        span.setAttribute('error.type', errorCode);
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    },
  };
}

/** Links a span to another (a call shared with the request that made it: its spans are under the other's). */
export function linkSpan(span: Span, to: SpanContext): void {
  span.addLink({ context: to });
}

/** What an SQL span says of its database. */
export interface DatabaseAttributes {
  /** `mysql`, `mariadb` or `sqlite`. */
  system: string;
  /** The database's name (MySQL); none for an SQLite file. */
  namespace?: string;
}

/**
 * Runs one SQL statement, inside a CLIENT span when a traced request's work sends it (none at start-up, in
 * imports or migrations): named after its first keyword (`SELECT`), with `db.system`, `db.statement` (its text,
 * literals replaced by `?` and cut to {@link MAX_STATEMENT_LENGTH}; the parameters are never recorded), its
 * duration, and `error.type` when it fails.
 */
export function sqlSpan<T>(db: DatabaseAttributes, statement: string, run: () => Promise<T>): Promise<T> {
  const traced = tracedRequest();
  if (!traced) return run();
  const operation = /^\s*(\w+)/.exec(statement)?.[1]?.toUpperCase() ?? 'SQL';
  const span = traced.tracer.startSpan(
    operation,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'db.system': db.system,
        [ATTR_DB_SYSTEM_NAME]: db.system,
        ...(db.namespace ? { [ATTR_DB_NAMESPACE]: db.namespace } : {}),
        [ATTR_DB_OPERATION_NAME]: operation,
        'db.statement': sanitizeStatement(statement),
        ...(traced.requestId ? { [REQUEST_ID_ATTRIBUTE]: traced.requestId } : {}),
      },
    },
    context.active(),
  );
  return run().then(
    (result) => {
      span.end();
      return result;
    },
    (err: unknown) => {
      const code = (err as { code?: unknown } | null)?.code;
      span.setAttribute('error.type', typeof code === 'string' ? code : 'error');
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      throw err;
    },
  );
}

/**
 * An SQL statement as a span may show it: quoted strings and numbers (what could hold a person's data when a
 * statement carries a value inline instead of as a parameter) become `?`, and it is cut to
 * {@link MAX_STATEMENT_LENGTH} characters. Identifiers (`t1`, `civic_2024`, quoted names) are kept.
 */
export function sanitizeStatement(statement: string): string {
  const bare = statement
    .replace(/'(?:[^'\\]|\\.|'')*'/g, '?')
    .replace(/(?<![\w.`"$])-?\d+(?:\.\d+)?\b/g, '?');
  return bare.length > MAX_STATEMENT_LENGTH ? `${bare.slice(0, MAX_STATEMENT_LENGTH)}…` : bare;
}
