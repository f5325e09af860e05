import { createHash } from 'node:crypto';
import {
  Kind,
  parse,
  print,
  specifiedRules,
  validate,
  visit,
  type DefinitionNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValidationRule,
} from 'graphql';
import type { OperationLimits } from '@civic/common/config';
import { operationLimitsFor } from '@civic/common/limits';

/**
 * A persisted document: one operation (with the fragments it uses) that a client may run by its id, the
 * SHA-256 of its body in lowercase hex (Apollo's persisted query manifests and automatic persisted queries use
 * the same id, so a hash sent by either finds it).
 */
export interface PersistedDocument {
  /** `sha256(body)`, 64 lowercase hex digits. */
  id: string;
  /** The operation's name; null for an anonymous operation. */
  name: string | null;
  /** Always `query`: the graph is read-only (a mutation or subscription is refused when added). */
  type: 'query';
  body: string;
}

/** A persisted document and the client (a dashboard, a newsroom's app) it was added for. */
export interface ClientDocument extends PersistedDocument {
  client: string;
}

/** Apollo's persisted query manifest (`@apollo/generate-persisted-query-manifest`'s output). */
export interface PersistedQueryManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: { id: string; name: string; type: string; body: string }[];
}

/** A client's name: a file name (`dashboard`), a command-line argument and a table key alike. */
export const CLIENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** A document's id: the SHA-256 of its body, 64 hex digits (upper case accepted, stored lower case). */
export const DOCUMENT_ID = /^[0-9a-fA-F]{64}$/;

/** The SHA-256 of a document's body as 64 lowercase hex digits: its id. */
export const sha256Hex = (body: string): string => createHash('sha256').update(body, 'utf8').digest('hex');

/** A document, file or manifest that cannot be persisted: the message says which one and why. */
export class PersistedDocumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PersistedDocumentError';
  }
}

/**
 * Reads an Apollo persisted query manifest (`{"format":"apollo-persisted-query-manifest","version":1,
 * "operations":[{"id","name","type","body"}]}`): every id must be the SHA-256 of its body and every type
 * `query`. `where` names the file in messages.
 */
export function readManifest(text: string, where: string): PersistedDocument[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new PersistedDocumentError(`${where} is not valid JSON: ${(err as Error).message}`);
  }
  const manifest = (json && typeof json === 'object' ? json : {}) as Partial<PersistedQueryManifest>;
  if (manifest.format !== 'apollo-persisted-query-manifest' || manifest.version !== 1) {
    throw new PersistedDocumentError(
      `${where} is not an Apollo persisted query manifest: expected "format": "apollo-persisted-query-manifest" and "version": 1`,
    );
  }
  if (!Array.isArray(manifest.operations)) {
    throw new PersistedDocumentError(`${where}: "operations" must be an array`);
  }
  const seen = new Set<string>();
  return manifest.operations.map((entry: unknown, i) => {
    const op = (entry && typeof entry === 'object' ? entry : {}) as Record<string, unknown>;
    const at = `${where}: operations[${i}]`;
    if (typeof op.body !== 'string' || !op.body.trim())
      throw new PersistedDocumentError(`${at}: "body" must be a GraphQL document`);
    if (typeof op.id !== 'string' || !DOCUMENT_ID.test(op.id))
      throw new PersistedDocumentError(`${at}: "id" must be the SHA-256 of the body (64 hex digits)`);
    const id = op.id.toLowerCase();
    const actual = sha256Hex(op.body);
    if (id !== actual) {
      throw new PersistedDocumentError(
        `${at}: "id" ${id} is not the SHA-256 of its body (${actual}): regenerate the manifest`,
      );
    }
    if (op.type !== undefined && op.type !== 'query') {
      throw new PersistedDocumentError(
        `${at}: "type" is ${JSON.stringify(op.type)}, but this graph answers queries only`,
      );
    }
    if (op.name !== undefined && op.name !== null && typeof op.name !== 'string')
      throw new PersistedDocumentError(`${at}: "name" must be text`);
    if (seen.has(id)) throw new PersistedDocumentError(`${at}: the document ${id} is listed twice`);
    seen.add(id);
    return { id, name: (op.name as string | undefined) || null, type: 'query', body: op.body };
  });
}

/** Documents as an Apollo persisted query manifest (what `persisted:list --json` prints). */
export function toManifest(docs: readonly PersistedDocument[]): PersistedQueryManifest {
  return {
    format: 'apollo-persisted-query-manifest',
    version: 1,
    operations: docs.map((d) => ({ id: d.id, name: d.name ?? '', type: d.type, body: d.body })),
  };
}

/**
 * Splits a `.graphql` file into persisted documents: one per operation, holding the operation and the
 * fragments it uses (directly or through other fragments), sorted by name, printed by graphql-js's `print`.
 * The printed body is what is stored and hashed, so the id does not depend on the file's layout or comments.
 */
export function documentsOfFile(text: string, where: string, maxTokens?: number): PersistedDocument[] {
  let doc: DocumentNode;
  try {
    doc = parse(text, maxTokens ? { maxTokens } : undefined);
  } catch (err) {
    throw new PersistedDocumentError(`${where} does not parse: ${(err as Error).message}`);
  }
  const fragments = new Map<string, FragmentDefinitionNode>();
  const operations: OperationDefinitionNode[] = [];
  for (const def of doc.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    else if (def.kind === Kind.OPERATION_DEFINITION) operations.push(def);
    else throw new PersistedDocumentError(`${where}: only operations and fragments can be persisted`);
  }
  if (!operations.length) throw new PersistedDocumentError(`${where} has no operation`);
  return operations.map((op) => {
    const name = op.name?.value ?? null;
    if (op.operation !== 'query') {
      throw new PersistedDocumentError(
        `${where}: ${op.operation} ${name ?? '(anonymous)'}: this graph answers queries only`,
      );
    }
    const used = new Map<string, FragmentDefinitionNode>();
    const walk = (node: DefinitionNode) =>
      visit(node, {
        FragmentSpread(spread) {
          const fragment = fragments.get(spread.name.value);
          if (!fragment) {
            throw new PersistedDocumentError(
              `${where}: ${name ?? 'the anonymous operation'} uses the fragment ${spread.name.value}, which the file does not define`,
            );
          }
          if (used.has(fragment.name.value)) return;
          used.set(fragment.name.value, fragment);
          walk(fragment);
        },
      });
    walk(op);
    const sorted = [...used.values()].sort((a, b) => a.name.value.localeCompare(b.name.value));
    const body = print({ kind: Kind.DOCUMENT, definitions: [op, ...sorted] });
    return { id: sha256Hex(body), name, type: 'query' as const, body };
  });
}

/**
 * What is wrong with a document against the API schema and the operation limits (tokens, depth, aliases,
 * directives, root fields, expanded fields, body bytes), or an empty list: a document that would be refused
 * when run is refused when added. Cost and string lengths depend on the variables, so they are checked when
 * it runs. Without a schema, only what needs none: bytes, tokens, one operation.
 */
export function documentProblems(
  doc: PersistedDocument,
  schema: GraphQLSchema | undefined,
  limits?: OperationLimits,
): string[] {
  if (limits && Buffer.byteLength(doc.body) > limits.maxBodyBytes) {
    return [`it is larger than the ${limits.maxBodyBytes} bytes a request may have (MAX_BODY_BYTES)`];
  }
  let parsed: DocumentNode;
  try {
    parsed = parse(doc.body, limits ? { maxTokens: limits.maxTokens } : undefined);
  } catch (err) {
    const message = (err as Error).message;
    // graphql-js's own words ("more that N tokens") name no setting.
    return limits && /Document contains more that \d+ tokens/.test(message)
      ? [`it has more than the ${limits.maxTokens} tokens a document may have (MAX_TOKENS)`]
      : [message];
  }
  const operations = parsed.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (operations.length !== 1) return [`it must hold one operation (it has ${operations.length})`];
  if (!schema) return [];
  const rules: ValidationRule[] = [
    ...specifiedRules,
    ...(limits ? operationLimitsFor(limits).validationRules : []),
  ];
  return validate(schema, parsed, rules).map((e) => e.message);
}
