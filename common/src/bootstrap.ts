import { getHeapStatistics } from 'node:v8';
import type { DataSource, Logger } from 'typeorm';
import { migrateOnStart, shutdownTimeoutMs, type Config, type StorageConfig } from './config';
import { ensureDatabase } from './db';
import type { Language } from './localized';
import { logger } from './log';
import type { SubgraphImporter } from './import/kinds';
import { formatImportReport, type ImportReport } from './import/report';
import { assertMigrated, runMigrationsLocked, storageName } from './migrate';
import type { Service } from './service';

/**
 * How a built service runs: whether it owns its data source, the configured language fallback, and its
 * signing secret (SUBGRAPH_SECRET_<NAME>: when set, it answers only requests signed with it).
 */
export interface ServiceRuntimeOptions {
  closeDataSource?: boolean;
  languageFallback?: readonly Language[];
  signatureSecret?: string | null;
}

/** Everything needed to run one subgraph: how to open its storage, seed it and build its service. */
export interface SubgraphModule {
  name: string;
  createDataSource(storage: StorageConfig, logger?: Logger): Promise<DataSource>;
  /** What `npm run import` can load into this subgraph, by kind. */
  importers: readonly SubgraphImporter[];
  /** Loads the bundled datasets through the importers; one report per file. */
  seed(ds: DataSource): Promise<ImportReport[]>;
  /** Adds synthetic rows at a scale (npm run generate): `what` they are, and how many were written. */
  synthetic?: { what: string; generate(ds: DataSource, scale: number, seed: number): Promise<number> };
  isEmpty(ds: DataSource): Promise<boolean>;
  createService(ds: DataSource, opts: ServiceRuntimeOptions): Promise<Service>;
}

/**
 * Opens a subgraph's database and seeds it when asked and empty. With `migrate` (the default, what the
 * commands and the tests want) the database is created when missing and its pending migrations run under the
 * migration lock (common/src/migrate.ts), so concurrent starts wait for one another instead of racing. With
 * `migrate: false` nothing is created or changed: an unmigrated (or missing) database is refused with a
 * message naming it and saying to run `npm run migrate`.
 */
export async function prepareSubgraph(
  mod: SubgraphModule,
  storage: StorageConfig,
  opts: { seed: 'never' | 'if-empty' | 'always'; logger?: Logger; migrate?: boolean },
): Promise<DataSource> {
  const migrate = opts.migrate ?? true;
  if (migrate) await ensureDatabase(storage);
  const ds = await mod.createDataSource(storage, opts.logger);
  try {
    await ds.initialize();
  } catch (err) {
    if (!migrate && (err as { code?: string }).code === 'ER_BAD_DB_ERROR') {
      throw new Error(
        `${mod.name}: database ${storageName(storage)} does not exist: run \`npm run migrate\` ` +
          '(docker compose runs its migrate service first), or start with MIGRATE_ON_START=true',
      );
    }
    throw err;
  }
  try {
    if (migrate) {
      const { ran } = await runMigrationsLocked(ds, storage);
      if (ran.length) logger.info({ service: mod.name, migrations: ran }, 'migrated');
    } else {
      await assertMigrated(ds, storage, mod.name);
    }
  } catch (err) {
    await ds.destroy();
    throw err;
  }
  if (opts.seed === 'always' || (opts.seed === 'if-empty' && (await mod.isEmpty(ds)))) {
    const log = logger.child({ service: mod.name });
    const started = Date.now();
    for (const report of await mod.seed(ds)) {
      log.info({ rows: report.rows, outcome: report.outcome }, formatImportReport(report, 10));
    }
    log.info({ ms: Date.now() - started }, 'seeded');
  }
  return ds;
}

/**
 * Prepares and starts a subgraph on the configured port; the returned service owns its data source. It
 * migrates its database first only on the embedded SQLite file (nobody else runs its migrations) or with
 * MIGRATE_ON_START=true (`env`, default the process's); otherwise migrations are a step of their own
 * (`npm run migrate`) and an unmigrated database is refused.
 */
export async function startSubgraph(
  mod: SubgraphModule,
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ service: Service; url: string }> {
  const storage = config.storage[mod.name];
  const ds = await prepareSubgraph(mod, storage, {
    seed: config.seedOnStart ? 'if-empty' : 'never',
    migrate: storage.type === 'sqlite' || migrateOnStart(env),
  });
  const service = await mod.createService(ds, {
    closeDataSource: true,
    languageFallback: config.languageFallback,
    signatureSecret: config.subgraphSecrets[mod.name],
  });
  const { url } = await service.listen(config.subgraphPorts[mod.name], config.host);
  logger.info(
    { service: mod.name, url, storage: config.storage[mod.name].type },
    `${mod.name} subgraph ready at ${url}`,
  );
  return { service, url };
}

/** The exit code of a process stopped by `signal`, as shells report it: 128 plus the signal's number. */
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/** How long stopping may take beyond SHUTDOWN_TIMEOUT_MS (closing pools) before the process gives up and exits 1. */
const STOP_MARGIN_MS = 5000;

/**
 * Runs a process's services until SIGINT or SIGTERM, then stops them and exits 0: every service turns not-ready
 * at once (GET /ready answers 503), then each one stops in reverse order of start (the gateway first, so no
 * request reaches a stopped subgraph): it accepts no new connection, lets its requests in flight finish within
 * SHUTDOWN_TIMEOUT_MS, cuts the rest, and closes its pools. A second signal while stopping exits at once, with
 * the shell's code for that signal (130 for a second Ctrl-C, 143 for SIGTERM); a stop that takes
 * SHUTDOWN_TIMEOUT_MS plus 5 s (a pool that will not close) exits 1. A failure to start is printed with its
 * message (never a stack for a configuration error) and exits non-zero.
 */
export function runUntilSignal(start: () => Promise<Service[]>): void {
  let services: Service[] = [];
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal while stopping: exiting now, requests in flight are cut');
      process.exit(SIGNAL_EXIT[signal] ?? 1);
    }
    stopping = true;
    // Valid by now: every service read it when it was built.
    const grace = shutdownTimeoutMs();
    const deadline = grace + STOP_MARGIN_MS;
    logger.info({ signal, shutdownTimeoutMs: grace }, 'stopping');
    setTimeout(() => {
      logger.error({ ms: deadline }, `not stopped after ${deadline} ms: exiting anyway`);
      process.exit(1);
    }, deadline).unref();
    for (const s of services) s.drain();
    for (const s of [...services].reverse()) {
      const started = Date.now();
      await s.stop().catch((err) => logger.error({ service: s.name, err: String(err) }, 'stop failed'));
      logger.info({ service: s.name, ms: Date.now() - started }, 'stopped');
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  // The heap limit (--max-old-space-size, set by `npm start` and the Dockerfile's NODE_OPTIONS): said once, so
  // an operator sees what this process may grow to before V8 stops it.
  logger.info({ heapLimitMb: Math.round(getHeapStatistics().heap_size_limit / 1048576) }, 'heap limit');
  start()
    .then((s) => {
      services = s;
    })
    .catch(async (err: unknown) => {
      logger.error({ err: err instanceof Error ? err.message : String(err) }, 'failed to start');
      for (const s of services) await s.stop().catch(() => undefined);
      process.exit(1);
    });
}
