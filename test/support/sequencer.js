// @ts-check
const Sequencer = require('@jest/test-sequencer').default;

/**
 * The order of the test files: the slowest first, so that no worker is left alone with a long file at the end.
 * Jest does that from the durations its cache kept of an earlier run, and orders the files it has no duration
 * for by size, before all the others. Without that cache (a fresh machine, a clean clone, as CI may be) some of
 * the slowest files are small ones and started last: fuzz.test.ts is 4 KB and takes 100 s under load, the other
 * worker then idle. Here a file without a kept duration counts with its figure below (seconds in CI with two
 * workers; only the order matters), or 5 s; the files that failed last still come first. Nothing here decides
 * what runs, only when.
 */
const SECONDS = new Map([
  ['test/e2e/fuzz.test.ts', 100],
  ['test/e2e/registry.test.ts', 93],
  ['test/e2e/cli.test.ts', 87],
  ['test/e2e/import-budgets.test.ts', 86],
  ['test/e2e/import-ogp-commitments.test.ts', 61],
  ['test/e2e/budget-summaries.test.ts', 57],
  ['test/e2e/import-organizations.test.ts', 56],
  ['test/e2e/rolling.test.ts', 50],
  ['test/e2e/export.test.ts', 45],
  ['test/e2e/import-admin-divisions.test.ts', 39],
  ['test/e2e/persisted-queries.test.ts', 39],
  ['test/e2e/faults.test.ts', 32],
  ['test/e2e/deployment.test.ts', 32],
  ['test/e2e/db-restart.test.ts', 32],
  ['test/e2e/commitments-search.test.ts', 30],
  ['test/e2e/early-hits.test.ts', 29],
  ['test/e2e/build.test.ts', 29],
  ['test/e2e/budget-facts-graphql.test.ts', 26],
  ['test/e2e/start.test.ts', 25],
  ['test/e2e/import-commitment-budget-links.test.ts', 25],
  ['test/e2e/budgets-query.test.ts', 25],
  ['test/e2e/dashboard.test.ts', 24],
  ['test/e2e/response-cache.test.ts', 23],
  ['test/e2e/export-limits.test.ts', 22],
  ['test/e2e/organizations-query.test.ts', 21],
  ['test/e2e/read-replicas.test.ts', 21],
  ['test/e2e/migrate.test.ts', 18],
  ['test/e2e/api-keys.test.ts', 15],
  ['test/e2e/tracing.test.ts', 14],
  ['test/e2e/import-fdp-facts.test.ts', 14],
  ['test/e2e/request-budget.test.ts', 14],
  ['test/e2e/list-bounds.test.ts', 13],
  ['test/e2e/commitment-stats.test.ts', 13],
  ['test/e2e/lead-institutions.test.ts', 13],
  ['test/e2e/source-adjustments.test.ts', 13],
  ['test/e2e/organizations-search.test.ts', 12],
  ['test/e2e/metrics.test.ts', 12],
  ['test/e2e/search-engine.test.ts', 12],
  ['test/e2e/input-hygiene.test.ts', 12],
  ['test/e2e/commitments-query.test.ts', 11],
  ['test/e2e/budgets-search.test.ts', 11],
  ['test/e2e/rate-limits.test.ts', 10],
  ['test/e2e/subgraph-isolation.test.ts', 10],
]);

class SlowestFirst extends Sequencer {
  /** @param {import('@jest/test-result').Test[]} tests */
  sort(tests) {
    // Jest's order (the failed first, then by kept duration, then by size) sets each test's kept duration.
    const sorted = super.sort(tests);
    /** @param {import('@jest/test-result').Test} t */
    const ms = (t) => {
      if (this.hasFailed(t)) return Number.MAX_SAFE_INTEGER;
      if (t.duration != null) return t.duration;
      const file = t.path
        .slice(t.context.config.rootDir.length + 1)
        .split('\\')
        .join('/');
      return (SECONDS.get(file) ?? 5) * 1000;
    };
    // Array.prototype.sort is stable: files of equal figures keep Jest's order among themselves.
    return [...sorted].sort((a, b) => ms(b) - ms(a));
  }
}

module.exports = SlowestFirst;
