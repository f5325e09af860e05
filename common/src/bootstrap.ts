import { getHeapStatistics } from 'node:v8';
import type { DataSource, Logger } from 'typeorm';
import type { Config, StorageConfig } from './config';
import { openDataSource } from './db';
import type { Language } from './localized';
import { logger } from './log';
import type { SubgraphImporter } from './import/kinds';
import { formatImportReport, type ImportReport } from './import/report';
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

/** Opens a subgraph's database (creating it and running migrations) and seeds it when asked and empty. */
export async function prepareSubgraph(
  mod: SubgraphModule,
  storage: StorageConfig,
  opts: { seed: 'never' | 'if-empty' | 'always'; logger?: Logger },
): Promise<DataSource> {
  const ds = await mod.createDataSource(storage, opts.logger);
  await openDataSource(ds, storage);
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

/** Prepares and starts a subgraph on the configured port; the returned service owns its data source. */
export async function startSubgraph(
  mod: SubgraphModule,
  config: Config,
): Promise<{ service: Service; url: string }> {
  const ds = await prepareSubgraph(mod, config.storage[mod.name], {
    seed: config.seedOnStart ? 'if-empty' : 'never',
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

/**
 * Runs a process's services until SIGINT or SIGTERM, then stops them in reverse order and exits. A failure
 * to start is printed with its message (never a stack for a configuration error) and exits non-zero.
 */
export function runUntilSignal(start: () => Promise<Service[]>): void {
  let services: Service[] = [];
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
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
