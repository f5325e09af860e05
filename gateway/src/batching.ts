/**
 * Parallel calls of one query plan to one subgraph, sent as one request. A plan often fetches from the same
 * subgraph twice at the same moment: `countryCommitments` asks organizations for each commitment's members and,
 * in parallel, for each commitment's action plan's country, two `_entities` calls. Each call costs the subgraph
 * a whole HTTP request (parsing, validation, its request scope) before any resolver runs, and its DataLoaders
 * cannot batch across the two. Hive Gateway merges such calls into one operation; so does this.
 *
 * How: each call's operation keeps its selections under aliases prefixed with its index (`_0_`, `_1_`, …), its
 * variables and fragments are renamed the same way, and the merged operation is printed once per combination of
 * operations (a plan's operations are fixed, so the combinations are few). The answer is split back: each call
 * gets its own fields under their own names, and the errors whose path starts under its aliases, with that path.
 * An error without a path goes to every call (each would have had it alone). A merged operation the subgraph
 * refuses (a partner's limits may count aliases or root fields across the calls) is sent again as separate calls,
 * and those operations are not merged again.
 */
import {
  Kind,
  parse,
  print,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionNode,
  type VariableDefinitionNode,
} from 'graphql';

/** One call of a plan, as the gateway hands it to a data source. */
export interface BatchPart {
  query: string;
  variables?: Record<string, unknown>;
}

/** What a subgraph answered (the part of a GraphQL response the gateway reads). */
export interface BatchAnswer {
  data?: Record<string, unknown> | null;
  errors?: readonly { message: string; path?: readonly (string | number)[]; locations?: unknown }[];
  extensions?: Record<string, unknown>;
}

/** Several calls merged into one operation, and how to split its answer back. */
export interface MergedCall {
  query: string;
  operationName: string;
  variables: Record<string, unknown>;
  /** Each call's own answer, in the order of the parts. */
  split<T extends BatchAnswer>(answer: T): T[];
  /** The merged operations, as one key (a data source remembers those its subgraph refused merged). */
  key: string;
}

/** Prefix of call `i`'s aliases, variables and fragments in a merged operation. */
const prefix = (i: number) => `_${i}_`;
const PREFIXED = /^_(\d+)_(.*)$/s;

/** A combination of operations merged: its printed text, its name, and each part's variables (before renaming). */
interface Shape {
  operationName: string;
  /** Each part's variable names, by part index. */
  variables: string[][];
  query: string;
}

/** Merged operations by the parts' queries (a bounded cache: the plans' operations are few and fixed). */
const shapes = new Map<string, Shape | null>();
const MAX_SHAPES = 2_000;

/**
 * The parts merged into one query operation, or null when they cannot be (a part is not a single query
 * operation, or selects at its root something other than fields). The caller then sends each on its own.
 */
export function mergeCalls(parts: readonly BatchPart[], name: string): MergedCall | null {
  if (parts.length < 2) return null;
  const key = parts.map((p) => p.query).join('\u0000');
  let shape = shapes.get(key);
  if (shape === undefined) {
    shape = mergeShape(parts, name);
    if (shapes.size >= MAX_SHAPES) shapes.clear();
    shapes.set(key, shape);
  }
  if (shape === null) return null;
  const variables: Record<string, unknown> = {};
  parts.forEach((part, i) => {
    for (const v of shape.variables[i]!) {
      if (part.variables && Object.prototype.hasOwnProperty.call(part.variables, v)) {
        variables[prefix(i) + v] = part.variables[v];
      }
    }
  });
  const count = parts.length;
  return {
    query: shape.query,
    operationName: shape.operationName,
    variables,
    split: <T extends BatchAnswer>(answer: T) => splitAnswer(answer, count),
    key,
  };
}

function mergeShape(parts: readonly BatchPart[], name: string): Shape | null {
  const variableDefinitions: VariableDefinitionNode[] = [];
  const selections: SelectionNode[] = [];
  const fragments: FragmentDefinitionNode[] = [];
  const variables: string[][] = [];
  for (const [i, part] of parts.entries()) {
    let document: DocumentNode;
    try {
      document = parse(part.query, { noLocation: true });
    } catch {
      return null;
    }
    const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
    if (operations.length !== 1) return null;
    const operation = operations[0] as OperationDefinitionNode;
    if (operation.operation !== 'query') return null;
    if (operation.selectionSet.selections.some((s) => s.kind !== Kind.FIELD)) return null;
    const p = prefix(i);
    const renamed = visit(document, {
      Variable: (node) => ({ ...node, name: { ...node.name, value: p + node.name.value } }),
      FragmentSpread: (node) => ({ ...node, name: { ...node.name, value: p + node.name.value } }),
      FragmentDefinition: (node) => ({ ...node, name: { ...node.name, value: p + node.name.value } }),
    });
    for (const definition of renamed.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.push(definition);
      else if (definition.kind === Kind.OPERATION_DEFINITION) {
        variableDefinitions.push(...(definition.variableDefinitions ?? []));
        for (const field of definition.selectionSet.selections as FieldNode[]) {
          const responseKey = (field.alias ?? field.name).value;
          selections.push({ ...field, alias: { kind: Kind.NAME, value: p + responseKey } });
        }
      } else return null;
    }
    variables.push((operation.variableDefinitions ?? []).map((d) => d.variable.name.value));
  }
  const operationName = `${name.replace(/[^_0-9A-Za-z]/g, '_')}__batch_${parts.length}`;
  const merged: DocumentNode = {
    kind: Kind.DOCUMENT,
    definitions: [
      {
        kind: Kind.OPERATION_DEFINITION,
        operation: 'query' as OperationDefinitionNode['operation'],
        name: { kind: Kind.NAME, value: operationName },
        variableDefinitions,
        selectionSet: { kind: Kind.SELECTION_SET, selections },
      },
      ...fragments,
    ],
  };
  return { operationName, variables, query: print(merged) };
}

/** A merged answer split into `count` answers, each with its own fields and errors under their own names. */
function splitAnswer<T extends BatchAnswer>(answer: T, count: number): T[] {
  const data: (Record<string, unknown> | null | undefined)[] = [];
  for (let i = 0; i < count; i++) data.push(answer.data === null ? null : answer.data ? {} : undefined);
  if (answer.data) {
    for (const [key, value] of Object.entries(answer.data)) {
      const m = PREFIXED.exec(key);
      const at = m ? Number(m[1]) : -1;
      if (at >= 0 && at < count) data[at]![m![2]!] = value;
    }
  }
  type Error = NonNullable<T['errors']>[number];
  const errors: Error[][] = Array.from({ length: count }, () => []);
  for (const error of answer.errors ?? []) {
    // Its locations point into the merged document, not the call's own: dropped (the gateway drops them anyway).
    const own: Error = { ...error };
    delete own.locations;
    const head = error.path?.[0];
    const m = typeof head === 'string' ? PREFIXED.exec(head) : null;
    const at = m ? Number(m[1]) : -1;
    if (m && at < count) errors[at]!.push({ ...own, path: [m[2]!, ...error.path!.slice(1)] });
    else for (const list of errors) list.push(own);
  }
  return data.map((d, i) => {
    const part = { ...answer, data: d } as T;
    if (errors[i]!.length > 0) part.errors = errors[i];
    else delete part.errors;
    return part;
  });
}
