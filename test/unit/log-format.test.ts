import { logFormat } from '@civic/common/log';

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
