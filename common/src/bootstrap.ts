import type { DataSource, Logger } from 'typeorm';
import type { Config, StorageConfig, SubgraphName } from './config';
import { openDataSource } from './db';
import type { Language } from './localized';
import { logger } from './log';
import { formatReport, type SeedReport } from './seed';
import type { Service } from './service';

/** How a built service runs: whether it owns its data source, and the configured language fallback. */
export interface ServiceRuntimeOptions {
  closeDataSource?: boolean;
  languageFallback?: readonly Language[];
}

/** Everything needed to run one subgraph: how to open its storage, seed it and build its service. */
export interface SubgraphModule {
  name: SubgraphName;
  createDataSource(storage: StorageConfig, logger?: Logger): Promise<DataSource>;
  seed(ds: DataSource): Promise<SeedReport[]>;
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
      log.info(
        { loaded: report.loaded, refused: report.refused.length, warnings: report.warnings.length },
        formatReport(report),
      );
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
    for (const s of [...services].reverse())
      await s.stop().catch((err) => logger.error({ err: String(err) }, 'stop failed'));
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
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
