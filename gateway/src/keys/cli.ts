/**
 * The `npm run keys` command (scripts/keys.ts runs it): create, list and revoke the gateway's API keys.
 *
 *   keys create --name <who> --cost-per-minute <n> [--export-rows <n>] [--json]
 *   keys list [--json]
 *   keys revoke <id> [--json]
 *
 * A new key is printed once, on stdout, and never again: only the SHA-256 of its secret is stored.
 */
import {
  checkCommand,
  exitStatus,
  parseCommandLine,
  textTable,
  UsageError,
  type CommandShape,
} from '@civic/common/cli';
import type { GatewayDatabaseConfig } from '@civic/common/config';
import { createKey, KeyCommandError, MAX_QUOTA, revokeKey } from './api-keys';
import { KEY_ID } from './key';
import { openKeyStore, type ApiKeyInfo } from './store';

const USAGE = `Usage:
  npm run keys -- create --name <who> --cost-per-minute <n> [--export-rows <n>] [--json]
  npm run keys -- list [--json]
  npm run keys -- revoke <id> [--json]

--cost-per-minute: the cost (as MAX_COST counts it) the key's holder may spend per minute (anonymous clients:
RATE_LIMIT_COST_PER_MINUTE). --export-rows: the rows it may export per minute (default EXPORT_KEY_ROWS_PER_MINUTE).
The key is printed once; send it as "Authorization: Bearer <key>" or "x-api-key: <key>".
Exit status: 0 done, 1 refused or failed, 64 a wrong command line.`;

/** Where {@link runKeysCommand} writes, and which database it opens (read only once the command line is valid). */
export interface KeysCommandIo {
  out(text: string): void;
  err(text: string): void;
  database(): GatewayDatabaseConfig;
}

const OPTIONS = {
  name: { type: 'string' },
  'cost-per-minute': { type: 'string' },
  'export-rows': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Which options each command accepts, and how many positional arguments (at least, at most). */
const ACCEPTS: Record<string, CommandShape> = {
  create: { options: ['name', 'cost-per-minute', 'export-rows', 'json'], min: 0, max: 0 },
  list: { options: ['json'], min: 0, max: 0 },
  revoke: { options: ['json'], min: 1, max: 1 },
};

type Values = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'string' ? string : boolean;
};

function parse(argv: string[]): { command: string; values: Values; args: string[] } {
  const parsed = parseCommandLine(argv, OPTIONS, (message) => new UsageError(message));
  const values = parsed.values as Values;
  const { args } = parsed;
  if (values.help) return { command: 'help', values, args };
  const command = checkCommand(parsed, ACCEPTS, {
    title: (c) => `keys ${c}`,
    missing: (c) => `keys ${c} needs the key's id (cg_...).`,
  });
  return { command, values, args };
}

/** A quota from the command line: a whole number from 1 to MAX_QUOTA (`_` or `,` may group the digits). */
function quota(
  values: Values,
  flag: 'cost-per-minute' | 'export-rows',
  required: boolean,
): number | undefined {
  const raw = values[flag];
  if (raw === undefined) {
    if (required) throw new UsageError(`--${flag} is required.`);
    return undefined;
  }
  const digits = raw.replace(/[_,]/g, '');
  if (!/^\d+$/.test(digits) || Number(digits) < 1 || Number(digits) > MAX_QUOTA) {
    throw new UsageError(`--${flag} "${raw}": expected a whole number from 1 to ${MAX_QUOTA}.`);
  }
  return Number(digits);
}

/**
 * Runs `npm run keys -- <argv>`: returns the exit status (0 done, 1 refused or failed, 64 a wrong command
 * line), having written what to say to `io`. Everything the command line says is checked before the database
 * is opened.
 */
export async function runKeysCommand(argv: string[], io: KeysCommandIo): Promise<number> {
  return exitStatus(() => run(argv, io), USAGE, io);
}

async function run(argv: string[], io: KeysCommandIo): Promise<number> {
  const { command, values, args } = parse(argv);
  if (command === 'help') {
    io.out(USAGE);
    return 0;
  }
  let create: { name: string; costPerMinute: number; exportRowsPerMinute?: number } | undefined;
  if (command === 'create') {
    const name = values.name?.trim();
    if (!name) throw new UsageError('--name is required: who holds the key (a partner, a newsroom).');
    if (name.length > 255) throw new UsageError(`--name: at most 255 characters (${name.length} given).`);
    create = {
      name,
      costPerMinute: quota(values, 'cost-per-minute', true)!,
      exportRowsPerMinute: quota(values, 'export-rows', false),
    };
  }
  if (command === 'revoke' && !KEY_ID.test(args[0])) {
    throw new UsageError(
      `"${args[0]}" is not a key id: expected cg_ and 8 letters or digits, as keys list shows.`,
    );
  }

  const store = await openKeyStore(io.database());
  try {
    if (create) {
      const { key, info } = await createKey(store, create);
      if (values.json) io.out(JSON.stringify({ ...info, key }, null, 2));
      else {
        io.out(
          [
            `Created API key ${info.id} for ${info.name}: ${quotas(info)}.`,
            'The key (shown once, never stored; send it as "Authorization: Bearer <key>" or "x-api-key: <key>"):',
            '',
            `  ${key}`,
          ].join('\n'),
        );
      }
      return 0;
    }
    if (command === 'list') {
      const keys = await store.list();
      if (values.json) io.out(JSON.stringify(keys, null, 2));
      else io.out(table(keys));
      return 0;
    }
    const { info, already } = await revokeKey(store, args[0]);
    if (values.json) io.out(JSON.stringify({ ...info, alreadyRevoked: already }, null, 2));
    else if (already) io.out(`${info.id} (${info.name}) was already revoked on ${info.revokedAt}.`);
    else
      io.out(
        `Revoked ${info.id} (${info.name}). Running gateways refuse it within 30 s (their cache of keys).`,
      );
    return 0;
  } catch (err) {
    if (!(err instanceof KeyCommandError)) throw err;
    io.err(err.message);
    return 1;
  } finally {
    await store.close();
  }
}

function quotas(k: ApiKeyInfo): string {
  const rows =
    k.exportRowsPerMinute === null ? 'the default export rows' : `${k.exportRowsPerMinute} export rows`;
  return `cost ${k.costPerMinute} and ${rows} per minute`;
}

function table(keys: ApiKeyInfo[]): string {
  const rows = keys.map((k) => [
    k.id,
    k.name,
    String(k.costPerMinute),
    k.exportRowsPerMinute === null ? 'default' : String(k.exportRowsPerMinute),
    k.createdAt,
    k.revokedAt ?? '',
  ]);
  return textTable(['ID', 'NAME', 'COST/MIN', 'EXPORT ROWS/MIN', 'CREATED AT', 'REVOKED AT'], rows);
}
