/**
 * `npm run export`: exports the first connection of a query (or of a saved query) as CSV or JSON, every page
 * of it, into a file or to stdout. It asks a running gateway's `/export.csv` or `/export.json`, so the
 * command line and the browser download go through the one exporter, with the gateway's limits.
 *
 *   npm run export -- --name organizations --variables '{"filter":{"country":"TN"}}' --out tn.csv
 *   npm run export -- --query my-query.graphql --variables-file vars.json --format json --out rows.json
 *
 * Exit codes: 0 done; 1 the export failed (gateway unreachable, query refused, export cut off: nothing is
 * left at --out); 2 bad arguments.
 */
import { createWriteStream, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import { parseArgs } from 'node:util';
import { loadConfig } from '@civic/subgraphs/catalog';

const USAGE = `Usage: npm run export -- (--query <file.graphql> | --name <saved query>) [options]

  --query <file>           a GraphQL query; its first connection (nodes or edges { node }) is exported, all pages
  --name <name>            a saved query instead: organizations, commitments, budget-lines
  --variables <json>       the query's variables, a JSON object, e.g. '{"filter":{"country":"TN"}}'
  --variables-file <file>  the same, read from a file
  --operation-name <name>  which operation to run, when the file has several
  --format csv|json        default: json when --out ends in .json, csv otherwise
  --out <file>             where to write (default: stdout; then run npm with -s to keep its banner out)
  --bom                    start the CSV with a byte order mark, for Excel
  --gateway <url>          the gateway (default: http://localhost:<GATEWAY_PORT>, GATEWAY_PORT being 4000)
`;

/** Wrong arguments: exit code 2, with the usage. */
class UsageError extends Error {}

interface Options {
  url: string;
  body: Record<string, unknown>;
  out: string | null;
}

function readOptions(argv: string[]): Options | null {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        query: { type: 'string' },
        name: { type: 'string' },
        variables: { type: 'string' },
        'variables-file': { type: 'string' },
        'operation-name': { type: 'string' },
        format: { type: 'string' },
        out: { type: 'string' },
        bom: { type: 'boolean' },
        gateway: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return null;
  if (!values.query === !values.name)
    throw new UsageError('Give either --query <file.graphql> or --name <saved query>');
  if (values.variables && values['variables-file']) {
    throw new UsageError('Give either --variables or --variables-file, not both');
  }
  const out = values.out ?? null;
  const format = values.format ?? (out?.toLowerCase().endsWith('.json') ? 'json' : 'csv');
  if (format !== 'csv' && format !== 'json')
    throw new UsageError(`--format must be csv or json, not "${format}"`);
  const query = values.query ? readText(values.query, '--query') : undefined;
  const variablesText = values['variables-file']
    ? readText(values['variables-file'], '--variables-file')
    : values.variables;
  let variables: unknown;
  if (variablesText !== undefined) {
    try {
      variables = JSON.parse(variablesText);
    } catch (err) {
      throw new UsageError(`The variables are not valid JSON: ${(err as Error).message}`);
    }
    if (!variables || typeof variables !== 'object' || Array.isArray(variables)) {
      throw new UsageError('The variables must be a JSON object, e.g. {"filter":{"country":"TN"}}');
    }
  }
  let gateway: string;
  try {
    gateway = values.gateway ?? `http://localhost:${loadConfig().gatewayPort}`;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  // The GraphQL endpoint's URL works too: the exports sit beside it.
  const base = gateway.replace(/\/+$/, '').replace(/\/graphql$/, '');
  if (!URL.canParse(base) || !/^https?:/.test(base))
    throw new UsageError(`--gateway is not an http(s) URL: "${gateway}"`);
  return {
    url: `${base}/export.${format}`,
    body: {
      query,
      name: values.name,
      variables,
      operationName: values['operation-name'],
      bom: values.bom ?? false,
    },
    out,
  };
}

function readText(file: string, option: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(
      `${option}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
}

async function run(opts: Options): Promise<number> {
  let res: Response;
  try {
    res = await fetch(opts.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(opts.body),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    console.error(
      `Cannot reach the gateway at ${new URL(opts.url).origin} (${cause?.code ?? cause?.message ?? String(err)}): ` +
        'is it running (npm start)? Otherwise pass --gateway <url>.',
    );
    return 1;
  }
  const requestId = res.headers.get('x-request-id');
  if (!res.ok || !res.body) {
    const text = await res.text();
    let messages: string[];
    try {
      messages = (JSON.parse(text) as { errors: { message: string }[] }).errors.map((e) => e.message);
    } catch {
      messages = [text.slice(0, 500) || res.statusText];
    }
    console.error(`The gateway refused the export (HTTP ${res.status}):`);
    for (const m of messages) console.error(`  ${m}`);
    return 1;
  }
  const partial = opts.out ? `${opts.out}.part` : null;
  const destination: Writable = partial ? createWriteStream(partial) : process.stdout;
  try {
    await pipeline(Readable.fromWeb(res.body as ReadableStream<Uint8Array>), destination, {
      end: partial !== null,
    });
  } catch (err) {
    if (partial) rmSync(partial, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    // stdout closed by its reader (`| head`): what was wanted has been written, as for any Unix tool.
    if (code === 'EPIPE' && !partial) return 0;
    if (code && /^E[A-Z]+$/.test(code)) {
      console.error(`Cannot write ${opts.out ?? 'to stdout'} (${code}): the export was stopped.`);
      return 1;
    }
    const what = opts.out ? `nothing was written to ${opts.out}` : 'the output above is incomplete';
    const log = requestId ? ` (request ${requestId})` : '';
    console.error(
      `The export was cut off before its end (${(err as Error).message}): ${what}. The gateway's log says why${log}.`,
    );
    return 1;
  }
  if (partial && opts.out) {
    renameSync(partial, opts.out);
    const total = res.headers.get('x-total-count');
    console.error(
      `Wrote ${opts.out} (${statSync(opts.out).size} bytes${total !== null ? `, ${total} rows` : ''}).`,
    );
  }
  return 0;
}

async function main(argv: string[]): Promise<number> {
  let opts: Options | null;
  try {
    opts = readOptions(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (!opts) {
    process.stdout.write(USAGE);
    return 0;
  }
  return run(opts);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`Export failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
