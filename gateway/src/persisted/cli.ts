/**
 * The `npm run persisted:*` commands (scripts/persisted.ts runs them): the persisted documents of each client,
 * in the gateway's database.
 *
 *   persisted:add <client> <file.graphql|file.json> [--skip-validation] [--json]
 *   persisted:list [client] [--json]
 *   persisted:remove <client> [id] [--json]
 *
 * A `.graphql` file gives one document per operation (with the fragments it uses); a `.json` file is an Apollo
 * persisted query manifest, whose ids are checked. Every document is checked against the checked-in supergraph's
 * API schema and the operation limits before anything is stored.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { Supergraph } from '@apollo/federation-internals';
import type { GraphQLSchema } from 'graphql';
import {
  checkCommand,
  exitStatus,
  parseCommandLine,
  textTable,
  UsageError,
  type CommandShape,
} from '@civic/common/cli';
import type { GatewayDatabaseConfig, OperationLimits } from '@civic/common/config';
import { readSupergraph } from '../supergraph';
import {
  CLIENT_NAME,
  DOCUMENT_ID,
  documentProblems,
  documentsOfFile,
  PersistedDocumentError,
  readManifest,
  type ClientDocument,
  type PersistedDocument,
} from './documents';
import { loadManifests, MANIFESTS_DIR } from './known';
import { openPersistedStore } from './store';

const USAGE = `Usage:
  npm run persisted:add -- <client> <file.graphql|file.json> [--skip-validation] [--json]
  npm run persisted:list -- [client] [--json]
  npm run persisted:remove -- <client> [id] [--json]

<client>: who sends the documents (a dashboard, an app): letters, digits, ".", "_", "-".
A .graphql file: each operation becomes one document (with the fragments it uses), its id the SHA-256 of its
body as stored. A .json file: an Apollo persisted query manifest ({"format":"apollo-persisted-query-manifest",
"version":1,"operations":[{"id","name","type","body"}]}); each id must be the SHA-256 of its body.
Documents are checked against schema/supergraph.graphql and the operation limits (--skip-validation: only their
size and tokens, for a partner's types). Running gateways serve an added document within seconds:
GET /graphql?id=<id>&variables=<JSON>, or POST {"documentId": "sha256:<id>", "variables": {...}}.
remove without an id removes all of the client's documents.
Exit status: 0 done, 1 refused or failed, 64 a wrong command line.`;

/** Where {@link runPersistedCommand} writes, and what it reads (only once the command line is valid). */
export interface PersistedCommandIo {
  out(text: string): void;
  err(text: string): void;
  database(): GatewayDatabaseConfig;
  /** The operation limits documents are checked against (MAX_TOKENS, MAX_DEPTH...). */
  limits(): OperationLimits;
  /** The built-in manifests' directory; default gateway/src/persisted/manifests. */
  manifestsDir?: string;
}

const OPTIONS = {
  json: { type: 'boolean' },
  'skip-validation': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Which options each command accepts, and how many positional arguments (at least, at most). */
const ACCEPTS: Record<string, CommandShape> = {
  add: { options: ['json', 'skip-validation'], min: 2, max: 2 },
  list: { options: ['json'], min: 0, max: 1 },
  remove: { options: ['json'], min: 1, max: 2 },
};

type Values = { json?: boolean; 'skip-validation'?: boolean; help?: boolean };

function parse(argv: string[]): { command: string; values: Values; args: string[] } {
  const parsed = parseCommandLine(argv, OPTIONS, (message) => new UsageError(message));
  const values = parsed.values as Values;
  const { args } = parsed;
  if (values.help) return { command: 'help', values, args };
  const command = checkCommand(parsed, ACCEPTS, {
    title: (c) => `persisted:${c}`,
    missing: (c) =>
      c === 'add'
        ? 'persisted:add needs the client and the file: persisted:add <client> <file.graphql|file.json>.'
        : 'persisted:remove needs the client (and, to remove one document, its id).',
  });
  if (args[0] !== undefined && !CLIENT_NAME.test(args[0])) {
    throw new UsageError(
      `"${args[0]}" is not a client name: 1 to 100 letters, digits, ".", "_" or "-", starting with a letter or digit.`,
    );
  }
  if (command === 'add' && !['.graphql', '.gql', '.json'].includes(extname(args[1]).toLowerCase())) {
    throw new UsageError(`"${args[1]}": expected a .graphql file or an Apollo manifest (.json).`);
  }
  if (command === 'remove' && args[1] !== undefined && !DOCUMENT_ID.test(args[1])) {
    throw new UsageError(`"${args[1]}" is not a document id: 64 hex digits, as persisted:list shows.`);
  }
  return { command, values, args };
}

/**
 * Runs `npm run persisted:<command> -- <argv>` (argv begins with the command: add, list or remove): returns the
 * exit status (0 done, 1 refused or failed, 64 a wrong command line), having written what to say to `io`.
 * Everything the command line and the file say is checked before the database is opened.
 */
export async function runPersistedCommand(argv: string[], io: PersistedCommandIo): Promise<number> {
  return exitStatus(() => run(argv, io), USAGE, io);
}

async function run(argv: string[], io: PersistedCommandIo): Promise<number> {
  const { command, values, args } = parse(argv);
  if (command === 'help') {
    io.out(USAGE);
    return 0;
  }
  let docs: PersistedDocument[] | undefined;
  if (command === 'add') {
    try {
      docs = readDocuments(args[1], io.limits(), !values['skip-validation']);
    } catch (err) {
      if (!(err instanceof PersistedDocumentError)) throw err;
      io.err(err.message);
      return 1;
    }
  }
  const builtIn = loadManifests(io.manifestsDir ?? MANIFESTS_DIR);
  const store = await openPersistedStore(io.database());
  try {
    if (docs) {
      const client = args[0];
      if (builtIn.some((d) => d.client === client)) {
        io.err(
          `"${client}" is a built-in manifest's client (gateway/src/persisted/manifests/${client}.json): edit that file, or choose another client name`,
        );
        return 1;
      }
      const result = await store.add(client, docs, new Date().toISOString());
      if (values.json) io.out(JSON.stringify({ client, ...result, documents: docs }, null, 2));
      else {
        const state = (id: string) =>
          result.added.includes(id) ? 'added' : result.renamed.includes(id) ? 'renamed' : 'unchanged';
        io.out(
          [
            `${client}: ${result.added.length} added, ${result.renamed.length} renamed, ${result.unchanged.length} unchanged (${store.location}).`,
            '',
            textTable(
              ['ID', 'NAME', ''],
              docs.map((d) => [d.id, d.name ?? '(anonymous)', state(d.id)]),
            ),
            '',
            'Running gateways serve them within seconds: GET /graphql?id=<id>&variables=<JSON>.',
          ].join('\n'),
        );
      }
      return 0;
    }
    if (command === 'list') {
      const client = args[0];
      const stored = await store.list(client);
      const manifests = builtIn.filter((d) => !client || d.client === client);
      const all = [
        ...manifests.map((d) => ({ ...d, source: 'manifest', addedAt: null as string | null })),
        ...stored.map((d) => ({ ...d, source: 'database' })),
      ];
      if (values.json) io.out(JSON.stringify(all, null, 2));
      else if (!all.length)
        io.out(client ? `No persisted documents for "${client}".` : 'No persisted documents.');
      else {
        io.out(
          textTable(
            ['CLIENT', 'ID', 'NAME', 'SOURCE', 'ADDED AT'],
            all.map((d) => [d.client, d.id, d.name ?? '(anonymous)', d.source, d.addedAt ?? '']),
          ),
        );
      }
      return 0;
    }
    const [client, id] = args;
    if (builtIn.some((d: ClientDocument) => d.client === client && (!id || d.id === id.toLowerCase()))) {
      io.err(
        `"${client}" is a built-in manifest's client (gateway/src/persisted/manifests/${client}.json): its documents are removed by editing that file`,
      );
      return 1;
    }
    const removed = await store.remove(client, id?.toLowerCase());
    if (values.json) io.out(JSON.stringify({ client, id: id?.toLowerCase() ?? null, removed }, null, 2));
    if (!removed) {
      io.err(
        id
          ? `"${client}" has no document ${id.toLowerCase()} (see npm run persisted:list -- ${client})`
          : `"${client}" has no persisted documents (see npm run persisted:list)`,
      );
      return 1;
    }
    if (!values.json) {
      io.out(
        `Removed ${removed} document${removed === 1 ? '' : 's'} of ${client}. Running gateways refuse ${removed === 1 ? 'it' : 'them'} within seconds.`,
      );
    }
    return 0;
  } finally {
    await store.close();
  }
}

/** Reads and checks a file's documents: every problem of every document, at once. */
function readDocuments(file: string, limits: OperationLimits, validate: boolean): PersistedDocument[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PersistedDocumentError(`${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  const docs =
    extname(file).toLowerCase() === '.json'
      ? readManifest(text, file)
      : documentsOfFile(text, file, limits.maxTokens);
  if (!docs.length) throw new PersistedDocumentError(`${file} has no operation`);
  const schema = validate ? apiSchema() : undefined;
  const problems = docs.flatMap((d) =>
    documentProblems(d, schema, limits).map((p) => `- ${d.name ?? d.id}: ${p}`),
  );
  if (problems.length) {
    throw new PersistedDocumentError(`${file}: nothing was added:\n${problems.join('\n')}`);
  }
  return docs;
}

/** The API schema of the checked-in supergraph (schema/supergraph.graphql). */
function apiSchema(): GraphQLSchema {
  return Supergraph.build(readSupergraph()).apiSchema().toGraphQLJSSchema();
}
