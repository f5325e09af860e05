import {
  GraphQLError,
  Kind,
  OperationTypeNode,
  getNamedType,
  getNullableType,
  getOperationAST,
  isCompositeType,
  isInputType,
  isListType,
  isObjectType,
  isInterfaceType,
  parse,
  parseType,
  print,
  typeFromAST,
  valueFromAST,
  validate,
  visit,
  type ArgumentNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
  type VariableDefinitionNode,
} from 'graphql';
import { collectFields, columnsOf, type Column, type Fragments } from './columns';
import { ExportError } from './errors';

/** Page size when the query does not set `first` on the exported connection: the most the API allows. */
export const DEFAULT_PAGE_SIZE = 100;

/** What a client asks to export: a GraphQL document, which operation of it, and the variables. */
export interface ExportRequest {
  query: string;
  operationName?: string;
  variables?: Record<string, unknown>;
}

/** Where the nodes are in the exported connection: `nodes`, or `edges { node }` (by response key). */
export type NodesPath = { kind: 'nodes'; nodes: string } | { kind: 'edges'; edges: string; node: string };

/** Everything the paging loop needs, computed once from the query before the first page is asked for. */
export interface ExportPlan {
  /** The rewritten document, printed: what every page runs. */
  query: string;
  operationName?: string;
  /** The client's variables, with the page size filled in where the query takes it from a variable. */
  variables: Record<string, unknown>;
  /** The variable given as the connection's `after`, set to the previous page's `endCursor`. */
  afterVariable: string;
  /** The `after` of the first page: the query's own `after`, if it has one. */
  startCursor: unknown;
  /** A Boolean variable that is true on the first page only, to ask for `totalCount` once. */
  countVariable: string | null;
  pageSize: number;
  /** Response keys from `data` to the connection, e.g. `['organization', 'commitments']`. */
  connectionPath: readonly string[];
  nodesPath: NodesPath;
  /** Response key of `pageInfo { hasNextPage endCursor }` in the connection. */
  pageInfoKey: string;
  /** Response key of the connection's `totalCount`, asked for on the first page; null if it has none. */
  totalCountKey: string | null;
  /** The CSV columns: the leaves of the node's selection, in query order. */
  columns: Column[];
  /** A name for the file: the operation's name, else the connection's field name. */
  label: string;
}

const AFTER_VARIABLE = 'exportAfter';
const COUNT_VARIABLE = 'exportCountTotal';
const TOTAL_COUNT_ALIAS = 'exportTotalCount';

/**
 * Plans an export: parses and validates the query against the gateway's API schema, finds the connection to
 * export (the first field, in document order, whose type has `nodes` or `edges { node }`), derives the CSV
 * columns from its node selection, and rewrites the query with `visit` so that it can be run page after
 * page: `after` becomes a variable, `first` defaults to {@link DEFAULT_PAGE_SIZE}, `pageInfo { hasNextPage
 * endCursor }` is selected, and `totalCount` is asked for on the first page only (to refuse an export over
 * the row limit before streaming anything).
 *
 * Validation here only orders the errors a person sees (syntax, then fields, then "no connection"): every page
 * is still run, and validated again, by the gateway's own Apollo server. Throws {@link ExportError} (400).
 */
export function planExport(
  schema: GraphQLSchema,
  request: ExportRequest,
  opts: { maxColumns?: number } = {},
): ExportPlan {
  let document: DocumentNode;
  try {
    document = parse(request.query);
  } catch (err) {
    throw new ExportError(`The query is not valid GraphQL: ${describe(err)}`);
  }
  const operation = pickOperation(document, request.operationName);
  if (operation.operation !== OperationTypeNode.QUERY) {
    throw new ExportError(
      `Only queries can be exported: ${operation.name ? `"${operation.name.value}"` : 'this operation'} is a ${operation.operation}`,
    );
  }
  const invalid = validate(schema, document);
  if (invalid.length) {
    throw new ExportError(
      invalid.map((e) => ({ message: describe(e), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })),
    );
  }
  const fragments: Fragments = new Map(
    document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((d) => [d.name.value, d]),
  );
  const found = findConnection(schema, operation, fragments);
  const connectionName = found.path.join('.');
  const selected = collectFields(found.field.selectionSet!.selections, fragments);
  const nodesPath = nodesPathOf(selected, fragments);
  if (!nodesPath) {
    throw new ExportError(
      `The connection "${connectionName}" selects no nodes: add nodes { ... } (or edges { node { ... } }) ` +
        'with the fields to export',
    );
  }
  const type = found.type;
  const fieldArgs = (name: string) => found.definition.args.find((a) => a.name === name);
  const afterArg = fieldArgs('after');
  if (!type.getFields().pageInfo || !afterArg) {
    throw new ExportError(
      `The connection "${connectionName}" cannot be paged: its type ${type.name} needs a pageInfo field and an "after" argument`,
    );
  }

  // The columns (typed: numbers or text), and the column limit, before anything is run.
  const columns = columnsOf(nodesSelection(selected, nodesPath, fragments), fragments, {
    schema,
    type: nodeType(type, nodesPath),
    maxColumns: opts.maxColumns,
  });

  const variables: Record<string, unknown> = { ...(request.variables ?? {}) };
  const definitions = operation.variableDefinitions ?? [];
  const taken = new Set(definitions.map((d) => d.variable.name.value));
  const freeName = (base: string) => {
    let name = base;
    for (let i = 2; taken.has(name); i++) name = `${base}${i}`;
    taken.add(name);
    return name;
  };
  const variableValue = (name: string) => {
    if (variables[name] !== undefined) return variables[name];
    const def = definitions.find((d) => d.variable.name.value === name);
    const type = def && typeFromAST(schema, def.type);
    return def?.defaultValue && isInputType(type) ? valueFromAST(def.defaultValue, type) : undefined;
  };
  const argument = (name: string) => found.field.arguments?.find((a) => a.name.value === name);
  const added: VariableDefinitionNode[] = [];
  const replaced = new Map<string, ArgumentNode>();

  // after: the query's own variable is reused; a literal (or nothing) becomes a new variable.
  let afterVariable: string;
  let startCursor: unknown = null;
  const after = argument('after');
  if (after?.value.kind === Kind.VARIABLE) {
    afterVariable = after.value.name.value;
    startCursor = variableValue(afterVariable) ?? null;
  } else {
    afterVariable = freeName(AFTER_VARIABLE);
    if (after) startCursor = valueFromAST(after.value, afterArg.type) ?? null;
    added.push(variableDefinition(afterVariable, String(afterArg.type)));
    replaced.set('after', variableArgument('after', afterVariable));
  }

  // first: the query's page size when it gives one, else the most the API allows.
  let pageSize = DEFAULT_PAGE_SIZE;
  const firstArg = fieldArgs('first');
  if (firstArg) {
    const first = argument('first');
    const firstVariable = first?.value.kind === Kind.VARIABLE ? first.value.name.value : null;
    const given =
      (firstVariable ? variableValue(firstVariable) : first && valueFromAST(first.value, firstArg.type)) ??
      null;
    if (given === null) {
      if (firstVariable) variables[firstVariable] = DEFAULT_PAGE_SIZE;
      else replaced.set('first', intArgument('first', DEFAULT_PAGE_SIZE));
    } else if (typeof given !== 'number' || given < 1) {
      throw new ExportError(
        `"first" on "${connectionName}" is the page size of the export and must be at least 1 (got ${JSON.stringify(given)})`,
      );
    } else {
      pageSize = given;
    }
  }

  // totalCount, on the first page only (through @include), so the row limit is checked before streaming.
  let countVariable: string | null = null;
  let totalCountKey: string | null = null;
  const additions: SelectionNode[] = [];
  if (type.getFields().totalCount) {
    countVariable = freeName(COUNT_VARIABLE);
    totalCountKey = freeKey(TOTAL_COUNT_ALIAS, selected);
    added.push(variableDefinition(countVariable, 'Boolean!'));
    additions.push(field('totalCount', null, totalCountKey, countVariable));
  }
  // pageInfo { hasNextPage endCursor }: completed where the query selects it, added where it does not.
  const pageInfoKey = 'pageInfo';
  const target = found.field;
  const connectionField: FieldNode = {
    ...target,
    arguments: [
      ...(target.arguments ?? []).map((a) => replaced.get(a.name.value) ?? a),
      ...[...replaced.values()].filter((r) => !target.arguments?.some((a) => a.name.value === r.name.value)),
    ],
    selectionSet: withPageInfo(target.selectionSet!, additions),
  };

  const rewritten = visit(document, {
    // Matched by identity on enter, where visit still passes the parsed nodes themselves.
    OperationDefinition: (node) =>
      node === operation
        ? { ...node, variableDefinitions: [...(node.variableDefinitions ?? []), ...added] }
        : undefined,
    Field: (node) => (node === target ? connectionField : undefined),
  });

  return {
    query: print(rewritten),
    operationName: request.operationName,
    variables,
    afterVariable,
    startCursor,
    countVariable,
    pageSize,
    connectionPath: found.path,
    nodesPath,
    pageInfoKey,
    totalCountKey,
    columns,
    label: operation.name?.value ?? found.definition.name,
  };
}

function describe(err: unknown): string {
  if (err instanceof GraphQLError) {
    const at = err.locations?.[0];
    return at ? `${err.message} (line ${at.line}, column ${at.column})` : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

function pickOperation(document: DocumentNode, operationName?: string): OperationDefinitionNode {
  const operation = getOperationAST(document, operationName);
  if (operation) return operation;
  const names = document.definitions
    .filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
    .map((d) => d.name?.value ?? '(anonymous)');
  if (!names.length) throw new ExportError('The query has no operation to run (only fragments)');
  if (operationName) {
    throw new ExportError(`The query has no operation named "${operationName}" (it has ${names.join(', ')})`);
  }
  throw new ExportError(
    `The query has several operations (${names.join(', ')}): say which to export with operationName`,
  );
}

/** A type is a connection when it has `nodes`, or `edges` whose type has `node`. */
function isConnection(type: GraphQLNamedType): type is GraphQLObjectType {
  if (!isObjectType(type)) return false;
  const fields = type.getFields();
  if (fields.nodes) return true;
  const edges = fields.edges && getNamedType(fields.edges.type);
  return !!edges && (isObjectType(edges) || isInterfaceType(edges)) && !!edges.getFields().node;
}

interface FoundConnection {
  field: FieldNode;
  definition: GraphQLField<unknown, unknown>;
  type: GraphQLObjectType;
  path: string[];
}

/**
 * The first field of the operation, depth first in document order (through fragments), whose type is a
 * connection. It must be reached through single objects: a connection inside a list would be one connection
 * per list item, with no single sequence of pages.
 */
function findConnection(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: Fragments,
): FoundConnection {
  const search = (
    selectionSet: SelectionSetNode,
    parent: GraphQLCompositeType,
    path: string[],
    throughList: string | null,
  ): FoundConnection | null => {
    for (const s of selectionSet.selections) {
      let found: FoundConnection | null = null;
      if (s.kind === Kind.FIELD) {
        const definition = 'getFields' in parent ? parent.getFields()[s.name.value] : undefined;
        if (!definition || !s.selectionSet) continue;
        const key = s.alias?.value ?? s.name.value;
        const type = getNamedType(definition.type);
        if (isConnection(type)) {
          if (throughList) {
            throw new ExportError(
              `The first connection of the query, "${[...path, key].join('.')}", is inside the list ` +
                `"${throughList}": an export pages one connection, so put a connection reached through ` +
                'single objects first',
            );
          }
          return { field: s, definition, type, path: [...path, key] };
        }
        if (!isCompositeType(type)) continue;
        const list = isListType(getNullableType(definition.type)) ? [...path, key].join('.') : null;
        found = search(s.selectionSet, type, [...path, key], throughList ?? list);
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        const type = s.typeCondition ? schema.getType(s.typeCondition.name.value) : parent;
        if (type && isCompositeType(type)) found = search(s.selectionSet, type, path, throughList);
      } else {
        const fragment = fragments.get(s.name.value);
        const type = fragment && schema.getType(fragment.typeCondition.name.value);
        if (fragment && type && isCompositeType(type))
          found = search(fragment.selectionSet, type, path, throughList);
      }
      if (found) return found;
    }
    return null;
  };
  const found = search(operation.selectionSet, schema.getQueryType()!, [], null);
  if (!found) {
    throw new ExportError(
      'The query has no connection to export: select a list with nodes { ... } or edges { node { ... } }, ' +
        'for example { organizations(filter: { country: "TN" }) { nodes { id name } } }',
    );
  }
  return found;
}

function nodesPathOf(selected: ReturnType<typeof collectFields>, fragments: Fragments): NodesPath | null {
  for (const [key, f] of selected)
    if (f.name === 'nodes' && f.selections) return { kind: 'nodes', nodes: key };
  for (const [key, f] of selected) {
    if (f.name !== 'edges' || !f.selections) continue;
    for (const [nodeKey, n] of collectFields(f.selections, fragments)) {
      if (n.name === 'node' && n.selections) return { kind: 'edges', edges: key, node: nodeKey };
    }
  }
  return null;
}

/** The type of the connection's nodes, by the field names behind the response keys of `path`. */
function nodeType(connection: GraphQLObjectType, path: NodesPath): GraphQLCompositeType | undefined {
  const fields = connection.getFields();
  const named = (t: GraphQLField<unknown, unknown> | undefined) => (t ? getNamedType(t.type) : undefined);
  let type: GraphQLNamedType | undefined;
  if (path.kind === 'nodes') {
    type = named(fields.nodes);
  } else {
    const edge = named(fields.edges);
    type = edge && (isObjectType(edge) || isInterfaceType(edge)) ? named(edge.getFields().node) : undefined;
  }
  return type && isCompositeType(type) ? type : undefined;
}

function nodesSelection(
  selected: ReturnType<typeof collectFields>,
  path: NodesPath,
  fragments: Fragments,
): SelectionSetNode {
  const selections =
    path.kind === 'nodes'
      ? selected.get(path.nodes)!.selections!
      : collectFields(selected.get(path.edges)!.selections!, fragments).get(path.node)!.selections!;
  return { kind: Kind.SELECTION_SET, selections };
}

/** A response key not yet used in a selection: `base`, else `base2`, `base3`... */
function freeKey(base: string, selected: ReadonlyMap<string, unknown>): string {
  let key = base;
  for (let i = 2; selected.has(key); i++) key = `${base}${i}`;
  return key;
}

/** Adds `pageInfo { hasNextPage endCursor }` (and `additions`) to the connection's selection set. */
function withPageInfo(selectionSet: SelectionSetNode, additions: SelectionNode[]): SelectionSetNode {
  const wanted = ['hasNextPage', 'endCursor'];
  let completed = false;
  const selections = selectionSet.selections.map((s) => {
    if (s.kind !== Kind.FIELD || s.name.value !== 'pageInfo' || s.alias || !s.selectionSet) return s;
    completed = true;
    const has = new Set(
      s.selectionSet.selections
        .filter((x): x is FieldNode => x.kind === Kind.FIELD && !x.alias)
        .map((x) => x.name.value),
    );
    const missing = wanted.filter((w) => !has.has(w)).map((w) => field(w));
    return {
      ...s,
      selectionSet: { ...s.selectionSet, selections: [...s.selectionSet.selections, ...missing] },
    };
  });
  if (!completed) {
    selections.push(field('pageInfo', { kind: Kind.SELECTION_SET, selections: wanted.map((w) => field(w)) }));
  }
  return { ...selectionSet, selections: [...selections, ...additions] };
}

function field(
  name: string,
  selectionSet: SelectionSetNode | null = null,
  alias?: string,
  includeIf?: string,
): FieldNode {
  return {
    kind: Kind.FIELD,
    name: { kind: Kind.NAME, value: name },
    ...(alias ? { alias: { kind: Kind.NAME, value: alias } } : {}),
    ...(selectionSet ? { selectionSet } : {}),
    ...(includeIf
      ? {
          directives: [
            {
              kind: Kind.DIRECTIVE,
              name: { kind: Kind.NAME, value: 'include' },
              arguments: [variableArgument('if', includeIf)],
            },
          ],
        }
      : {}),
  };
}

function variableDefinition(name: string, type: string): VariableDefinitionNode {
  return {
    kind: Kind.VARIABLE_DEFINITION,
    variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: name } },
    type: parseType(type),
  };
}

function variableArgument(name: string, variable: string): ArgumentNode {
  return {
    kind: Kind.ARGUMENT,
    name: { kind: Kind.NAME, value: name },
    value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: variable } },
  };
}

function intArgument(name: string, value: number): ArgumentNode {
  return {
    kind: Kind.ARGUMENT,
    name: { kind: Kind.NAME, value: name },
    value: { kind: Kind.INT, value: String(value) },
  };
}
