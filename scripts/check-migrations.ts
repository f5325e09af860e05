/**
 * `npm run check:migrations`: runs every subgraph's migrations into fresh storage on SQLite and, when reachable
 * (TEST_MYSQL_URL, default mysql://root@127.0.0.1:3306; required with CI=true), on MySQL; then asks TypeORM
 * what it would change to match the entities. Any statement is drift between entities and migrations: it is
 * printed and the exit status is 1. Every migration is then reverted, to prove `down` works too.
 */
import { MODULES, SUBGRAPH_NAMES } from '@civic/subgraphs';
import { openDataSource, schemaDrift } from '@civic/common/db';
import globalSetup from '../test/support/global-setup';
import { freshStorage, type Backend } from '../test/support/system';

async function main() {
  await globalSetup();
  const backends: Backend[] = process.env.TEST_MYSQL === '1' ? ['sqlite', 'mysql'] : ['sqlite'];
  let problems = 0;
  for (const backend of backends) {
    const { storage, drop } = freshStorage(backend);
    try {
      for (const name of SUBGRAPH_NAMES) {
        const ds = await MODULES[name].createDataSource(storage[name]);
        await openDataSource(ds, storage[name]);
        const sql = await schemaDrift(ds);
        if (sql.length) {
          problems += 1;
          console.error(`${name} on ${backend}: entities and migrations differ:\n  ${sql.join('\n  ')}`);
        } else {
          console.log(`${name} on ${backend}: migrations match the entities`);
        }
        for (let i = 0; i < ds.migrations.length; i++) await ds.undoLastMigration({ transaction: 'each' });
        const runner = ds.createQueryRunner();
        const left: string[] = [];
        for (const meta of ds.entityMetadatas)
          if (await runner.hasTable(meta.tableName)) left.push(meta.tableName);
        await runner.release();
        if (left.length) {
          problems += 1;
          console.error(`${name} on ${backend}: down migrations left tables: ${left.join(', ')}`);
        } else {
          console.log(`${name} on ${backend}: every migration reverts`);
        }
        await ds.destroy();
      }
    } finally {
      await drop();
    }
  }
  process.exit(problems ? 1 : 0);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
