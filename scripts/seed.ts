/**
 * `npm run seed`: runs the migrations and loads the real datasets into every subgraph's database (MySQL when
 * DATABASE_URL is set, the embedded SQLite files otherwise). Safe to run again: rows are upserted by key.
 * Prints what was loaded and every refused row with its reason; exits 1 if a dataset could not be read.
 */
import { prepareSubgraph } from '@civic/common/bootstrap';
import { loadConfig, modulesInOrder } from '@civic/subgraphs';

async function main() {
  const config = loadConfig();
  for (const { name, module } of modulesInOrder()) {
    const ds = await prepareSubgraph(module, config.storage[name], { seed: 'always' });
    await ds.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(`Seed failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
