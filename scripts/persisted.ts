/**
 * `npm run persisted:add|list|remove -- ...`: the persisted documents of each client (gateway/src/persisted/).
 *
 *   persisted:add <client> <file.graphql|file.json> [--skip-validation] [--json]
 *   persisted:list [client] [--json]
 *   persisted:remove <client> [id] [--json]
 *
 * The documents are those the gateway serves (same environment: GATEWAY_DATABASE_URL, DATABASE_URL, DATA_DIR),
 * checked against the operation limits of the same environment (MAX_TOKENS, MAX_DEPTH...). Exit status: 0 done,
 * 1 refused or failed, 64 a wrong command line.
 */
import { runPersistedCommand } from '@civic/gateway/persisted/cli';
import { loadConfig } from '@civic/subgraphs/catalog';

runPersistedCommand(process.argv.slice(2), {
  out: (text) => console.log(text),
  err: (text) => console.error(text),
  database: () => loadConfig().gatewayDatabase,
  limits: () => loadConfig().limits,
}).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
