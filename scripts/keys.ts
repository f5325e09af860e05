/**
 * `npm run keys -- <command> ...`: the gateway's API keys (gateway/src/keys/).
 *
 *   keys create --name <who> --cost-per-minute <n> [--export-rows <n>] [--json]
 *   keys list [--json]
 *   keys revoke <id> [--json]
 *
 * The keys are those the gateway uses (same environment: GATEWAY_DATABASE_URL, DATABASE_URL, DATA_DIR). A new
 * key is printed once, on stdout, and never again: only its SHA-256 is stored. Exit status: 0 done (or nothing
 * to do), 1 refused or failed, 64 a wrong command line.
 */
import { runKeysCommand } from '@civic/gateway/keys/cli';
import { loadConfig } from '@civic/subgraphs/catalog';

runKeysCommand(process.argv.slice(2), {
  out: (text) => console.log(text),
  err: (text) => console.error(text),
  database: () => loadConfig().gatewayDatabase,
}).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
