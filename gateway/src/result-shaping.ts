import {
  ERRORS,
  Variable,
  isCompositeType,
  isCustomScalarType,
  isListType,
  isNonNullType,
  isObjectType,
  isSubtype,
  isValidLeafValue,
  typenameFieldName,
  type CompositeType,
  type Field,
  type FieldSelection,
  type FragmentElement,
  type Operation,
  type OutputType,
  type Schema,
  type SelectionSet,
} from '@apollo/federation-internals';
import { Kind, type DefinitionNode, type DocumentNode, type GraphQLError } from 'graphql';

/*
 * The last step of a federated query: the gateway has merged what the subgraphs answered into one object, and
 * now shapes the client's answer out of it: only the fields the operation asked for, in its order, under their
 * aliases, `__typename` filled in, inline fragments and spreads applied by the type each object turned out to
 * have, `@skip`/`@include` honoured, and a null where a subgraph gave nothing or a value of the wrong kind, bubbled
 * up to the nearest nullable parent with an error that says which field ("Cannot return null for non-nullable field
 * Organization.name."). @apollo/gateway (2.14) does it in `computeResponse` (dist/resultShaping.js), walking the
 * operation's selection sets afresh for every object of every answer: for each selection of each object it looks
 * its `@skip` and `@include` up by filtering the selection's directives, every value's result is a new object
 * (`{ updated, isInvalid, hasErrors }`), every output object is made by `Object.create(null)` (an object V8 keeps
 * as a dictionary), every list twice (filled with undefined, then mapped). An allocation profile of our gateway
 * under the commitmentStats dashboard query counted ~1.4 MB allocated per request for an 18 KB answer, 73 % of it
 * there (docs/performance.md); young-generation garbage collection was then its largest single cost and the tail
 * of its latency.
 *
 * This is the same shaping, written for that: each selection set of an operation is read once into a list of
 * steps (its response names, whether each is `__typename` or `__schema`/`__type`, its `@skip`/`@include` as a
 * constant or a variable's name, its type unwrapped into non-null/list/composite/leaf once, the sub-selection's
 * own steps) and kept for as long as the operation is; a value's validity comes back through two module
 * variables instead of a new object; output objects are ordinary objects (dictionary mode only when a response
 * name would otherwise reach Object.prototype: `__proto__`, `constructor`, …), lists are built once. The
 * semantics are Apollo's, case for case: the same output (key order included), the same errors with the same
 * messages, paths and codes, and the same exceptions; `test/unit/result-shaping.test.ts` checks it against
 * Apollo's own function over many operations and thousands of generated answers, valid, faulty and absurd.
 *
 * So that the steps are kept across requests, the operation itself is: @apollo/gateway rebuilds, for every
 * request, the operation it shapes with (`operationFromDocument(apiSchema, { definitions: [operation,
 * ...fragments] }, { validate: false })`, executeQueryPlan.js) from the AST nodes of the parsed document, which
 * Apollo Server keeps in its document cache; `memoizeExecutionOperations` keeps that result per schema and
 * operation node. Nothing mutates an operation once built (the planner builds its own), so one is shared.
 *
 * Installed by `installResultShaping()` (gateway/src/server.ts, as it loads): it replaces the export
 * `computeResponse` of @apollo/gateway's resultShaping module, which executeQueryPlan.js reads at each call.
 * RESULT_SHAPING=apollo leaves Apollo's in place (for comparisons).
 */

type Path = (string | number)[];
type Introspection = (selection: FieldSelection) => unknown;
type AnyObject = Record<string, unknown>;

/** Returned by `applySteps` when an object must be nulled (a non-null field of it came back null). */
const BUBBLE = 1;
const OK = 0;

const enum StepKind {
  Field,
  Typename,
  Introspection,
  Fragment,
}

const enum ShapeKind {
  Leaf,
  Composite,
  List,
}

const enum LeafKind {
  /** A custom scalar: anything goes (Apollo's rule). */
  Any,
  String,
  /** Int: a safe integer is valid at once; anything else is asked of Apollo's rule. */
  Integer,
  /** ID: a string or a safe integer. */
  Id,
  Float,
  Boolean,
  /** An enum: asked of Apollo's rule. */
  Other,
}

/** A field's type, unwrapped once: one level per non-null/list wrapper. */
interface Shape {
  nonNull: boolean;
  kind: ShapeKind;
  /** The type at this level without its non-null wrapper (what Apollo's messages print). */
  type: OutputType;
  text: string;
  /** A list's element. */
  of?: Shape;
  leaf?: LeafKind;
}

/** `@skip(if:)` and `@include(if:)` of a selection: a constant, or a variable read at each request. */
interface Condition {
  skip?: boolean | VariableIf;
  include?: boolean | VariableIf;
}

interface VariableIf {
  name: string;
  /** Apollo's message parts, for the same exception when a variable is not a boolean. */
  variableText: string;
  directiveText: string;
}

interface FieldStep {
  kind: StepKind.Field;
  name: string;
  /** The name is also Object.prototype's: read it from an input only as an own property. */
  own: boolean;
  cond?: Condition;
  shape: Shape;
  sub?: Steps;
}

interface TypenameStep {
  kind: StepKind.Typename;
  name: string;
  own: boolean;
  cond?: Condition;
}

interface IntrospectionStep {
  kind: StepKind.Introspection;
  name: string;
  cond?: Condition;
  selection: FieldSelection;
}

interface FragmentStep {
  kind: StepKind.Fragment;
  cond?: Condition;
  typeCondition?: CompositeType;
  sub: Steps;
  /** Whether the type condition holds, by an object's `__typename`, and by the parent type when it has none. */
  byTypename: Map<string, boolean>;
  byParent: Map<CompositeType, boolean>;
}

type Step = FieldStep | TypenameStep | IntrospectionStep | FragmentStep;

/** A selection set, read once. */
interface Steps {
  steps: Step[];
  /** An output object of this selection set must have no prototype (a response name is Object.prototype's). */
  nullProto: boolean;
}

interface Compiled {
  root: Steps;
  rootType: CompositeType;
  /** The operation's variables' default values (Apollo's `collectDefaultedVariableValues`). */
  defaults: AnyObject;
}

interface Params {
  schema: Schema;
  variables: AnyObject | undefined;
  defaults: AnyObject;
  errors: GraphQLError[];
  introspection: Introspection;
  path: Path;
}

const hasOwn = Object.prototype.hasOwnProperty;
const prototypeName = (name: string) => name in Object.prototype;

const compiledSets = new WeakMap<SelectionSet, Steps>();
const compiledOperations = new WeakMap<Operation, Compiled>();

function shapeOf(type: OutputType): Shape {
  const nonNull = isNonNullType(type);
  const inner = (nonNull ? type.ofType : type) as OutputType;
  const text = String(inner);
  if (isListType(inner)) {
    return { nonNull, kind: ShapeKind.List, type: inner, text, of: shapeOf(inner.ofType as OutputType) };
  }
  if (isCompositeType(inner)) return { nonNull, kind: ShapeKind.Composite, type: inner, text };
  return { nonNull, kind: ShapeKind.Leaf, type: inner, text, leaf: leafKind(inner) };
}

function leafKind(type: OutputType): LeafKind {
  if (isCustomScalarType(type)) return LeafKind.Any;
  const schema = type.schema();
  if (type === schema.stringType()) return LeafKind.String;
  if (type === schema.intType()) return LeafKind.Integer;
  if (type === schema.idType()) return LeafKind.Id;
  if (type === schema.floatType()) return LeafKind.Float;
  if (type === schema.booleanType()) return LeafKind.Boolean;
  return LeafKind.Other;
}

function conditionOf(element: Field | FragmentElement, schema: Schema): Condition | undefined {
  const skip = element.appliedDirectivesOf(schema.skipDirective())[0];
  const include = element.appliedDirectivesOf(schema.includeDirective())[0];
  if (!skip && !include) return undefined;
  const read = (directive: typeof skip): boolean | VariableIf => {
    const arg = (directive.arguments() as { if?: unknown }).if;
    if (arg instanceof Variable) {
      return { name: arg.name, variableText: String(arg), directiveText: String(directive) };
    }
    return arg as boolean;
  };
  return { ...(skip ? { skip: read(skip) } : {}), ...(include ? { include: read(include) } : {}) };
}

function compileSet(set: SelectionSet, schema: Schema): Steps {
  const known = compiledSets.get(set);
  if (known) return known;
  const steps: Step[] = [];
  let nullProto = false;
  for (const selection of set.selections()) {
    const cond = conditionOf(selection.element, schema);
    if (selection.kind === 'FieldSelection') {
      const field = selection.element;
      const name = field.responseName();
      if (prototypeName(name)) nullProto = true;
      if (field.definition.isSchemaIntrospectionField()) {
        steps.push({ kind: StepKind.Introspection, name, cond, selection });
      } else if (field.name === typenameFieldName) {
        steps.push({ kind: StepKind.Typename, name, own: prototypeName(name), cond });
      } else {
        steps.push({
          kind: StepKind.Field,
          name,
          own: prototypeName(name),
          cond,
          shape: shapeOf(field.definition.type!),
          sub: selection.selectionSet ? compileSet(selection.selectionSet, schema) : undefined,
        });
      }
    } else {
      const sub = compileSet(selection.selectionSet, schema);
      if (sub.nullProto) nullProto = true;
      steps.push({
        kind: StepKind.Fragment,
        cond,
        typeCondition: selection.element.typeCondition,
        sub,
        byTypename: new Map(),
        byParent: new Map(),
      });
    }
  }
  const compiled = { steps, nullProto };
  compiledSets.set(set, compiled);
  return compiled;
}

function compile(operation: Operation): Compiled {
  const known = compiledOperations.get(operation);
  if (known) return known;
  const schema = operation.schema();
  const compiled: Compiled = {
    root: compileSet(operation.selectionSet, schema),
    rootType: schema.schemaDefinition.rootType(operation.rootKind)!,
    defaults: operation.collectDefaultedVariableValues(),
  };
  compiledOperations.set(operation, compiled);
  return compiled;
}

function fail(message: string): never {
  throw new Error(message);
}

/** Apollo's `ifValue`: a constant, or the variable's value (the request's, else its default), a boolean. */
function ifValue(value: boolean | VariableIf, p: Params): boolean {
  if (typeof value === 'boolean') return value;
  const v =
    p.variables !== undefined && p.variables !== null && hasOwn.call(p.variables, value.name)
      ? p.variables[value.name]
      : p.defaults[value.name];
  if (v === undefined || typeof v !== 'boolean') {
    fail(`Unexpected value ${v} for variable ${value.variableText} of ${value.directiveText}`);
  }
  return v;
}

function skipped(cond: Condition, p: Params): boolean {
  return (
    (cond.skip !== undefined && ifValue(cond.skip, p)) ||
    (cond.include !== undefined && !ifValue(cond.include, p))
  );
}

function fragmentApplies(
  step: FragmentStep,
  typename: string | undefined,
  parentType: CompositeType,
  schema: Schema,
) {
  const condition = step.typeCondition;
  if (!condition) return true;
  if (typename) {
    let applies = step.byTypename.get(typename);
    if (applies === undefined) {
      const type = schema.type(typename);
      applies = !!type && isSubtype(condition, type);
      step.byTypename.set(typename, applies);
    }
    return applies;
  }
  let applies = step.byParent.get(parentType);
  if (applies === undefined) {
    applies = isSubtype(condition, parentType);
    step.byParent.set(parentType, applies);
  }
  return applies;
}

function describe(path: Path, typeText: string, parentType: CompositeType): string {
  const element = path[path.length - 1];
  if (element === undefined) fail('Should not have been called on an empty path');
  return typeof element === 'string'
    ? `field ${parentType}.${element}`
    : `array element of type ${typeText} at index ${element}`;
}

/** An error of the shaping at the current path (Apollo's code and wording). */
function report(p: Params, message: string) {
  p.errors.push(ERRORS.INVALID_GRAPHQL.err(message, { path: Array.from(p.path) }));
}

function newObject(steps: Steps): AnyObject {
  return steps.nullProto ? (Object.create(null) as AnyObject) : {};
}

/*
 * What a value's completion says besides the value, as Apollo's `{ isInvalid, hasErrors }`: set by every return
 * of `complete` and read by its caller at once.
 */
let invalid = false;
let hasErrors = false;

function applySteps(
  input: AnyObject,
  set: Steps,
  output: AnyObject,
  p: Params,
  parentType: CompositeType,
): number {
  const steps = set.steps;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i];
    if (step.cond !== undefined && skipped(step.cond, p)) continue;
    switch (step.kind) {
      case StepKind.Introspection:
        if (output[step.name] === undefined) output[step.name] = p.introspection(step.selection);
        continue;
      case StepKind.Typename: {
        if (output[step.name] !== undefined) continue;
        let value =
          (step.own ? (hasOwn.call(input, step.name) ? input[step.name] : undefined) : input[step.name]) ??
          null;
        if (value === null && step.name !== typenameFieldName) value = input[typenameFieldName] ?? null;
        const type =
          value !== null && typeof value === 'string' ? (p.schema.type(value) ?? parentType) : parentType;
        if (!isObjectType(type)) return BUBBLE;
        output[step.name] = type.name;
        continue;
      }
      case StepKind.Field: {
        const value =
          (step.own ? (hasOwn.call(input, step.name) ? input[step.name] : undefined) : input[step.name]) ??
          null;
        p.path.push(step.name);
        output[step.name] = complete(output[step.name], step.shape, value, step.sub, p, parentType);
        p.path.pop();
        if (invalid) return BUBBLE;
        continue;
      }
      case StepKind.Fragment: {
        const typename = input[typenameFieldName];
        if (typename && typeof typename !== 'string')
          fail(`Got unexpected value for __typename: ${typename}`);
        if (fragmentApplies(step, typename as string | undefined, parentType, p.schema)) {
          if (applySteps(input, step.sub, output, p, step.typeCondition ?? parentType) === BUBBLE)
            return BUBBLE;
        }
        continue;
      }
    }
  }
  return OK;
}

/** Apollo's `updateOutputValue`, case for case. */
function complete(
  outputValue: unknown,
  shape: Shape,
  inputValue: unknown,
  sub: Steps | undefined,
  p: Params,
  parentType: CompositeType,
): unknown {
  if (inputValue === undefined) fail('Should not pass undefined for `inputValue` to this method');
  if (outputValue === null || (outputValue !== undefined && sub === undefined)) {
    invalid = false;
    hasErrors = false;
    return outputValue;
  }
  if (!shape.nonNull) return completeNullable(outputValue, shape, inputValue, sub, p, parentType);
  const updated = completeNullable(outputValue, shape, inputValue, sub, p, parentType);
  if (updated === null) {
    if (!hasErrors) {
      report(p, `Cannot return null for non-nullable ${describe(p.path, shape.text, parentType)}.`);
    }
    invalid = true;
    hasErrors = true;
    return null;
  }
  invalid = false;
  hasErrors = false;
  return updated;
}

function completeNullable(
  outputValue: unknown,
  shape: Shape,
  inputValue: unknown,
  sub: Steps | undefined,
  p: Params,
  parentType: CompositeType,
): unknown {
  if (inputValue === null) {
    invalid = false;
    hasErrors = false;
    return null;
  }
  switch (shape.kind) {
    case ShapeKind.List: {
      if (!Array.isArray(inputValue)) {
        fail(`Invalid non-list value ${inputValue} returned by subgraph for list type ${shape.text}`);
      }
      if (outputValue !== undefined && !Array.isArray(outputValue)) {
        fail(`Invalid non-list value ${outputValue} returned by subgraph for list type ${shape.text}`);
      }
      const previous = outputValue as unknown[] | undefined;
      const n = inputValue.length;
      if (previous !== undefined && previous.length !== n) {
        fail(`[${inputValue}].length (${n}) !== [${previous}].length (${previous.length})`);
      }
      const of = shape.of!;
      const out: unknown[] = [];
      let nullify = false;
      let errors = false;
      for (let i = 0; i < n; i++) {
        p.path.push(i);
        out.push(
          complete(previous === undefined ? undefined : previous[i], of, inputValue[i], sub, p, parentType),
        );
        p.path.pop();
        if (invalid) nullify = true;
        if (hasErrors) errors = true;
      }
      invalid = false;
      hasErrors = errors;
      return nullify ? null : out;
    }
    case ShapeKind.Composite: {
      if (!sub) fail(`Invalid empty selection set for composite type ${shape.text}`);
      if (typeof inputValue !== 'object') {
        fail(`Invalid non-object value ${inputValue} returned by subgraph for composite type ${shape.text}`);
      }
      if (outputValue !== undefined && typeof outputValue !== 'object') {
        fail(`Invalid non-object value ${inputValue} returned by subgraph for composite type ${shape.text}`);
      }
      const input = inputValue as AnyObject;
      const typename = input[typenameFieldName];
      if (typename !== undefined && typeof typename !== 'string') {
        fail(`Invalid non-string value ${typename} for __typename at ${p.path}`);
      }
      let objectType = shape.type as CompositeType;
      if (typename) {
        const type = p.schema.type(typename);
        if (!type || !isCompositeType(type)) {
          report(p, `Invalid __typename found for object at ${describe(p.path, shape.text, parentType)}.`);
          invalid = false;
          hasErrors = true;
          return null;
        }
        objectType = type;
      }
      const output = outputValue === undefined ? newObject(sub) : (outputValue as AnyObject);
      const bubbled = applySteps(input, sub, output, p, objectType) === BUBBLE;
      invalid = false;
      hasErrors = bubbled;
      return bubbled ? null : output;
    }
    default: {
      if (outputValue !== undefined)
        fail(`Excepted output to be undefined but got ${shape.text} for type ${shape.text}`);
      const valid = validLeaf(shape, inputValue, p.schema);
      if (!valid) {
        report(p, `Invalid value found for ${describe(p.path, shape.text, parentType)}.`);
      }
      invalid = false;
      hasErrors = !valid;
      return valid ? inputValue : null;
    }
  }
}

/** Apollo's `isValidLeafValue`, with the common valid cases decided without it. */
function validLeaf(shape: Shape, value: unknown, schema: Schema): boolean {
  switch (shape.leaf) {
    case LeafKind.Any:
      return true;
    case LeafKind.String:
      if (typeof value === 'string') return true;
      break;
    case LeafKind.Integer:
      if (Number.isSafeInteger(value)) return true;
      break;
    case LeafKind.Id:
      if (typeof value === 'string' || Number.isSafeInteger(value)) return true;
      break;
    case LeafKind.Float:
      if (typeof value === 'number' && Number.isFinite(value)) return true;
      break;
    case LeafKind.Boolean:
      if (typeof value === 'boolean') return true;
      break;
  }
  return isValidLeafValue(schema, value, shape.type as Parameters<typeof isValidLeafValue>[2]);
}

/** What `computeResponse` is given and returns (@apollo/gateway's signature). */
export interface ShapeArgs {
  operation: Operation;
  variables?: Record<string, unknown>;
  input: Record<string, unknown> | null | undefined;
  introspectionHandling: Introspection;
}

/** The client's answer out of the merged subgraph data: Apollo's `computeResponse`, with the same results. */
export function shapeResponse({ operation, variables, input, introspectionHandling }: ShapeArgs): {
  data: Record<string, unknown> | null | undefined;
  errors: GraphQLError[];
} {
  if (!input) return { data: input, errors: [] };
  const compiled = compile(operation);
  const p: Params = {
    schema: operation.schema(),
    variables,
    defaults: compiled.defaults,
    errors: [],
    introspection: introspectionHandling,
    path: [],
  };
  const data = newObject(compiled.root);
  const bubbled = applySteps(input, compiled.root, data, p, compiled.rootType) === BUBBLE;
  return { data: bubbled ? null : data, errors: p.errors };
}

type OperationFromDocument = (
  schema: Schema,
  document: DocumentNode,
  options?: { operationName?: string; validate?: boolean },
) => Operation;

/**
 * A memo around `operationFromDocument` for the calls @apollo/gateway's executeQueryPlan makes: one operation
 * definition first, then fragment definitions, `{ validate: false }` and no operation name. The operation is
 * kept per schema and operation node, with the fragment nodes it was built with (a hit needs the same ones, in
 * order). Any other call goes through unchanged; a build that throws is not kept.
 */
export function memoizeExecutionOperations(build: OperationFromDocument): OperationFromDocument {
  const bySchema = new WeakMap<
    Schema,
    WeakMap<DefinitionNode, { rest: readonly DefinitionNode[]; operation: Operation }>
  >();
  const memoized: OperationFromDocument = (schema, document, options) => {
    const definitions = document?.definitions;
    const first = definitions?.[0];
    if (
      options?.validate !== false ||
      options.operationName !== undefined ||
      !first ||
      first.kind !== Kind.OPERATION_DEFINITION ||
      definitions.some((d, i) => i > 0 && d.kind !== Kind.FRAGMENT_DEFINITION)
    ) {
      return build(schema, document, options);
    }
    let byNode = bySchema.get(schema);
    if (!byNode) bySchema.set(schema, (byNode = new WeakMap()));
    const hit = byNode.get(first);
    if (
      hit &&
      hit.rest.length === definitions.length - 1 &&
      hit.rest.every((d, i) => d === definitions[i + 1])
    ) {
      return hit.operation;
    }
    const operation = build(schema, document, options);
    byNode.set(first, { rest: definitions.slice(1), operation });
    return operation;
  };
  return memoized;
}

const marker = Symbol.for('civic-graph.memoizedOperationFromDocument');

/**
 * Puts `shapeResponse` in place of @apollo/gateway's `computeResponse`, and the memo around
 * `operationFromDocument` where @apollo/federation-internals's exports can take it (plain properties, once
 * apollo-exports.ts has run; under Jest they are getters and the memo is left out: the steps are then read once
 * per request). `which: 'apollo'` restores Apollo's function.
 */
export function installResultShaping(which: 'compiled' | 'apollo' = 'compiled'): void {
  // The module instances @apollo/gateway itself uses (Jest's registry under Jest, hence `require`).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const shaping = require('@apollo/gateway/dist/resultShaping') as {
    computeResponse: unknown;
    __apollo?: unknown;
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const internals = require('@apollo/federation-internals') as Record<string, unknown>;
  const apollo = (shaping.__apollo ??= shaping.computeResponse);
  shaping.computeResponse = which === 'compiled' ? shapeResponse : apollo;
  type Marked = OperationFromDocument & { [marker]?: OperationFromDocument };
  const current = internals.operationFromDocument as Marked;
  if (which !== 'compiled' || current[marker]) return;
  if (!Object.getOwnPropertyDescriptor(internals, 'operationFromDocument')?.writable) return;
  const memoized: Marked = memoizeExecutionOperations(current);
  memoized[marker] = current;
  internals.operationFromDocument = memoized;
}
