import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Kind,
  parse,
  print,
  visit,
  type DefinitionNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
} from 'graphql';

/** One operation of an Apollo persisted-query manifest: its id is the SHA-256 (hex) of its body. */
export interface PersistedOperation {
  id: string;
  name: string;
  type: 'query' | 'mutation' | 'subscription';
  body: string;
}

/** Apollo's persisted-query manifest (`@apollo/generate-persisted-query-manifest`'s format, version 1). */
export interface PersistedQueryManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: PersistedOperation[];
}

/** The dashboard's operations, as written (the source of the manifest). */
export const QUERIES_FILE = join(__dirname, 'queries.graphql');

/** The generated manifest the gateway loads with every other client's (gateway/src/persisted/manifests/). */
export const MANIFEST_FILE = join(__dirname, '..', 'persisted', 'manifests', 'dashboard.json');

/**
 * The manifest of a GraphQL file's operations, in the file's order: each operation's body is the operation
 * and the fragments it uses, printed by graphql-js (so comments and layout do not change an id), and its id the
 * SHA-256 of that body. Every operation must be named, once: a manifest is looked up by id and read by name.
 */
export function manifestOf(source: string): PersistedQueryManifest {
  const doc = parse(source);
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const seen = new Set<string>();
  const operations: PersistedOperation[] = [];
  for (const d of doc.definitions) {
    if (d.kind !== Kind.OPERATION_DEFINITION) continue;
    const name = d.name?.value;
    if (!name) throw new Error('Every operation of a persisted-query file needs a name');
    if (seen.has(name)) throw new Error(`The operation "${name}" is defined twice`);
    seen.add(name);
    const body = print({ kind: Kind.DOCUMENT, definitions: [d, ...fragmentsUsed(d, fragments)] });
    operations.push({ id: sha256(body), name, type: d.operation, body });
  }
  return { format: 'apollo-persisted-query-manifest', version: 1, operations };
}

/** The manifest as the file holds it: two-space JSON and a final newline (what prettier leaves unchanged). */
export function serializeManifest(manifest: PersistedQueryManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** The operation ids of a manifest by operation name: what the page sends. */
export function operationIds(manifest: PersistedQueryManifest): Record<string, string> {
  return Object.fromEntries(manifest.operations.map((o) => [o.name, o.id]));
}

/** The checked-in manifest, read from {@link MANIFEST_FILE}. */
export function readManifest(file = MANIFEST_FILE): PersistedQueryManifest {
  return JSON.parse(readFileSync(file, 'utf8')) as PersistedQueryManifest;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** The fragments an operation spreads, directly or through other fragments, each once, in name order. */
function fragmentsUsed(
  op: OperationDefinitionNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
): DefinitionNode[] {
  const used = new Map<string, FragmentDefinitionNode>();
  const walk = (node: OperationDefinitionNode | FragmentDefinitionNode) =>
    visit(node, {
      FragmentSpread(spread) {
        const name = spread.name.value;
        if (used.has(name)) return;
        const fragment = fragments.get(name);
        if (!fragment) throw new Error(`Unknown fragment "${name}"`);
        used.set(name, fragment);
        walk(fragment);
      },
    });
  walk(op);
  return [...used.keys()].sort().map((n) => used.get(n)!);
}

// `npx tsx gateway/src/dashboard/manifest.ts` regenerates the manifest; with `--check` it only says whether the
// checked-in one is current (exit 1 when not), as `compose:check` does for the supergraph.
if (require.main === module) {
  const expected = serializeManifest(manifestOf(readFileSync(QUERIES_FILE, 'utf8')));
  let current: string | undefined;
  try {
    current = readFileSync(MANIFEST_FILE, 'utf8');
  } catch {
    current = undefined;
  }
  if (process.argv.includes('--check')) {
    if (current !== expected) {
      console.error(
        `${MANIFEST_FILE} is not in sync with ${QUERIES_FILE}: run npx tsx gateway/src/dashboard/manifest.ts`,
      );
      process.exit(1);
    }
    console.log('The dashboard manifest is current.');
  } else if (current === expected) console.log('The dashboard manifest is already current.');
  else {
    writeFileSync(MANIFEST_FILE, expected);
    console.log(`Wrote ${MANIFEST_FILE}`);
  }
}
