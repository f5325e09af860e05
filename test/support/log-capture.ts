import { Writable } from 'node:stream';
import pino from 'pino';
import { logger, logMixin } from '@civic/common/log';

/** What a test file captures of its services' output: their JSON log lines, and what is written to stderr. */
export interface LogCapture {
  /** Every JSON line any service logs (the production logger's children, redirected). */
  lines: Record<string, unknown>[];
  /** What Express or Node write to stderr (a stack trace would land here). */
  stderr: string[];
  /**
   * Redirects the logger's children and stderr here; call it before any service is built (each takes its
   * logger's child when it is created). Returns the spy on stderr.
   */
  start(): jest.SpyInstance;
}

/**
 * `fields`: the lines get the fields production adds to every line (the request's id, the trace's ids: see
 * common/src/log.ts addLogFields); default off, so that a test sees only what each line says itself.
 */
export function logCapture(opts: { fields?: boolean } = {}): LogCapture {
  const lines: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  const sink = pino(
    { level: 'info', base: undefined, ...(opts.fields ? { mixin: logMixin } : {}) },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line));
        done();
      },
    }),
  );
  return {
    lines,
    stderr,
    start() {
      jest
        .spyOn(logger, 'child')
        .mockImplementation(((bindings: pino.Bindings) =>
          sink.child(bindings)) as unknown as typeof logger.child);
      return jest.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array) => {
        stderr.push(String(chunk));
        return true;
      }) as typeof process.stderr.write);
    },
  };
}
