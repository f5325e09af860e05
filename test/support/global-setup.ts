import { randomBytes } from 'node:crypto';
import { createConnection } from 'mysql2/promise';

/**
 * Decides once per run whether the MySQL half of the suite runs. Without a reachable MySQL the SQLite half
 * still runs and this says so; with CI=true a missing MySQL fails the run instead of skipping it.
 */
export default async function globalSetup(): Promise<void> {
  // Names this run's seeded templates (test/support/templates.ts), shared by its workers, removed by teardown.
  process.env.CIVIC_TEST_RUN = `r${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const url = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
  process.env.TEST_MYSQL_URL = url;
  try {
    const u = new URL(url);
    const conn = await createConnection({
      host: u.hostname,
      port: Number(u.port || 3306),
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      connectTimeout: 5000,
    });
    await conn.end();
    process.env.TEST_MYSQL = '1';
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    if (process.env.CI === 'true') {
      throw new Error(
        `CI=true and MySQL is not reachable at ${url} (${why}): refusing to skip the MySQL tests.`,
      );
    }
    process.env.TEST_MYSQL = '0';
    console.warn(`\nMySQL is not reachable at ${url} (${why}): running the SQLite half of the suite only.\n`);
  }
}
