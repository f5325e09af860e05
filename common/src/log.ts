import pino, { type DestinationStream } from 'pino';
import pretty from 'pino-pretty';

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
const level = process.env.LOG_LEVEL && LEVELS.has(process.env.LOG_LEVEL) ? process.env.LOG_LEVEL : 'info';

/** How log lines are written: JSON for machines, or one readable, coloured line each for a person. */
export type LogFormat = 'json' | 'pretty';

/**
 * LOG_FORMAT when it says `json` or `pretty`; otherwise readable lines only for a person at a terminal (stdout a
 * TTY, NODE_ENV not `production`), and JSON everywhere else: in production, in containers, under a process
 * manager, and in tests, whose child processes write to pipes and whose lines are parsed as JSON.
 */
export function logFormat(
  env: NodeJS.ProcessEnv = process.env,
  isTTY = Boolean(process.stdout.isTTY),
): LogFormat {
  if (env.LOG_FORMAT === 'json' || env.LOG_FORMAT === 'pretty') return env.LOG_FORMAT;
  return isTTY && env.NODE_ENV !== 'production' ? 'pretty' : 'json';
}

/**
 * pino-pretty as a synchronous stream in this thread (not a worker transport): a line logged just before
 * `process.exit` (`stopped`, `forced exit`) is written, never lost.
 */
function prettyStream(): DestinationStream {
  return pretty({
    sync: true,
    colorize: Boolean(process.stdout.isTTY),
    translateTime: 'SYS:HH:MM:ss.l',
    // The service first, as a prefix: `npm start` interleaves four of them.
    messageFormat: '{if service}{service}: {end}{msg}',
    ignore: 'pid,hostname,service',
    singleLine: true,
  });
}

/**
 * Standard output, written synchronously, as the pretty stream is: pino's default stream writes asynchronously and,
 * at `process.exit`, writes what it holds at once while its last write may still be under way, so the last lines
 * (each service's `stopped`) came out of order, and could be lost: seen in CI, the `stopped` line of organizations
 * before that of commitments, written 2 ms later. No line is logged per request in normal operation.
 */
function jsonStream(): DestinationStream {
  return pino.destination({ dest: 1, sync: true });
}

/** Fields every line gets from where it is written: the request's id, the trace's ids (see {@link addLogFields}). */
type LogFields = () => Record<string, unknown> | undefined;
const fieldSources: LogFields[] = [];

/**
 * Adds fields to every line from now on, read when the line is written: common/src/context.ts adds the `requestId`
 * of the request whose work is running, common/src/tracing.ts the `trace_id` and `span_id` while traces are on.
 * Returns how to take them off. A field the line gives itself wins.
 */
export function addLogFields(source: LogFields): () => void {
  fieldSources.push(source);
  return () => {
    const at = fieldSources.indexOf(source);
    if (at >= 0) fieldSources.splice(at, 1);
  };
}

/**
 * pino's `mixin`: the fields of {@link addLogFields}. A new object each time: pino merges the line's own fields
 * into it.
 */
export function logMixin(): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const source of fieldSources) Object.assign(fields, source());
  return fields;
}

/**
 * The process logger, one child per service; level from LOG_LEVEL, format from {@link logFormat}. Every line a
 * request causes carries its `requestId` (the `x-request-id` its answer carries), to find them all, and while
 * traces are on the ids of its trace and span (`trace_id`, `span_id`).
 */
export const logger =
  logFormat() === 'pretty'
    ? pino({ level, base: undefined, mixin: logMixin }, prettyStream())
    : pino({ level, base: undefined, mixin: logMixin }, jsonStream());
