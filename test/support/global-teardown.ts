import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';

/** Removes this run's seeded templates (test/support/templates.ts): the SQLite directory and the MariaDB databases. */
export default async function globalTeardown(): Promise<void> {
  const run = process.env.CIVIC_TEST_RUN;
  if (!run) return;
  const dir = join(tmpdir(), `civic-template-${run}`);
  rmSync(dir, { recursive: true, force: true });
  rmSync(`${dir}.lock`, { recursive: true, force: true });
  if (process.env.TEST_MYSQL !== '1') return;
  const u = new URL(process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306');
  const conn = await createConnection({
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
  });
  try {
    const [rows] = await conn.query('SHOW DATABASES LIKE ?', [`civic\\_tpl\\_${run}\\_%`]);
    for (const row of rows as Record<string, string>[]) {
      await conn.query(`DROP DATABASE IF EXISTS \`${Object.values(row)[0].replace(/`/g, '')}\``);
    }
  } finally {
    await conn.end();
  }
}
