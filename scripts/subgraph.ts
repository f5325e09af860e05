/**
 * `npm run subgraph:<command> -- ...`: the schema registry of partner subgraphs (gateway/src/registry/).
 *
 *   subgraph:check   --name <name> --url <routing-url> [--schema <file.graphql>] [--allow-breaking] [--json]
 *   subgraph:publish --name <name> --url <routing-url> [--schema <file.graphql>] [--owner <who>]
 *                    [--timeout-ms <ms>] [--allow-breaking] [--json]
 *   subgraph:list    [--json]
 *   subgraph:remove  --name <name> [--json]
 *
 * Without --schema the SDL is read from the running subgraph at --url (`{ _service { sdl } }`, signed).
 * The registry is the one the gateway uses (same environment: REGISTRY_DATABASE_URL, REGISTRY_DIR,
 * DATABASE_URL, DATA_DIR). Exit status: 0 done (or nothing to do), 1 refused or failed, 64 a wrong command line.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parseCommandLine, textTable } from '@civic/common/cli';
import type { Problem } from '@civic/gateway/registry/check';
import {
  checkCandidate,
  fetchSdl,
  listSubgraphs,
  publish,
  removeSubgraph,
  UsageError,
  validateName,
  validateUrl,
  type RegistryContext,
  type RegistryReport,
} from '@civic/gateway/registry/registry';
import { openRegistryStore } from '@civic/gateway/registry/store';
import { loadConfig } from '@civic/subgraphs/catalog';

const USAGE = `Usage:
  npm run subgraph:check -- --name <name> --url <routing-url> [--schema <file.graphql>] [--allow-breaking] [--json]
  npm run subgraph:publish -- --name <name> --url <routing-url> [--schema <file.graphql>] [--owner <who>] [--timeout-ms <ms>] [--allow-breaking] [--json]
  npm run subgraph:list [-- --json]
  npm run subgraph:remove -- --name <name> [--json]

Without --schema, the SDL is read from the running subgraph at --url ({ _service { sdl } }).
Exit status: 0 done, 1 refused or failed, 64 a wrong command line.`;

const EX_USAGE = 64;

const OPTIONS = {
  name: { type: 'string' },
  url: { type: 'string' },
  schema: { type: 'string' },
  owner: { type: 'string' },
  'timeout-ms': { type: 'string' },
  'allow-breaking': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Which options each command accepts. */
const ACCEPTS: Record<string, readonly (keyof typeof OPTIONS)[]> = {
  check: ['name', 'url', 'schema', 'allow-breaking', 'json'],
  publish: ['name', 'url', 'schema', 'owner', 'timeout-ms', 'allow-breaking', 'json'],
  list: ['json'],
  remove: ['name', 'json'],
};

type Values = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'string' ? string : boolean;
};

function parse(argv: string[]): { command: string; values: Values } {
  const parsed = parseCommandLine(argv, OPTIONS, (message) => new UsageError(message));
  const values = parsed.values as Values;
  const { command, args: rest } = parsed;
  if (values.help) return { command: 'help', values };
  if (!command || !(command in ACCEPTS)) {
    throw new UsageError(
      command
        ? `Unknown command "${command}": expected check, publish, list or remove.`
        : 'No command given.',
    );
  }
  if (rest.length) throw new UsageError(`Unexpected argument "${rest[0]}".`);
  const extra = (Object.keys(values) as (keyof typeof OPTIONS)[]).filter(
    (k) => !ACCEPTS[command].includes(k),
  );
  if (extra.length) throw new UsageError(`subgraph:${command} does not take --${extra[0]}.`);
  return { command, values };
}

function required(values: Values, key: 'name' | 'url'): string {
  const v = values[key];
  if (!v) throw new UsageError(`--${key} is required.`);
  return v;
}

function timeoutOf(values: Values): number | undefined {
  const raw = values['timeout-ms'];
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 600_000) {
    throw new UsageError(`--timeout-ms "${raw}": expected a whole number of milliseconds from 1 to 600000.`);
  }
  return Number(raw);
}

/** The SDL from --schema (relative to where `npm run` was typed), else from the running subgraph. */
async function sdlOf(name: string, url: string, schema: string | undefined): Promise<string> {
  if (!schema) return fetchSdl(name, url);
  const path = isAbsolute(schema) ? schema : resolve(process.env.INIT_CWD ?? process.cwd(), schema);
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(
      `--schema ${schema}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
}

const bullet = (p: Problem) =>
  `  - [${p.kind}${p.code && p.kind === 'composition' ? ` ${p.code}` : ''}] ${p.message}`;

function describe(r: RegistryReport, command: string): string {
  const lines: string[] = [];
  const n = r.problems.length;
  switch (r.outcome) {
    case 'refused':
      lines.push(`${r.name}: refused (${n} problem${n === 1 ? '' : 's'}):`, ...r.problems.map(bullet));
      break;
    case 'ok':
      lines.push(
        `${r.name}: may be published${r.version ? ` (version ${r.version} is current)` : ' (new subgraph)'}.`,
      );
      break;
    case 'unchanged':
      lines.push(
        `${r.name}: unchanged: version ${r.version} has the same SDL and URL${command === 'publish' ? ', nothing was published' : ''}.`,
      );
      break;
    case 'published':
      lines.push(`${r.name}: published version ${r.version}; running gateways serve it within seconds.`);
      break;
    case 'removed':
      lines.push(`${r.name}: removed (it was at version ${r.version}).`);
      break;
  }
  const removed = r.outcome === 'removed';
  const breaking = r.warnings.filter((w) => w.code && !w.message.startsWith('Dangerous'));
  const other = r.warnings.filter((w) => !breaking.includes(w));
  if (removed && breaking.length)
    lines.push(
      'What disappears for clients:',
      ...breaking.map((w) => `  - ${w.message.replace(/^Breaking for clients: /, '')}`),
    );
  else if (breaking.length)
    lines.push('Breaking changes (allowed by --allow-breaking):', ...breaking.map(bullet));
  if (other.length) lines.push('Warnings:', ...other.map(bullet));
  return lines.join('\n');
}

async function main(): Promise<number> {
  const { command, values } = parse(process.argv.slice(2));
  if (command === 'help') {
    console.log(USAGE);
    return 0;
  }
  const name = command === 'list' ? '' : required(values, 'name');
  if (name) validateName(name);
  const url = command === 'check' || command === 'publish' ? required(values, 'url') : '';
  if (url) validateUrl(url);
  const timeoutMs = timeoutOf(values);

  const config = loadConfig();
  const ctx: RegistryContext = {
    store: await openRegistryStore(config.registry),
    coreUrls: config.subgraphUrls,
  };
  try {
    if (command === 'list') {
      const rows = await listSubgraphs(ctx);
      if (values.json) console.log(JSON.stringify(rows, null, 2));
      else
        console.log(
          table(
            rows.map((r) => [
              r.name,
              r.url,
              String(r.version),
              r.publishedAt ?? '',
              r.owner,
              r.timeoutMs ? String(r.timeoutMs) : '',
            ]),
          ),
        );
      return 0;
    }
    let report: RegistryReport;
    if (command === 'remove') {
      report = await removeSubgraph(ctx, name);
    } else {
      const sdl = await sdlOf(name, url, values.schema);
      const candidate = { name, url, sdl, owner: values.owner, timeoutMs };
      const opts = { allowBreaking: values['allow-breaking'] ?? false };
      report =
        command === 'check'
          ? await checkCandidate(ctx, candidate, opts)
          : await publish(ctx, candidate, opts);
    }
    if (values.json) {
      // The composed supergraph is long and for the gateway, not for a reader of the report.
      const { supergraphSdl: _supergraph, ...rest } = report;
      console.log(JSON.stringify(rest, null, 2));
    } else {
      console.log(describe(report, command));
    }
    return report.ok ? 0 : 1;
  } finally {
    await ctx.store.close();
  }
}

function table(rows: string[][]): string {
  return textTable(['NAME', 'URL', 'VERSION', 'PUBLISHED AT', 'OWNER', 'TIMEOUT MS'], rows);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n\n${USAGE}`);
      process.exit(EX_USAGE);
    }
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
