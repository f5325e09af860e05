/**
 * `npm run migrate [-- --only <subgraph>]`: runs the pending migrations of every catalog subgraph's database
 * (MySQL with DATABASE_URL or <SUBGRAPH>_DATABASE_URL, the embedded SQLite files otherwise), creating a missing
 * database first. One-shot: docker compose's `migrate` service and a Kubernetes Job run it before the
 * services start. Each database is migrated under its migration lock (MySQL `GET_LOCK`), so two runs at once
 * wait for each other and the second finds nothing to do. One JSON log line per subgraph: the migrations run,
 * or "up to date". Exit status: 0 migrated (or up to date), 1 failed, 64 wrong usage.
 */
import { parseArgs } from 'node:util';
import { logger } from '@civic/common/log';
import { migrateSubgraph } from '@civic/common/migrate';
import { loadConfig, MODULES, SUBGRAPH_NAMES, type SubgraphName } from '@civic/subgraphs';

const EX_USAGE = 64;

class UsageError extends Error {}

const USAGE = [
  'Usage: npm run migrate [-- --only <subgraph>]',
  '',
  `Runs the pending migrations of each subgraph's database (${SUBGRAPH_NAMES.join(', ')}), one at a time,`,
  'each under a database lock so that concurrent runs wait instead of racing.',
  '',
  'Options:',
  '  --only <subgraph>   migrate this subgraph only (repeatable)',
  '',
  'Exit status: 0 migrated or up to date, 1 failed, 64 wrong usage.',
].join('\n');

function parse(argv: string[]): { names: SubgraphName[]; help: boolean } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { only: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const only = parsed.values.only ?? [];
  const unknown = only.filter((n) => !SUBGRAPH_NAMES.includes(n as SubgraphName));
  if (unknown.length) {
    throw new UsageError(
      `--only: no subgraph ${unknown.join(', ')} (expected one of ${SUBGRAPH_NAMES.join(', ')})`,
    );
  }
  const names = only.length ? SUBGRAPH_NAMES.filter((n) => only.includes(n)) : [...SUBGRAPH_NAMES];
  return { names, help: parsed.values.help ?? false };
}

async function main(): Promise<number> {
  let args;
  try {
    args = parse(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n\n${USAGE}`);
    return EX_USAGE;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const config = loadConfig();
  // One after the other, in the catalog's order: a failure stops the run before the next database.
  for (const name of args.names) {
    const r = await migrateSubgraph(MODULES[name], config.storage[name]).catch((err: unknown) => {
      throw new Error(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    });
    logger.info(
      { service: r.name, storage: r.storage, database: r.database, migrations: r.ran, ms: r.ms },
      r.ran.length
        ? `${r.name}: ran ${r.ran.length} migration(s): ${r.ran.join(', ')}`
        : `${r.name}: up to date`,
    );
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    logger.error({ err: err instanceof Error ? err.message : String(err) }, 'migration failed');
    process.exit(1);
  },
);
