import pino from 'pino';
import { logFormat, logger } from '@civic/common/log';

/**
 * Which log format a process picks (issue 12, "Logs"): readable lines for a person at a terminal, JSON for
 * everything that reads logs as data (production, containers, pipes, and the tests that parse them).
 */
describe('logFormat', () => {
  it.each([
    [{}, true, 'pretty'],
    [{ NODE_ENV: 'development' }, true, 'pretty'],
    [{ NODE_ENV: 'production' }, true, 'json'],
    [{}, false, 'json'],
    [{ NODE_ENV: 'test' }, false, 'json'],
    [{ LOG_FORMAT: 'json' }, true, 'json'],
    [{ LOG_FORMAT: 'pretty' }, false, 'pretty'],
    [{ LOG_FORMAT: 'pretty', NODE_ENV: 'production' }, false, 'pretty'],
    [{ LOG_FORMAT: 'yaml' }, false, 'json'],
  ])('%j with stdout a terminal: %s gives %s', (env, isTTY, expected) => {
    expect(logFormat(env, isTTY)).toBe(expected);
  });
});

describe('the JSON logger', () => {
  it('writes each line to standard output as it is logged, so the lines before process.exit come out, in order', () => {
    // pino's default stream writes asynchronously, and at exit wrote what it held while its last write was still
    // under way: a service's `stopped` line came out before the one logged 2 ms earlier (test/e2e/start.test.ts).
    const stream = (logger as unknown as Record<symbol, { sync?: boolean; fd?: number }>)[
      pino.symbols.streamSym
    ];
    expect(logFormat()).toBe('json');
    expect(stream.sync).toBe(true);
    expect(stream.fd).toBe(1);
  });
});
