import type { DataSource } from 'typeorm';
import type { GatewayDatabaseConfig } from '@civic/common/config';
import { createDataSource, ensureDatabase } from '@civic/common/db';

/** One table of the gateway's own database, opened: what the API keys and the persisted documents are kept in. */
export interface GatewayTable {
  ds: DataSource;
  dialect: 'sqlite' | 'mysql';
  /** Where it is, for messages: `SQLite file <path>` or `MySQL database <name> on <host>` (no credentials). */
  location: string;
}

/**
 * Opens the gateway's database (creating the MySQL database or the SQLite file when missing) and creates one of
 * its tables when missing, with the statement of its dialect. The gateway's tables are created this way rather
 * than by migrations: they belong to no subgraph, and the gateway replicas and the commands that open them
 * (`npm run keys`, `npm run persisted:*`) run no migrations, so a change to one must stay additive.
 */
export async function openGatewayTable(
  config: GatewayDatabaseConfig,
  create: { sqlite: string; mysql: string },
): Promise<GatewayTable> {
  await ensureDatabase(config);
  const ds = await createDataSource({ storage: config, entities: [], migrations: [] });
  await ds.initialize();
  const dialect = config.type === 'mysql' ? 'mysql' : 'sqlite';
  try {
    await ds.query(create[dialect]);
  } catch (err) {
    await ds.destroy();
    throw err;
  }
  const location =
    config.type === 'mysql'
      ? `MySQL database ${config.database} on ${new URL(config.url).host}`
      : `SQLite file ${config.path}`;
  return { ds, dialect, location };
}
