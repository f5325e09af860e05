import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  Supergraph,
  buildSchema,
  isCompositeType,
  isEnumType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  isUnionType,
  operationFromDocument,
  parseOperation,
  type CompositeType,
  type FieldSelection,
  type NamedType,
  type Operation,
  type OutputType,
  type Schema,
  type SelectionSet,
} from '@apollo/federation-internals';
import { computeResponse } from '@apollo/gateway/dist/resultShaping';
import { Kind, parse, type DocumentNode } from 'graphql';
import { memoizeExecutionOperations, shapeResponse } from '../../gateway/src/result-shaping';

/*
 * Our result shaping (gateway/src/result-shaping.ts) against @apollo/gateway's own `computeResponse`, which it
 * replaces: for each operation below, thousands of merged subgraph answers generated from the operation itself
 * (valid ones, and ones with fields missing or null, values of the wrong kind, unknown or non-composite or
 * mismatched `__typename`s, lists where objects belong and the reverse, Object.prototype's names), shaped by
 * both; the outcome must be the same: the same data with its keys in the same order, the same errors (message,
 * path, code), or the same exception.
 */

/** A small schema with what ours lacks: interfaces, a union, an enum, a custom scalar, nested lists. */
const SDL = `
  scalar JSON
  enum Level { NONE LIMITED SUBSTANTIAL COMPLETE }
  interface Node { id: ID! }
  interface Named { name: String }
  type Organization implements Node & Named {
    id: ID!
    name: String
    level: Level!
    budgets: [Budget!]!
    parent: Organization
    tags: [String]
    meta: JSON
    count: Int
    ratio: Float
    open: Boolean
    related: [[Named!]]
  }
  type Budget implements Node { id: ID! amount: Float! year: Int currency: String lines: [Line!] owner: Organization }
  type Line implements Node & Named { id: ID! name: String amount: Int! }
  union Result = Organization | Budget | Line
  type Query {
    node(id: ID!): Node
    nodes: [Node]!
    search(q: String): [Result!]
    organization: Organization!
    organizations: [Organization]
    named: [Named!]!
    version: String
  }
`;

const SYNTHETIC: string[] = [
  `{ version organization { id name level } }`,
  `{ organizations { id name parent { id name parent { name } } tags meta count ratio open } }`,
  `{ o: organization { n: name, name, id, i: id } }`,
  `{ organization { __typename t: __typename budgets { __typename amount year lines { id name amount } } } }`,
  `{ node(id: "1") { id __typename ... on Organization { name level } ... on Budget { amount owner { id } } } }`,
  `{ nodes { id ... on Named { name } ... on Line { amount } } }`,
  `{ search(q: "x") { __typename ... on Organization { id name } ... on Budget { id amount } ... on Line { id } } }`,
  `{ search { ... on Node { id } ... on Named { name } } }`,
  `{ named { name ... on Organization { level related { name __typename } } } }`,
  `query { organization { ...Org parent { ...Org } } } fragment Org on Organization { id name budgets { ...B } } fragment B on Budget { year currency }`,
  `{ organization { budgets { amount } ... on Organization { budgets { year lines { name } } } budgets { currency } } }`,
  `query Q($a: Boolean!, $b: Boolean = true) { organization { id name @skip(if: $a) level @include(if: $b) parent @include(if: $a) { id } ... on Organization @skip(if: $b) { count } } version @skip(if: false) }`,
  `{ organization { id @include(if: false) name @skip(if: true) level } }`,
  `query R($a: Boolean!, $b: Boolean) { organization { id open @skip(if: $a) @include(if: $b) } }`,
  `{ organization { constructor: name toString: id __proto__: level hasOwnProperty: count valueOf: parent { id } } }`,
  `{ organizations { __proto__: budgets { __proto__: amount } } }`,
  `{ __typename version __schema { queryType { name } } __type(name: "Organization") { name } }`,
  `{ t: __typename organization { __typename } }`,
];

const rng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

/** Builds merged subgraph data for `operation`, right most of the time and wrong in every way now and then. */
function generator(schema: Schema, random: () => number, faults: number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const fault = () => random() < faults;
  const objectTypes = [...schema.types()].filter(
    (t) => isObjectType(t) && !t.name.startsWith('__') && t !== schema.schemaDefinition.rootType('query'),
  ) as CompositeType[];
  const possible = (type: CompositeType): CompositeType[] =>
    isObjectType(type)
      ? [type]
      : objectTypes.filter((t) =>
          isUnionType(type)
            ? type.hasTypeMember(t.name)
            : isInterfaceType(type) &&
              (t as { implementsInterface?: (n: string) => boolean }).implementsInterface?.(type.name),
        );

  const junk = () =>
    pick<unknown>([
      42,
      -7,
      1.5,
      'text',
      true,
      false,
      {},
      [],
      { a: 1 },
      [1, 2],
      Number.MAX_SAFE_INTEGER + 2,
      1e21,
    ]);

  function leaf(type: NamedType): unknown {
    if (fault()) return junk();
    if (isEnumType(type)) return pick(type.values.map((v) => v.name));
    switch (type.name) {
      case 'String':
        return pick(['Béni Mellal', 'الكاف', 'El Kef', '']);
      case 'ID':
        return pick(['1', 'org-2', 3]);
      case 'Int':
        return pick([0, 1, -12, 2024]);
      case 'Float':
        return pick([0, 1.25, -3.5, 1000]);
      case 'Boolean':
        return random() < 0.5;
      default:
        return pick<unknown>([{ any: 'thing' }, 'x', 3, null]);
    }
  }

  function value(type: OutputType, set: SelectionSet | undefined, depth: number): unknown {
    if (isNonNullType(type))
      return fault() && random() < 0.5 ? null : value(type.ofType as OutputType, set, depth);
    if (random() < faults / 2) return null;
    if (isListType(type)) {
      if (fault() && random() < 0.2) return value(type.ofType as OutputType, set, depth); // not a list
      const n = depth > 3 ? 0 : Math.floor(random() * 4);
      return Array.from({ length: n }, () => value(type.ofType as OutputType, set, depth + 1));
    }
    if (isCompositeType(type)) {
      if (fault() && random() < 0.1) return pick<unknown>(['str', 5, [{}]]);
      return object(type, set!, depth + 1);
    }
    return leaf(type as NamedType);
  }

  function object(type: CompositeType, set: SelectionSet, depth: number): Record<string, unknown> {
    const candidates = possible(type);
    const runtime = candidates.length ? pick(candidates) : type;
    const out: Record<string, unknown> = random() < 0.3 ? Object.create(null) : {};
    const abstract = !isObjectType(type);
    if (abstract || random() < 0.4) out.__typename = runtime.name;
    if (fault() && random() < 0.3)
      out.__typename = pick<unknown>(['Nope', 'String', 'Level', 'Query', 7, '', type.name]);
    fill(out, runtime, set, depth);
    if (random() < 0.2) out.extra = 'key field the planner asked for';
    return out;
  }

  function fill(out: Record<string, unknown>, runtime: CompositeType, set: SelectionSet, depth: number) {
    for (const selection of set.selections()) {
      if (selection.kind === 'FieldSelection') {
        const field = selection.element;
        const name = field.responseName();
        if (field.name === '__typename' || field.definition.isSchemaIntrospectionField()) {
          if (field.name === '__typename' && name !== '__typename' && random() < 0.5)
            out[name] = runtime.name;
          continue;
        }
        if (fault() && random() < 0.3) continue; // missing
        if (Object.prototype.hasOwnProperty.call(out, name) && random() < 0.7) continue;
        const v = value(field.definition.type as OutputType, selection.selectionSet, depth);
        Object.defineProperty(out, name, { value: v, enumerable: true, writable: true, configurable: true });
      } else {
        fill(out, runtime, selection.selectionSet, depth);
      }
    }
  }

  return (operation: Operation) =>
    object(schema.schemaDefinition.rootType(operation.rootKind)!, operation.selectionSet, 0);
}

type Outcome =
  | { threw: string }
  | { data: string; errors: { message: string; path?: readonly (string | number)[]; code?: unknown }[] };

const introspection = (selection: FieldSelection) => ({ introspected: selection.element.responseName() });

function outcome(
  run: () => {
    data: unknown;
    errors: readonly {
      message: string;
      path?: readonly (string | number)[];
      extensions?: Record<string, unknown>;
    }[];
  },
): Outcome {
  try {
    const { data, errors } = run();
    return {
      data: JSON.stringify(data) ?? 'undefined',
      errors: errors.map((e) => ({ message: e.message, path: e.path, code: e.extensions?.code })),
    };
  } catch (err) {
    return { threw: (err as Error).message };
  }
}

/** Counts of what the cases exercised, so that a generator gone quiet fails the test. */
interface Tally {
  cases: number;
  clean: number;
  withErrors: number;
  nullData: number;
  threw: number;
}

function compare(
  operation: Operation,
  inputs: Record<string, unknown>[],
  variables: (Record<string, unknown> | undefined)[],
  tally: Tally,
) {
  inputs.forEach((input, i) => {
    const args = { operation, variables: variables[i], input, introspectionHandling: introspection };
    const theirs = outcome(() => computeResponse(args));
    const ours = outcome(() => shapeResponse(args));
    if (JSON.stringify(ours) !== JSON.stringify(theirs)) {
      // The one case's whole story, for whoever reads the failure.
      expect({
        operation: operation.toString(),
        input: JSON.stringify(input),
        variables: variables[i],
        ours,
      }).toEqual({
        operation: operation.toString(),
        input: JSON.stringify(input),
        variables: variables[i],
        ours: theirs,
      });
    }
    tally.cases++;
    if ('threw' in theirs) tally.threw++;
    else if (theirs.data === 'null') tally.nullData++;
    else if (theirs.errors.length) tally.withErrors++;
    else tally.clean++;
  });
}

const variableChoices: (Record<string, unknown> | undefined)[] = [
  undefined,
  {},
  { a: true },
  { a: false },
  { a: true, b: false },
  { a: false, b: true },
  { a: false, b: null },
  { a: 'yes' },
  { a: true, b: undefined },
  { a: true, b: 'no' },
  { a: false, b: 'no' },
];

describe('result shaping: ours gives what @apollo/gateway computeResponse gives', () => {
  test('on a schema with interfaces, a union, enums, a custom scalar and nested lists', () => {
    const schema = buildSchema(SDL);
    const tally: Tally = { cases: 0, clean: 0, withErrors: 0, nullData: 0, threw: 0 };
    SYNTHETIC.forEach((query, q) => {
      const operation = parseOperation(schema, query);
      for (const faults of [0, 0.05, 0.3]) {
        const random = rng(1000 * q + Math.round(faults * 100));
        const make = generator(schema, random, faults);
        const inputs = Array.from({ length: 150 }, () => make(operation));
        const variables = inputs.map(() => variableChoices[Math.floor(random() * variableChoices.length)]);
        compare(operation, inputs, variables, tally);
      }
    });
    // Every kind of outcome was met, many times.
    expect(tally.cases).toBe(SYNTHETIC.length * 3 * 150);
    expect(tally.clean).toBeGreaterThan(500);
    expect(tally.withErrors).toBeGreaterThan(300);
    expect(tally.nullData).toBeGreaterThan(100);
    expect(tally.threw).toBeGreaterThan(100);
  });

  test("on our supergraph's API schema, with the dashboard's and the explorer's queries", () => {
    const supergraph = Supergraph.build(
      readFileSync(join(__dirname, '../../schema/supergraph.graphql'), 'utf8'),
    );
    const schema = supergraph.apiSchema();
    const queries = [
      ...readdirQueries(join(__dirname, '../../gateway/src/dashboard')),
      ...readdirQueries(join(__dirname, '../../gateway/src/saved-queries')),
    ];
    expect(queries.length).toBeGreaterThan(3);
    const tally: Tally = { cases: 0, clean: 0, withErrors: 0, nullData: 0, threw: 0 };
    queries.forEach(({ document, operationName }, q) => {
      const operation = operationFromDocument(schema, document, { operationName, validate: false });
      for (const faults of [0, 0.1]) {
        const random = rng(77 + 10 * q + faults * 10);
        const make = generator(schema, random, faults);
        const inputs = Array.from({ length: 60 }, () => make(operation));
        compare(
          operation,
          inputs,
          inputs.map(() => ({})),
          tally,
        );
      }
    });
    expect(tally.clean).toBeGreaterThan(50);
    expect(tally.withErrors + tally.nullData).toBeGreaterThan(50);
  });

  test('null and absent input give what they were', () => {
    const operation = parseOperation(buildSchema(SDL), '{ version }');
    for (const input of [null, undefined]) {
      const args = { operation, input, introspectionHandling: introspection };
      expect(shapeResponse(args)).toEqual(computeResponse(args));
    }
  });
});

describe('operations kept across requests (memoizeExecutionOperations)', () => {
  const schema = buildSchema(SDL);
  const document = parse(
    'query Q { organization { ...Org } } fragment Org on Organization { id name } fragment Unused on Budget { year }',
  );
  const [op, ...fragments] = document.definitions;

  test("executeQueryPlan's call shape is built once per schema and operation node", () => {
    let builds = 0;
    const memoized = memoizeExecutionOperations((s, d, o) => {
      builds++;
      return operationFromDocument(s, d, o);
    });
    // As executeQueryPlan calls it: a new document object and array each time, the same nodes.
    const a = memoized(schema, { kind: document.kind, definitions: [op, ...fragments] }, { validate: false });
    const b = memoized(schema, { kind: document.kind, definitions: [op, ...fragments] }, { validate: false });
    expect(b).toBe(a);
    expect(builds).toBe(1);
    // Other fragments, another schema, or any other kind of call: built again.
    memoized(schema, { kind: document.kind, definitions: [op, fragments[0]] }, { validate: false });
    expect(builds).toBe(2);
    memoized(buildSchema(SDL), { kind: document.kind, definitions: [op, fragments[0]] }, { validate: false });
    expect(builds).toBe(3);
    memoized(schema, document, { operationName: 'Q' });
    memoized(schema, document, { operationName: 'Q' });
    memoized(schema, { kind: document.kind, definitions: [op, ...fragments] });
    expect(builds).toBe(6);
  });

  test('a build that throws is not kept', () => {
    let builds = 0;
    const memoized = memoizeExecutionOperations((s, d, o) => {
      builds++;
      return operationFromDocument(s, d, o);
    });
    const bad = parse('{ organization { ...Missing } }');
    for (let i = 0; i < 2; i++) {
      expect(() =>
        memoized(schema, { kind: bad.kind, definitions: [...bad.definitions] }, { validate: false }),
      ).toThrow(/Missing/);
    }
    expect(builds).toBe(2);
  });

  test('a kept operation shapes answers as a fresh one does, request after request', () => {
    const memoized = memoizeExecutionOperations(operationFromDocument);
    const make = generator(schema, rng(5), 0.1);
    for (let i = 0; i < 50; i++) {
      const kept = memoized(
        schema,
        { kind: document.kind, definitions: [op, ...fragments] },
        { validate: false },
      );
      const fresh = operationFromDocument(
        schema,
        { kind: document.kind, definitions: [op, ...fragments] },
        { validate: false },
      );
      const input = make(fresh);
      const a = outcome(() =>
        shapeResponse({ operation: kept, input, introspectionHandling: introspection }),
      );
      const b = outcome(() =>
        computeResponse({ operation: fresh, input, introspectionHandling: introspection }),
      );
      expect(a).toEqual(b);
    }
  });
});

/** The operations of a directory's `.graphql` files, each with its document. */
function readdirQueries(dir: string): { document: DocumentNode; operationName?: string }[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.graphql'))
    .flatMap((f) => {
      const document = parse(readFileSync(join(dir, f), 'utf8'));
      return document.definitions.flatMap((d) =>
        d.kind === Kind.OPERATION_DEFINITION ? [{ document, operationName: d.name?.value }] : [],
      );
    });
}
