/**
 * `npm run generate -- --scale N [--seed S]`: writes a reproducible synthetic dataset into the configured
 * databases (MySQL with DATABASE_URL, the embedded SQLite files otherwise), next to the real data, for
 * benchmarks. Scale N gives 50·N organizations, 10·N action plans, 100·N commitments, 5·N budgets and
 * 1,000·N budget lines (N = 1000: 50,000 / 100,000 / 1,000,000). Every record is marked synthetic in its
 * provenance; running it again replaces the synthetic rows and leaves the real ones alone.
 */
import { parseArgs } from 'node:util';
import { prepareSubgraph } from '@civic/common/bootstrap';
import { loadConfig, modulesInOrder } from '@civic/subgraphs';
import { syntheticSizes } from '@civic/formats/synthetic';

async function main() {
  const { values } = parseArgs({
    options: { scale: { type: 'string' }, seed: { type: 'string', default: '42' } },
  });
  const scale = Number(values.scale);
  const seed = Number(values.seed);
  if (!Number.isInteger(scale) || scale < 1 || scale > 10000) {
    throw new Error(`--scale must be an integer from 1 to 10000; got "${values.scale ?? ''}"`);
  }
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer; got "${values.seed}"`);
  const config = loadConfig();
  console.log(`Generating scale ${scale} (seed ${seed}):`, syntheticSizes(scale));
  for (const { name, module } of modulesInOrder()) {
    if (!module.synthetic) continue;
    const storage = config.storage[name];
    const ds = await prepareSubgraph(module, storage, { seed: 'if-empty' });
    const started = process.hrtime.bigint();
    const n = await module.synthetic.generate(ds, scale, seed);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(
      `${name} (${storage.type}): ${n.toLocaleString('en')} ${module.synthetic.what} in ${seconds.toFixed(1)} s` +
        ` (${Math.round(n / seconds).toLocaleString('en')}/s)`,
    );
    await ds.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(`generate failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
